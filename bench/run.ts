// `npm run bench`: the same load against each target, in one run, in alternating rounds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ensureDemoKeys, mintDemoToken } from '../bin/demo-token.ts';
import { RedisServer, redisAvailable } from '../harness/redis.ts';
import { freePort, root, schemaFile, start, stop, subgraphsEntry, writeSupergraph, type Running } from './processes.ts';
import { queries, type Backend, type QueryName } from './queries.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const work = here('./.work/');

/**
 * What each target runs. `tessera*` are `tessera gateway` with bench/configs/<config>.yaml and the
 * `engine` key (and tracing, for the traced ones) set per target, written to .work/<target>.yaml,
 * so both engines share one config.
 */
const targetSpecs = {
  /** The subgraph requests a gateway makes for the query, replayed by a bare proxy: the floor. */
  direct: { kind: 'direct' },
  /** Plain @apollo/gateway + @apollo/server with their defaults. */
  'apollo-gateway': { kind: 'baseline', entry: 'apollo-gateway.ts' },
  /** Hive Gateway with its defaults (the JS query planner of the stitching runtime). */
  hive: { kind: 'baseline', entry: 'hive-gateway.ts' },
  /** Hive Gateway with Hive Router's Rust query planner (@graphql-hive/router-runtime). */
  'hive-router': { kind: 'baseline', entry: 'hive-gateway.ts', env: { HIVE_RUNTIME: 'router' } },
  'tessera-apollo': { kind: 'tessera', engine: 'apollo', config: 'tessera' },
  tessera: { kind: 'tessera', engine: 'tessera', config: 'tessera' },
  'tessera-apollo-policies': { kind: 'tessera', engine: 'apollo', config: 'tessera-policies' },
  'tessera-policies': { kind: 'tessera', engine: 'tessera', config: 'tessera-policies' },
  /**
   * `tessera` with tracing on (sampler 1.0 or 0.1), exporting OTLP/HTTP protobuf to a sink in this
   * process that reads and drops each batch (what a collector costs the gateway: the export
   * requests, not the collector's work).
   */
  'tessera-traced': { kind: 'tessera', engine: 'tessera', config: 'tessera', samplerRatio: 1 },
  'tessera-traced-10': { kind: 'tessera', engine: 'tessera', config: 'tessera', samplerRatio: 0.1 },
} as const satisfies Record<
  string,
  | { kind: 'direct' }
  | { kind: 'baseline'; entry: string; env?: Record<string, string> }
  | { kind: 'tessera'; engine: 'apollo' | 'tessera'; config: string; samplerRatio?: number }
>;
type TargetName = keyof typeof targetSpecs;
const allTargets = Object.keys(targetSpecs) as TargetName[];
/** Not in the default run: `--targets tessera,tessera-traced,tessera-traced-10` measures tracing's cost. */
const defaultTargets = allTargets.filter((t) => !t.startsWith('tessera-traced'));
/** Third-party gateways: skipped with the reason printed when they cannot start; not ours to fail on. */
const isOurs = (name: string) => name.startsWith('tessera');

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    targets: { type: 'string', default: defaultTargets.join(',') },
    query: { type: 'string' },
    reference: { type: 'string', default: 'hive-router' },
    quick: { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    'write-expected': { type: 'boolean', default: false },
  },
});
// --quick is the CI correctness smoke: every target × every query, a short burst of concurrent
// requests whose every body is checked; no warm-up and no timings.
opts.query ??= opts.quick ? 'all' : 'standard';
const quickBurst = { requests: 40, connections: 8 };
const duration = Number(opts.duration);
const warmup = Number(opts.warmup);
const connections = Number(opts.connections);
const rounds = Number(opts.rounds);
const targetNames = opts.targets!.split(',').map((t) => t.trim()) as TargetName[];
for (const t of targetNames)
  if (!allTargets.includes(t)) throw new Error(`unknown target "${t}"; choose from ${allTargets.join(', ')}`);
const queryNames = (opts.query === 'all' ? Object.keys(queries) : opts.query!.split(',')) as QueryName[];
for (const q of queryNames)
  if (!(q in queries)) throw new Error(`unknown query "${q}"; choose from ${Object.keys(queries).join(', ')}, all`);
