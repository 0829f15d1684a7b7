import { spawn } from 'node:child_process';
import { dirname, delimiter, join } from 'node:path';
import { repoRoot } from './process.ts';

/**
 * The environment for npm, npx and the installed CLI when a test runs them: this Node first on
 * PATH, and none of the outer `npm test`'s npm_* variables (npm_config_local_prefix would point a
 * nested `npm install` at the repository itself).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return {
    ...env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    NODE_ENV: 'test',
    ...extra,
  };
}

export interface Ran {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`) and returns its exit code and output. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr: dropNpmConfigWarnings(stderr) });
    });
  });
}

/** npm's complaint about this machine's global npmrc, which is no output of the command under test. */
function dropNpmConfigWarnings(stderr: string): string {
  return stderr.replace(/^npm warn Unknown (user|global|project|env) config .*\n/gm, '');
}

export interface Service extends AsyncDisposable {
  readonly pid: number;
  readonly exited: Promise<number | string>;
  output(): string;
  /** SIGTERM to the whole process group (npx → sh → node), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Starts a long-running command in its own process group, so stopping it stops npx's children too. */
export function startService(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Service {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  const stop = async () => {
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    signalGroup('SIGKILL'); // anything of the group that outlived its leader
  };
  return { pid: child.pid!, exited, output: () => out, stop, [Symbol.asyncDispose]: stop };
}

/** Polls `url` until it answers 200; fails with the service's output if it exits or `timeoutMs` passes. */
export async function waitForOk(url: string, service: Service, timeoutMs = 60_000): Promise<void> {
  let exited: number | string | undefined;
  void service.exited.then((c) => (exited = c));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`exited (${exited}) before ${url} answered 200:\n${service.output()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${service.output()}`);
}

/** `npm pack` of the repository (its `prepack` builds dist/): the tarball's path and file list. */
export async function packRepo(dest: string): Promise<{ tarball: string; files: string[] }> {
  const res = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: repoRoot, timeoutMs: 300_000 });
  if (res.code !== 0) throw new Error(`npm pack failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
  // The build's own lines come first on stdout, then npm's JSON.
  const json = JSON.parse(res.stdout.slice(res.stdout.search(/^\[$/m))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return { tarball: join(dest, json[0]!.filename), files: json[0]!.files.map((f) => f.path).sort() };
}
