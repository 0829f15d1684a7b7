import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { composeSupergraph } from '../supergraph/compose.ts';
import { writeFileAtomic } from '../supergraph/write-file-atomic.ts';
import { getJson } from './http.ts';
import { repoRoot, runCli, type Proc } from './process.ts';

export type SubgraphName = 'accounts' | 'products' | 'reviews' | 'inventory';
export const allSubgraphs: SubgraphName[] = ['accounts', 'products', 'reviews', 'inventory'];

export interface RunningSubgraphProc {
  name: SubgraphName;
  url: string;
  port: number;
  proc: Proc;
  stats(): Promise<{
    requests: number;
    entityCalls: number;
    entityKeys: number;
    batches: Record<string, { calls: number; keys: number }>;
    received: Array<{ query: string; variables: any; headers: Record<string, string> }>;
  }>;
  resetStats(): Promise<void>;
  fault(
    f: {
      delayMs?: number;
      status?: number;
      hang?: boolean;
      times?: number;
      headers?: Record<string, string>;
      failEvery?: number;
    } | null,
  ): Promise<void>;
}

/** Starts one example subgraph as its own process with the admin endpoints on. */
export async function startSubgraphProc(
  name: SubgraphName,
  port = 0,
  extraArgs: string[] = [],
): Promise<RunningSubgraphProc> {
  const proc = runCli(['subgraph', name, '--port', String(port), '--admin', ...extraArgs]);
  const line = await proc.waitForLog('subgraph listening');
  const url = String(line['url']);
  const base = url.replace(/\/graphql$/, '');
  return {
    name,
    url,
    port: Number(new URL(url).port),
    proc,
    stats: async () => (await getJson(`${base}/_stats`)).body,
    resetStats: async () => void (await fetch(`${base}/_stats/reset`, { method: 'POST' })),
    fault: async (f) =>
      void (await fetch(`${base}/_faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(f ?? {}),
      })),
  };
}

/** A schema edit that must apply: a silent no-op would make the test that relies on it meaningless. */
export function editSdl(sdl: string, from: string, to: string): string {
  if (!sdl.includes(from)) throw new Error(`schema edit does not apply: ${from}`);
  return sdl.replace(from, to);
}

/** The checked-in SDL of an example subgraph, optionally edited (to make an older or broken version). */
export function exampleSdl(name: SubgraphName): string {
  return readFileSync(join(repoRoot, 'subgraphs', name, 'schema.graphql'), 'utf8');
}

export function composeOrThrow(subgraphs: Array<{ name: string; url: string; sdl: string }>): string {
  const result = composeSupergraph(subgraphs);
  if (!result.ok) throw new Error(`composition failed: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.supergraphSdl;
}

export interface Stack extends AsyncDisposable {
  dir: string;
  supergraphFile: string;
  subgraphs: Record<SubgraphName, RunningSubgraphProc>;
  gateway: Proc;
  url: string;
  base: string;
  /** The first gateway's `/metrics` URL, on its own listener (the public port answers 404 there). */
  metricsUrl: string;
  /** Composes the running subgraphs (SDLs optionally edited) and writes the supergraph file atomically. */
  writeSupergraph(edit?: Partial<Record<SubgraphName, (sdl: string) => string>>): void;
  restartSubgraph(name: SubgraphName): Promise<void>;
  /** Another gateway process on the same supergraph, with its own config overrides (disposed with the stack). */
  startGateway(
    config?: Record<string, any>,
    env?: Record<string, string>,
  ): Promise<{ proc: Proc; url: string; base: string; metricsUrl: string }>;
}

export interface StackOptions {
  /** Extra gateway config, merged over the defaults below. */
  config?: Record<string, any>;
  sdlEdits?: Partial<Record<SubgraphName, (sdl: string) => string>>;
  env?: Record<string, string>;
  /** Extra CLI arguments per subgraph (e.g. TLS flags). */
  subgraphArgs?: Partial<Record<SubgraphName, string[]>>;
  /** Start no gateway (the test starts its own with `startGateway`). */
  noGateway?: boolean;
}

/** Four real subgraph processes, a composed supergraph file and a real gateway process. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const started = await Promise.all(allSubgraphs.map((n) => startSubgraphProc(n, 0, opts.subgraphArgs?.[n])));
  const subgraphs = Object.fromEntries(started.map((s) => [s.name, s])) as Record<SubgraphName, RunningSubgraphProc>;
  const supergraphFile = join(dir, 'supergraph.graphql');
  const writeSupergraph = (edit: StackOptions['sdlEdits'] = {}) => {
    const sdl = composeOrThrow(
      allSubgraphs.map((n) => ({
        name: n,
        url: subgraphs[n].url,
        sdl: (edit[n] ?? ((s: string) => s))(exampleSdl(n)),
      })),
    );
    writeFileAtomic(supergraphFile, sdl);
  };
  try {
    writeSupergraph(opts.sdlEdits);
  } catch (err) {
    await Promise.all(started.map((s) => s.proc.kill()));
    throw err;
  }
  const extraGateways: Proc[] = [];
  let gatewayCount = 0;
  const startGateway = async (overrides: Record<string, any> = {}, env: Record<string, string> = {}) => {
    const config = deepMerge(
      {
        server: { port: 0, host: '127.0.0.1' },
        metrics: { port: 0 },
        supergraph: { file: supergraphFile, watchDebounceMs: 50 },
        log: { level: 'info', requests: false },
      },
      overrides,
    );
    const configFile = join(dir, `tessera-${++gatewayCount}.yaml`);
    writeFileSync(configFile, stringify(config));
    const proc = runCli(['gateway', '--config', configFile], { env });
    extraGateways.push(proc);
    const listening = await proc.waitForLog('gateway listening');
    const url = String(listening['url']);
    // Logged before 'gateway listening' when metrics are enabled; '' when they are not.
    return { proc, url, base: url.replace(/\/graphql$/, ''), metricsUrl: String(listening['metricsUrl'] ?? '') };
  };
  let first: Awaited<ReturnType<typeof startGateway>> | null = null;
  if (!opts.noGateway) {
    try {
      first = await startGateway(opts.config, opts.env);
    } catch (err) {
      await Promise.all([...started.map((s) => s.proc.kill()), ...extraGateways.map((g) => g.kill())]);
      throw err;
    }
  }
  const stack: Stack = {
    dir,
    supergraphFile,
    subgraphs,
    gateway: first?.proc as Proc,
    url: first?.url ?? '',
    base: first?.base ?? '',
    metricsUrl: first?.metricsUrl ?? '',
    startGateway,
    writeSupergraph,
    async restartSubgraph(name) {
      const old = subgraphs[name];
      await old.proc.kill();
      subgraphs[name] = await startSubgraphProc(name, old.port, opts.subgraphArgs?.[name]);
    },
    async [Symbol.asyncDispose]() {
      await Promise.all([...extraGateways.map((g) => g.kill()), ...Object.values(subgraphs).map((s) => s.proc.kill())]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

function deepMerge(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof a[k] === 'object' ? deepMerge(a[k], v) : v;
  }
  return out;
}