const referenceName = [opts.reference!, 'apollo-gateway', ...targetNames].find((t) =>
  targetNames.includes(t as TargetName),
)!;

const log = (s: string) => process.stderr.write(`${s}\n`);

// ---- core layout -------------------------------------------------------------------------------
/** Gateway, subgraphs and load generator on separate cores where the machine has them. */
const machineCores = availableParallelism(); // read before this process pins itself
function coreLayout(): { gateway: string | null; subgraphs: string | null; load: string | null; note: string } {
  const n = machineCores;
  const taskset = spawnSync('taskset', ['-V']).status === 0;
  if (opts['no-pin'] || !taskset || n < 2)
    return {
      gateway: null,
      subgraphs: null,
      load: null,
      note: `${n} cores, not pinned${taskset ? '' : ' (no taskset)'}`,
    };
  if (n === 2)
    return {
      gateway: '1',
      subgraphs: '0',
      load: '0',
      note: '2 cores: gateway on cpu 1; subgraphs + load generator on cpu 0',
    };
  if (n === 3)
    return { gateway: '0', subgraphs: '1', load: '2', note: '3 cores: gateway cpu 0, subgraphs cpu 1, load cpu 2' };
  return {
    gateway: '0',
    subgraphs: '1',
    load: `2-${n - 1}`,
    note: `${n} cores: gateway cpu 0, subgraphs cpu 1, load generator cpus 2-${n - 1}`,
  };
}
const layout = coreLayout();
if (layout.load) spawnSync('taskset', ['-a', '-p', '-c', layout.load, String(process.pid)]);

process.on('SIGINT', () => process.exit(130));

