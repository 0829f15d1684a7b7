// Child processes of the benchmark scripts: start one, wait for its `listening` log line, and
// make sure none outlives the script.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { supergraphForPlanner } from '../gateway/engine/apollo/security-features.ts';
import { composeSupergraph } from '../supergraph/compose.ts';

export const root = fileURLToPath(new URL('../', import.meta.url));

export interface Running {
  name: string;
  child: ChildProcess;
  url: string;
  line: Record<string, unknown>;
}
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** Runs `node …args`, pinned to `cpu` with taskset when given; resolves on its `listening` line. */
export function start(
  name: string,
  args: string[],
  env: Record<string, string>,
  cpu: string | null = null,
  timeoutMs = 60_000,
): Promise<Running> {
  const [cmd, argv] = cpu ? ['taskset', ['-c', cpu, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs} ms\n${err.slice(-2000)}`)),
      timeoutMs,
    );
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      for (const l of out.split('\n')) {
        if (!l.startsWith('{')) continue;
        try {
          const line = JSON.parse(l) as Record<string, unknown>;
          if (line['msg'] === 'listening' || line['msg'] === 'gateway listening') {
            clearTimeout(timer);
            resolve({ name, child, url: String(line['url'] ?? ''), line });
          }
        } catch {}
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening\n${err.slice(-2000)}`));
    });
  });
}

export { freePort } from '../harness/ports.ts';

/** Where each benchmark backend keeps a subgraph's SDL (see `Backend` in queries.ts). */
export const schemaFile = {
  example: (name: string) => `${root}subgraphs/${name}/schema.graphql`,
  public: (name: string) => `${root}bench/public/${name}.graphql`,
} as const;

/** The process that serves a backend's four subgraphs and prints their URLs. */
export const subgraphsEntry = {
  example: `${root}bench/subgraphs.ts`,
  public: `${root}bench/public/subgraphs.ts`,
} as const;

/** Composes the subgraphs at `urls` (as the backend's subgraphs process reports them) into `file`. */
export function writeSupergraph(
  urls: Record<string, string>,
  file: string,
  plannerFile: string,
  sdlFile: (name: string) => string = schemaFile.example,
): void {
  const composed = composeSupergraph(
    Object.entries(urls).map(([name, url]) => ({ name, url, sdl: readFileSync(sdlFile(name), 'utf8') })),
  );
  if (!composed.ok) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  writeFileSync(file, composed.supergraphSdl);
  // Plain @apollo/gateway refuses a supergraph that links @authenticated/@requiresScopes/@policy
  // `for: SECURITY` (it cannot enforce them). The baselines get the same SDL without that purpose:
  // they plan the same operations and ignore the directives, as a team without Tessera would.
  writeFileSync(plannerFile, supergraphForPlanner(composed.supergraphSdl));
}

/** Stops a child and waits for it to exit. */
export function stop(running: Running, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    running.child.once('exit', () => resolve());
    running.child.kill(signal);
  });
}
