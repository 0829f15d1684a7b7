// Tessera's federation conformance set (issue 15 item 3): the shape of a case, and the fixture that runs one.
//
// A case is a few small subgraphs (SDL + resolvers over tiny static data) and checks: an operation with the answer
// the federation spec gives, written by hand. The fixture serves all subgraphs of a case from ONE child process
// (harness/conformance-server.ts, real HTTP servers on loopback, each recording what it received), composes them
// with @apollo/composition, and starts a real gateway process per engine on the composed supergraph.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { getJson, gql } from './http.ts';
import type { Check, ConformanceCase, Expected, Received } from './conformance-case.ts';
import { conformanceServerScript } from './conformance-server.ts';
import { runCli, runScript, type Proc } from './process.ts';
import { composeOrThrow } from './stack.ts';

export type * from './conformance-case.ts';
export { defineCase } from './conformance-case.ts';

/** The engines a gateway can run (`engine:` in the gateway config). */
export const engines = ['tessera', 'apollo'] as const;
export type EngineName = (typeof engines)[number];

/** A process start is ~1 s alone; on a 2-core box shared with other suites it has taken 20 s. */
const START_TIMEOUT_MS = 60_000;

const casesDir = fileURLToPath(new URL('../test/conformance/cases/', import.meta.url));
export const caseFile = (id: string): string => join(casesDir, `${id}.ts`);

/** The subgraphs of one case, each a real HTTP server, all in one child process. */
export interface CaseSubgraphs extends AsyncDisposable {
  readonly urls: Readonly<Record<string, string>>;
  readonly supergraphFile: string;
  received(): Promise<Record<string, Received[]>>;
  reset(): Promise<void>;
}