function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * CPU time (user + system, all threads) a process has used, in ms, from /proc/<pid>/stat. The
 * gateway's CPU per request is the delta over a measured round divided by the requests completed:
 * on a shared 2-core machine it is the figure that noise moves least (a stolen core lowers req/s,
 * not the CPU the gateway spends per request).
 */
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)`, which may itself hold spaces: utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** Request headers per target URL: the policy targets get a bearer token, the others none. */
const targetHeaders = new Map<string, Record<string, string>>();

async function post(url: string, query: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...targetHeaders.get(url) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, text: await res.text() };
}

// ---- set-up ------------------------------------------------------------------------------------
mkdirSync(work, { recursive: true });
mkdirSync(here('./results/'), { recursive: true });
log(
  opts.quick
    ? `tessera bench --quick: ${queryNames.join(', ')} × ${targetNames.join(', ')}; ${quickBurst.requests} checked requests each`
    : `tessera bench: ${queryNames.join(', ')} × ${targetNames.join(', ')}; ${rounds} round(s) of ${duration}s, ${connections} connections, ${warmup}s warm-up`,
);
log(`layout: ${layout.note}`);

let redis: RedisServer | null = null;
process.on('exit', () => void redis?.kill());
/**
 * Shared by the policy targets (started concurrently, hence one promise): a real Redis for the rate
 * limits, and a key pair whose JWKS the configs read, with a token carrying the scopes and claims
 * the guarded fields need.
 */
let policySetup: Promise<{ redisUrl: string; bearer: string }> | null = null;
async function setUpPolicies(): Promise<{ redisUrl: string; bearer: string }> {
  if (!redisAvailable()) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  redis = await new RedisServer().start();
  await ensureDemoKeys(`${work}bench-issuer.private.jwk.json`, `${work}bench-issuer.jwks.json`);
  const bearer = await mintDemoToken(`${work}bench-issuer.private.jwk.json`, {
    sub: 'bench',
    scope: 'read:email',
    claims: { role: 'staff', plan: 'bench' },
    ttlSec: 24 * 3600,
  });
  return { redisUrl: redis.url, bearer };
}

/** One per traced target and subgraph set (targets restart per set). */
const sinks: Array<[TargetName, { url: string; requests: number; bytes: number }]> = [];

/** An OTLP/HTTP endpoint that reads every export request, counts it, answers 200 and keeps nothing. */
async function otlpSink(): Promise<{ url: string; requests: number; bytes: number }> {
  const sink = { url: '', requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (sink.bytes += c.length));
    req.on('end', () => {
      sink.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return sink;
}

/** Starts one target on the backend whose supergraph is in .work/; null for `direct` (per query). */
async function startTarget(name: TargetName): Promise<Running | null> {
  const spec = targetSpecs[name];
  const port = String(await freePort());
  const supergraph = `${work}supergraph.graphql`;
  switch (spec.kind) {
    case 'direct':
      return null;
    case 'baseline':
      // Plain @apollo/gateway cannot load the authorization directives `for: SECURITY` (see processes.ts).
      return start(
        name,
        [here(`./baselines/${spec.entry}`)],
        { PORT: port, SUPERGRAPH_FILE: `${work}supergraph.planner.graphql`, ...('env' in spec ? spec.env : {}) },
        layout.gateway,
      );
    case 'tessera': {
      const config = `${work}${name}.yaml`;
      // The base config's relative paths still resolve from .work/ (they point into ../.work/).
      const yaml = parseYaml(readFileSync(here(`./configs/${spec.config}.yaml`), 'utf8')) as Record<string, unknown>;
      yaml['engine'] = spec.engine;
      if ('samplerRatio' in spec) {
        const sink = await otlpSink();
        sinks.push([name, sink]);
        yaml['telemetry'] = {
          tracing: {
            enabled: true,
            samplerRatio: spec.samplerRatio,
            otlp: { endpoint: sink.url, protocol: 'http/protobuf' },
          },
        };
      }
      writeFileSync(config, stringifyYaml(yaml));
      const env: Record<string, string> = { PORT: port, SUPERGRAPH_FILE: supergraph };
      if (spec.config === 'tessera-policies') {
        // Every policy on: JWT auth (a key pair made here), authorization, limits, cost, and rate
        // limits in a real Redis (a round trip per request, as in production).
        const { redisUrl } = await (policySetup ??= setUpPolicies());
        env['REDIS_URL'] = redisUrl;
      }
      const running = await start(name, [`${root}bin/tessera.ts`, 'gateway', '--config', config], env, layout.gateway);
      if (spec.config === 'tessera-policies')
        targetHeaders.set(running.url, { authorization: `Bearer ${(await policySetup!).bearer}` });
      return running;
    }
  }
}

/** The subgraph requests a gateway makes for `query`, in arrival order. */
async function capturePlan(
  subgraphUrls: Record<string, string>,
  query: string,
  via: string,
): Promise<Array<{ url: string; body: string }>> {
  const origins = Object.values(subgraphUrls).map((u) => u.replace(/\/graphql$/, ''));
  await Promise.all(origins.map((o) => fetch(`${o}/_stats/reset`, { method: 'POST' })));
  await Promise.all(origins.map((o) => fetch(`${o}/_stats/recording`, { method: 'POST', body: '{"on":true}' })));
  await post(via, query);
  const captured: Array<{ url: string; body: string; at: number }> = [];
  for (const url of Object.values(subgraphUrls)) {
    const stats = (await (await fetch(url.replace(/\/graphql$/, '/_stats'))).json()) as {
      received: Array<{ query: string; variables: unknown; operationName: string | null; at: number }>;
    };
    for (const r of stats.received)
      captured.push({
        url,
        at: r.at,
        body: JSON.stringify({ query: r.query, variables: r.variables, operationName: r.operationName }),
      });
  }
  await Promise.all(origins.map((o) => fetch(`${o}/_stats/recording`, { method: 'POST', body: '{"on":false}' })));
  return captured.sort((a, b) => a.at - b.at).map(({ url, body }) => ({ url, body }));
}

// ---- load --------------------------------------------------------------------------------------
interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  mismatches: number;
  total: number;
  /** Gateway CPU time over the round (user + system), ms. */
  cpuMs: number;
}
const wrongBodies = new Map<string, string>();

function load(
  url: string,
  query: string,
  expected: string,
  run: { seconds: number; connections: number } | { requests: number; connections: number },
): Promise<Omit<Sample, 'cpuMs'>> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...targetHeaders.get(url) },
        body: JSON.stringify({ query }),
        connections: run.connections,
        ...('seconds' in run ? { duration: run.seconds } : { amount: run.requests }),
        // Every response body is compared with the target's first answer, itself checked against
        // bench/expected/<query>.json: a fast wrong answer loses. The first wrong body is kept.
        verifyBody: (body: string) => {
          if (body === expected) return true;
          if (!wrongBodies.has(url)) wrongBodies.set(url, body);
          return false;
        },
      } as autocannon.Options,
      (err, r) => {
        if (err) return reject(err);
        const res = r as autocannon.Result & { mismatches?: number };
        resolve({
          rps: res.requests.average,
          p50: res.latency.p50,
          p99: res.latency.p99,
          errors: res.errors + res.timeouts,
          non2xx: res.non2xx,
          mismatches: res.mismatches ?? 0,
          total: res.requests.total,
        });
      },
    );
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sum = (rs: Sample[], k: keyof Sample) => rs.reduce((a, s) => a + s[k], 0);

interface TargetResult {
  rounds: Sample[];
  median: Sample;
  /** Gateway CPU ms per completed request over all measured rounds. */
  cpuMsPerRequest: number;
  /** Subgraph requests the gateway made for one client request. */
  fetches: number;
}
const results: Record<string, Record<string, TargetResult | { skipped: string }>> = {};
const fetchesPerTarget: Record<string, Record<string, number>> = {};
const memory: Record<string, Record<string, number>> = {};
// The exit code gates on Tessera's own correctness; a glitch of a third-party target is reported
// (with its first wrong body saved) but does not fail the run.
let failures = 0;
let thirdPartyProblems = 0;
const problem = (name: string, message: string) => {
  log(`✗ ${message}`);
  if (isOurs(name)) failures++;
  else thirdPartyProblems++;
};

async function runBackend(backend: Backend, backendQueries: QueryName[]): Promise<void> {
  log(`\n== ${backend} subgraphs`);
  const subgraphs = await start(
    `${backend} subgraphs`,
    [subgraphsEntry[backend]],
    { BENCH_RECORD: '1' },
    layout.subgraphs,
  );
  const subgraphUrls = subgraphs.line['urls'] as Record<string, string>;
  writeSupergraph(subgraphUrls, `${work}supergraph.graphql`, `${work}supergraph.planner.graphql`, schemaFile[backend]);

  const targets = new Map<TargetName, Running>();
  const skipped = new Map<TargetName, string>();
  // Started together (start-up is mostly waiting); each is idle until its turn.
  await Promise.all(
    targetNames.map(async (name) => {
      try {
        const running = await startTarget(name);
        if (running) targets.set(name, running);
      } catch (err) {
        if (isOurs(name) && !(name.endsWith('-policies') && !redisAvailable())) throw err;
        skipped.set(name, (err as Error).message.split('\n')[0]!);
        log(`skipping ${name}: ${skipped.get(name)}`);
      }
    }),
  );

  for (const q of backendQueries) {
    const { query } = queries[q];
    const expectedFile = here(`./expected/${q}.json`);
    let checked: unknown = existsSync(expectedFile) ? JSON.parse(readFileSync(expectedFile, 'utf8')) : undefined;
    if (checked === undefined && !opts['write-expected'])
      throw new Error(`no checked answer for "${q}": ${expectedFile} (write it with --write-expected, then review it)`);

    // Each target's first answer must be the checked one; its later answers must repeat it byte for byte.
    const expected = new Map<string, string>();
    const active: Running[] = [];
    fetchesPerTarget[q] = {};
    for (const name of targetNames) {
      const t = targets.get(name);
      if (!t) continue;
      const plan = await capturePlan(subgraphUrls, query, t.url);
      fetchesPerTarget[q][name] = plan.length;
      const first = await post(t.url, query);
      const body = first.status === 200 ? (JSON.parse(first.text) as unknown) : undefined;
      if (checked === undefined && body && !(body as { errors?: unknown }).errors) {
        checked = body;
        writeFileSync(expectedFile, `${JSON.stringify(body, null, 2)}\n`);
        log(`wrote ${expectedFile} from ${name}: review it before committing`);
      }
      if (first.status !== 200 || !isDeepStrictEqual(body, checked)) {
        writeFileSync(`${work}wrong-${q}-${name}.json`, first.text);
        problem(
          name,
          `${name} answers ${q} with ${first.status}, not the checked answer: ${first.text.slice(0, 300)} … saved to ${work}wrong-${q}-${name}.json`,
        );
        continue;
      }
      expected.set(name, first.text);
      active.push(t);
    }

    let direct: Running | null = null;
    if (targetNames.includes('direct')) {
      // Replays the plan of the first correct target in the order given (tessera first).
      const via = active.find((t) => t.name === 'tessera') ?? active[0];
      if (via) {
        const plan = await capturePlan(subgraphUrls, query, via.url);
        const planFile = `${work}direct-${q}.json`;
        writeFileSync(planFile, JSON.stringify({ hops: plan.map((p) => [p]), response: expected.get(via.name) }));
        direct = await start(
          'direct',
          [here('./direct.ts')],
          { PORT: String(await freePort()), DIRECT_PLAN: planFile },
          layout.gateway,
        );
        fetchesPerTarget[q]['direct'] = plan.length;
        log(`direct replays ${via.name}'s ${plan.length} subgraph requests`);
        const first = await post(direct.url, query);
        expected.set('direct', first.text);
        active.unshift(direct);
      }
    }

    log(`\n${q}: ${queries[q].description}`);
    const samples = new Map<string, Sample[]>(active.map((t) => [t.name, []]));
    const measure = async (t: Running, run: Parameters<typeof load>[3], round: string) => {
      const before = cpuMs(t.child.pid!);
      const s = { ...(await load(t.url, query, expected.get(t.name)!, run)), cpuMs: cpuMs(t.child.pid!) - before };
      samples.get(t.name)!.push(s);
      log(
        `  ${round} ${t.name.padEnd(24)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  CPU ${(s.cpuMs / Math.max(1, s.total)).toFixed(2)} ms/req  errors ${s.errors}  non-2xx ${s.non2xx}  mismatches ${s.mismatches}`,
      );
      if (s.errors || s.non2xx || s.mismatches)
        problem(t.name, `${t.name} on ${q}: ${s.errors} errors, ${s.non2xx} non-2xx, ${s.mismatches} wrong bodies`);
      const wrong = wrongBodies.get(t.url);
      if (wrong !== undefined) {
        wrongBodies.delete(t.url);
        const file = `${work}wrong-${q}-${t.name}.json`;
        writeFileSync(file, wrong);
        log(
          `    first wrong body from ${t.name} (${wrong.length} bytes, expected ${expected.get(t.name)!.length}): ${wrong.slice(0, 300)} … saved to ${file}`,
        );
      }
    };
    if (opts.quick) {
      for (const t of active) await measure(t, quickBurst, 'check');
    } else {
      for (const t of active) {
        process.stderr.write(`  warm-up ${t.name}…`);
        await load(t.url, query, expected.get(t.name)!, { seconds: warmup, connections });
        process.stderr.write(' done\n');
      }
      for (let r = 1; r <= rounds; r++)
        for (const t of r % 2 ? active : [...active].reverse())
          await measure(t, { seconds: duration, connections }, `round ${r}/${rounds}`);
    }

    results[q] = {};
    for (const name of targetNames) {
      const rs = samples.get(name);
      results[q][name] = rs
        ? {
            rounds: rs,
            median: {
              rps: median(rs.map((s) => s.rps)),
              p50: median(rs.map((s) => s.p50)),
              p99: median(rs.map((s) => s.p99)),
              errors: sum(rs, 'errors'),
              non2xx: sum(rs, 'non2xx'),
              mismatches: sum(rs, 'mismatches'),
              total: sum(rs, 'total'),
              cpuMs: sum(rs, 'cpuMs'),
            },
            cpuMsPerRequest: sum(rs, 'cpuMs') / Math.max(1, sum(rs, 'total')),
            fetches: fetchesPerTarget[q][name] ?? 0,
          }
        : { skipped: skipped.get(name) ?? 'wrong answer (see log)' };
    }
    if (direct) {
      (memory[q] ??= {})['direct'] = peakRssBytes(direct.child.pid!);
      await stop(direct);
    }
  }
  for (const [name, t] of targets)
    for (const q of backendQueries) (memory[q] ??= {})[name] = peakRssBytes(t.child.pid!);
  await Promise.all([...targets.values()].map((t) => stop(t)));
  await stop(subgraphs);
}