export async function startCaseSubgraphs(c: ConformanceCase): Promise<CaseSubgraphs> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-conformance-${c.id}-`));
  const proc = runScript(conformanceServerScript, [caseFile(c.id)]);
  const dispose = async () => {
    await proc.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const line = await proc.waitForLog('conformance subgraphs listening', START_TIMEOUT_MS);
    const urls = line['urls'] as Record<string, string>;
    const admin = String(line['admin']);
    const supergraphFile = join(dir, 'supergraph.graphql');
    writeFileSync(
      supergraphFile,
      composeOrThrow(Object.entries(c.subgraphs).map(([name, s]) => ({ name, url: urls[name]!, sdl: s.sdl }))),
    );
    return {
      urls,
      supergraphFile,
      received: async () => (await getJson(`${admin}/_received`)).body as Record<string, Received[]>,
      reset: async () => void (await fetch(`${admin}/_reset`, { method: 'POST' })),
      [Symbol.asyncDispose]: dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

export interface CaseGateway extends AsyncDisposable {
  readonly url: string;
  readonly proc: Proc;
}

/** A real gateway process on the case's supergraph, running `engine`. */
export async function startCaseGateway(subgraphs: CaseSubgraphs, engine: EngineName): Promise<CaseGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-conformance-gw-'));
  const config: Record<string, unknown> = {
    engine,
    server: { port: 0, host: '127.0.0.1' },
    metrics: { enabled: false },
    supergraph: { file: subgraphs.supergraphFile, watch: false },
    // One attempt per fetch: the fetch counts a case asserts are the plan's, not the retry policy's.
    subgraphs: { all: { retry: { maxAttempts: 1 } } },
    log: { level: 'info', requests: false },
  };
  const configFile = join(dir, 'tessera.yaml');
  writeFileSync(configFile, stringify(config));
  // TESSERA_ENGINE overrides `engine:`; an inherited one (npm test sets it per e2e run) must not pick the engine here.
  const proc = runCli(['gateway', '--config', configFile], { env: { TESSERA_ENGINE: engine } });
  const dispose = async () => {
    await proc.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const listening = await proc.waitForLog(
      (l) => l['msg'] === 'gateway listening' || (typeof l['level'] === 'number' && l['level'] >= 50),
      START_TIMEOUT_MS,
    );
    if (listening['msg'] !== 'gateway listening')
      throw new Error(`gateway did not start: ${JSON.stringify(listening)}`);
    // A column of the conformance table is only worth something if that engine really answered it.
    if (listening['engine'] !== engine)
      throw new Error(`gateway runs engine ${String(listening['engine'])}, not ${engine}`);
    return { url: String(listening['url']), proc, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** What the client saw: the whole body, with errors reduced to what a case may assert (path and code). */
export interface Outcome {
  readonly status: number;
  readonly data: unknown;
  readonly errors?: Array<{ path: ReadonlyArray<string | number> | null; code: string | null; message: string }>;
}

export async function runCheck(gatewayUrl: string, check: Check): Promise<Outcome> {
  const res = await gql(gatewayUrl, { query: check.query, variables: check.variables ?? {} });
  const body = (res.body ?? {}) as { data?: unknown; errors?: Array<Record<string, any>> };
  const out: Outcome = { status: res.status, data: body.data };
  if (body.errors)
    return {
      ...out,
      errors: body.errors.map((e) => ({
        path: Array.isArray(e['path']) ? (e['path'] as Array<string | number>) : null,
        code: typeof e['extensions']?.code === 'string' ? (e['extensions'].code as string) : null,
        message: String(e['message']),
      })),
    };
  return out;
}

/**
 * The differences between what a client saw and what the spec says, as lines a person can read (empty when it
 * conforms). Errors are matched by path; an expected error with `codes` also needs one of those codes.
 */
export function differences(check: Check, outcome: Outcome, received: Record<string, Received[]> | null): string[] {
  const alternatives: readonly Expected[] = Array.isArray(check.expect) ? check.expect : [check.expect as Expected];
  // The answer matches one of the allowed ones, or the differences from each are reported.
  const perAlternative = alternatives.map((expect) => answerDifferences(expect, outcome));
  const diffs: string[] = perAlternative.some((d) => d.length === 0)
    ? []
    : perAlternative.length === 1
      ? perAlternative[0]!
      : perAlternative.flatMap((d, i) => d.map((line) => `(answer ${i + 1} of ${perAlternative.length}) ${line}`));
  if (received) {
    for (const [subgraph, n] of Object.entries(check.fetches ?? {})) {
      const got = received[subgraph]?.length ?? 0;
      if (got !== n) diffs.push(`${subgraph} received ${got} requests, expected ${n}`);
    }
    for (const [subgraph, n] of Object.entries(check.representations ?? {})) {
      // Any list variable of typed objects: engines name and split the `_entities` variables their own way.
      const reps = (received[subgraph] ?? []).flatMap((r) =>
        Object.values(r.variables ?? {}).flatMap((v) =>
          Array.isArray(v) ? v.filter((x) => typeof x === 'object' && x !== null && '__typename' in x) : [],
        ),
      );
      if (reps.length !== n)
        diffs.push(`${subgraph} received ${reps.length} representations, expected ${n}: ${JSON.stringify(reps)}`);
    }
  }
  return diffs;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  // Key order matters: a GraphQL response follows the selection order.
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k, i) => k === kb[i] && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

function answerDifferences(expect: Expected, outcome: Outcome): string[] {
  const diffs: string[] = [];
  const status = expect.status ?? 200;
  if (outcome.status !== status) diffs.push(`HTTP status ${outcome.status}, expected ${status}`);
  if (!deepEqual(outcome.data, expect.data))
    diffs.push(`data: got ${JSON.stringify(outcome.data)}, expected ${JSON.stringify(expect.data)}`);
  const expectedErrors = expect.errors ?? [];
  const gotErrors = [...(outcome.errors ?? [])];
  for (const want of expectedErrors) {
    const i = gotErrors.findIndex(
      (g) =>
        deepEqual(g.path, want.path) && (want.codes === undefined || (g.code !== null && want.codes.includes(g.code))),
    );
    if (i < 0)
      diffs.push(
        `missing error at ${JSON.stringify(want.path)}${want.codes ? ` with code in ${want.codes.join('|')}` : ''}`,
      );
    else gotErrors.splice(i, 1);
  }
  for (const extra of gotErrors)
    diffs.push(`unexpected error at ${JSON.stringify(extra.path)} (${extra.code}): ${extra.message}`);
  return diffs;
}