for (const backend of ['example', 'public'] as const) {
  const qs = queryNames.filter((q) => queries[q].backend === backend);
  if (qs.length) await runBackend(backend, qs);
}

// ---- report ------------------------------------------------------------------------------------
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: machineCores,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  layout: layout.note,
};
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = here(`./results/${stamp}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      startedAt: new Date().toISOString(),
      machine,
      options: { duration, warmup, connections, rounds, targets: targetNames, queries: queryNames, quick: opts.quick },
      results,
      peakRssBytes: memory,
    },
    null,
    2,
  ),
);

const fmt = (n: number, d = 0) => n.toFixed(d);
const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '–');
let md = `\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}. Layout: ${layout.note}.\n`;
md += opts.quick
  ? `Correctness smoke (--quick): ${quickBurst.requests} requests per target and query over ${quickBurst.connections} connections; every body is checked, nothing is timed.\n`
  : `Load: autocannon, ${connections} connections, ${rounds} round(s) × ${duration}s per target (median; CPU summed over the rounds), ${warmup}s warm-up. Ratios are against ${referenceName}.\n`;
for (const q of queryNames) {
  md += `\n**${q}** — ${queries[q].description}\n\n`;
  if (opts.quick) {
    md += `| target | bodies checked | subgraph fetches | errors | non-2xx | wrong bodies |\n| --- | ---: | ---: | ---: | ---: | ---: |\n`;
    for (const name of targetNames) {
      const r = results[q]![name]!;
      md +=
        'median' in r
          ? `| ${name} | ${r.median.total} | ${r.fetches} | ${r.median.errors} | ${r.median.non2xx} | ${r.median.mismatches} |\n`
          : `| ${name} | skipped: ${r.skipped} | | | | |\n`;
    }
    continue;
  }
  const refResult = results[q]![referenceName];
  const ref = refResult && 'median' in refResult ? refResult : undefined;
  const refMem = memory[q]?.[referenceName];
  md += `| target | req/s | vs ${referenceName} | p50 ms | p99 ms | CPU ms/req | CPU vs ${referenceName} | peak RSS MB | RSS vs ${referenceName} | subgraph fetches | errors | non-2xx | wrong bodies |\n`;
  md += `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n`;
  for (const name of targetNames) {
    const r = results[q]![name]!;
    if (!('median' in r)) {
      md += `| ${name} | skipped: ${r.skipped} | | | | | | | | | | | |\n`;
      continue;
    }
    const m = r.median;
    const mem = memory[q]?.[name];
    md += `| ${name} | ${fmt(m.rps)} | ${ratio(m.rps, ref?.median.rps)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ${fmt(r.cpuMsPerRequest, 2)} | ${ratio(r.cpuMsPerRequest, ref?.cpuMsPerRequest)} | ${mem ? fmt(mem / 2 ** 20) : '–'} | ${mem ? ratio(mem, refMem) : '–'} | ${r.fetches} | ${m.errors} | ${m.non2xx} | ${m.mismatches} |\n`;
  }
}
for (const [name, sink] of sinks)
  md += `\n${name}: ${sink.requests} OTLP export requests, ${fmt(sink.bytes / 2 ** 20, 1)} MiB of spans.`;
process.stdout.write(`${md}\nResults: ${file}\n`);
if (thirdPartyProblems)
  log(
    `\n⚠ ${thirdPartyProblems} correctness problem(s) in third-party targets (see above); not counted against Tessera.`,
  );
if (failures) {
  log(`\n${failures} correctness problem(s): errors, non-2xx, wrong bodies or wrong first answers (see above).`);
  process.exit(1);
}
process.exit(0);
