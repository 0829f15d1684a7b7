// `npm run bench`: the same load against each target, in one run, in alternating rounds.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { demoIssuer, ensureDemoKeys, mintDemoToken } from '../bin/demo-token.ts';
import { RedisServer, redisAvailable } from '../harness/redis.ts';
import { freePort, root, start, writeSupergraph, type Running } from './processes.ts';
import { queries, type QueryName } from './queries.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const work = here('./.work/');

const allTargets = [
  'direct',
  'baseline',
  'hive',
  'tessera',
  'tessera-policies',
  'tessera-traced',
  'tessera-traced-10',
] as const;
/** Not in the default run: `--targets tessera,tessera-traced,tessera-traced-10` measures tracing's cost. */
const defaultTargets = allTargets.filter((t) => !t.startsWith('tessera-traced'));
type TargetName = (typeof allTargets)[number];

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    targets: { type: 'string', default: defaultTargets.join(',') },
    query: { type: 'string', default: 'standard' },
    quick: { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
  },
});
if (opts.quick) Object.assign(opts, { duration: '2', warmup: '1', rounds: '1', connections: '8', query: 'all' });
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

/** User + system CPU time of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Request headers per target URL: tessera-policies gets a bearer token, the others none. */
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
  `tessera bench: ${queryNames.join(', ')} × ${targetNames.join(', ')}; ${rounds} round(s) of ${duration}s, ${connections} connections, ${warmup}s warm-up`,
);
log(`layout: ${layout.note}`);

const subgraphs = await start('subgraphs', [here('./subgraphs.ts')], { BENCH_RECORD: '1' }, layout.subgraphs);
const subgraphUrls = subgraphs.line['urls'] as Record<string, string>;
const supergraphFile = `${work}supergraph.graphql`;
const plannerSupergraphFile = `${work}supergraph.planner.graphql`;
writeSupergraph(subgraphUrls, supergraphFile, plannerSupergraphFile);
let redis: RedisServer | null = null;
process.on('exit', () => void redis?.kill());

const targets = new Map<TargetName, Running>();
const sinks = new Map<TargetName, { url: string; requests: number; bytes: number }>();

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
const skipped = new Map<TargetName, string>();
async function startTarget(name: TargetName): Promise<void> {
  const port = String(await freePort());
  const env = { PORT: port, SUPERGRAPH_FILE: supergraphFile };
  const plannerEnv = { PORT: port, SUPERGRAPH_FILE: plannerSupergraphFile };
  try {
    switch (name) {
      case 'baseline':
        targets.set(name, await start(name, [here('./baselines/apollo-gateway.ts')], plannerEnv, layout.gateway));
        break;
      case 'hive':
        targets.set(name, await start(name, [here('./baselines/hive-gateway.ts')], plannerEnv, layout.gateway));
        break;
      case 'tessera':
        targets.set(
          name,
          await start(
            name,
            [`${root}bin/tessera.ts`, 'gateway', '--config', here('./configs/tessera.yaml')],
            env,
            layout.gateway,
          ),
        );
        break;
      case 'tessera-policies': {
        // Every policy on: JWT auth (a key pair made here), authorization, limits, cost, and rate
        // limits in a real Redis on the gateway's core (a round trip per request, as in production).
        if (!redisAvailable()) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
        redis = await new RedisServer().start();
        await ensureDemoKeys(`${work}bench-issuer.private.jwk.json`, `${work}bench-issuer.jwks.json`);
        const token = await mintDemoToken(`${work}bench-issuer.private.jwk.json`, {
          sub: 'bench',
          scope: 'read:email',
          claims: { role: 'staff', plan: 'bench' },
          ttlSec: 24 * 3600,
        });
        const running = await start(
          name,
          [`${root}bin/tessera.ts`, 'gateway', '--config', here('./configs/tessera-policies.yaml')],
          { ...env, REDIS_URL: redis.url },
          layout.gateway,
        );
        targets.set(name, running);
        targetHeaders.set(running.url, { authorization: `Bearer ${token}` });
        log(`tessera-policies: token for ${demoIssuer.issuer}, Redis at ${redis.url}`);
        break;
      }
      case 'tessera-traced':
      case 'tessera-traced-10': {
        // The `tessera` target with tracing on (sampler 1.0 or 0.1), exporting OTLP/HTTP protobuf
        // to a sink in this process that reads and drops each batch (what a collector costs the
        // gateway: the export requests, not the collector's work).
        const sink = await otlpSink();
        const config = parseYaml(readFileSync(here('./configs/tessera.yaml'), 'utf8')) as Record<string, any>;
        config['supergraph'] = { ...config['supergraph'], file: supergraphFile };
        config['telemetry'] = {
          tracing: {
            enabled: true,
            samplerRatio: name === 'tessera-traced' ? 1 : 0.1,
            otlp: { endpoint: sink.url, protocol: 'http/protobuf' },
          },
        };
        const file = `${work}${name}.yaml`;
        writeFileSync(file, stringifyYaml(config));
        const running = await start(name, [`${root}bin/tessera.ts`, 'gateway', '--config', file], env, layout.gateway);
        targets.set(name, running);
        sinks.set(name, sink);
        break;
      }
      case 'direct':
        break; // started per query, once its plan is captured
    }
  } catch (err) {
    if (name !== 'hive' && !(name === 'tessera-policies' && !redisAvailable())) throw err;
    skipped.set(name, (err as Error).message.split('\n')[0]!);
    log(`skipping ${name}: ${skipped.get(name)}`);
  }
}
for (const t of targetNames) await startTarget(t);

/** The subgraph requests a gateway makes for `query`, in arrival order (for the direct target). */
async function capturePlan(query: string, via: string): Promise<Array<{ url: string; body: string }>> {
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
  /**
   * CPU time the gateway process spent per request, in ms (user + system, from /proc): unlike
   * req/s it hardly moves when other processes share the machine. Absent for the direct target.
   */
  cpuMsPerRequest?: number;
}
const wrongBodies = new Map<string, string>();

function load(url: string, query: string, expected: string, seconds: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...targetHeaders.get(url) },
        body: JSON.stringify({ query }),
        connections,
        duration: seconds,
        // Every response body is compared with the validated reference: a fast wrong answer loses.
        // The first wrong body of each target is kept, so the report can say what was wrong.
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

const results: Record<string, Record<string, { rounds: Sample[]; median: Sample } | { skipped: string }>> = {};
// The exit code gates on Tessera's own correctness; a glitch of a third-party target is reported
// (with its first wrong body saved) but does not fail the run.
let failures = 0;
let thirdPartyProblems = 0;
const isOurs = (name: string) => name.startsWith('tessera');
const reference = targets.get('baseline') ?? targets.get('tessera') ?? [...targets.values()][0]!;

for (const q of queryNames) {
  const { query } = queries[q];
  const ref = await post(reference.url, query);
  const refJson = JSON.parse(ref.text) as { data?: unknown; errors?: unknown };
  if (ref.status !== 200 || refJson.errors || !refJson.data)
    throw new Error(`reference ${reference.name} answered ${q} with ${ref.status}: ${ref.text.slice(0, 500)}`);

  const expected = new Map<string, string>();
  const active: Running[] = [];
  let direct: Running | null = null;
  if (targetNames.includes('direct')) {
    const plan = await capturePlan(query, reference.url);
    const planFile = `${work}direct-${q}.json`;
    writeFileSync(planFile, JSON.stringify({ hops: plan.map((p) => [p]), response: ref.text }));
    direct = await start(
      'direct',
      [here('./direct.ts')],
      { PORT: String(await freePort()), DIRECT_PLAN: planFile },
      layout.gateway,
    );
  }
  for (const name of targetNames) {
    const t = name === 'direct' ? direct : targets.get(name);
    if (!t) continue;
    const first = await post(t.url, query);
    if (first.status !== 200 || !isDeepStrictEqual(JSON.parse(first.text), refJson)) {
      log(`✗ ${name} answers ${q} differently from ${reference.name}: ${first.text.slice(0, 300)}`);
      if (isOurs(name)) failures++;
      else thirdPartyProblems++;
      continue;
    }
    expected.set(name, first.text);
    active.push(t);
  }

  log(`\n${q}: ${queries[q].description}`);
  for (const t of active) {
    process.stderr.write(`  warm-up ${t.name}…`);
    await load(t.url, query, expected.get(t.name)!, warmup);
    process.stderr.write(' done\n');
  }
  const samples = new Map<string, Sample[]>(active.map((t) => [t.name, []]));
  for (let r = 1; r <= rounds; r++) {
    for (const t of r % 2 ? active : [...active].reverse()) {
      const cpu0 = cpuMs(t.child.pid!);
      const s = await load(t.url, query, expected.get(t.name)!, duration);
      s.cpuMsPerRequest = (cpuMs(t.child.pid!) - cpu0) / Math.max(1, s.total);
      samples.get(t.name)!.push(s);
      log(
        `  round ${r}/${rounds} ${t.name.padEnd(16)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  cpu ${s.cpuMsPerRequest.toFixed(3)} ms/req  errors ${s.errors}  non-2xx ${s.non2xx}  mismatches ${s.mismatches}`,
      );
      if (s.errors || s.non2xx || s.mismatches) {
        if (isOurs(t.name)) failures++;
        else thirdPartyProblems++;
      }
      const wrong = wrongBodies.get(t.url);
      if (wrong !== undefined) {
        wrongBodies.delete(t.url);
        const file = `${work}wrong-${q}-${t.name}.json`;
        writeFileSync(file, wrong);
        log(
          `    first wrong body from ${t.name} (${wrong.length} bytes, expected ${expected.get(t.name)!.length}): ${wrong.slice(0, 300)} … saved to ${file}`,
        );
      }
    }
  }
  results[q] = {};
  for (const name of targetNames) {
    const rs = samples.get(name);
    if (rs) {
      results[q]![name] = {
        rounds: rs,
        median: {
          rps: median(rs.map((s) => s.rps)),
          p50: median(rs.map((s) => s.p50)),
          p99: median(rs.map((s) => s.p99)),
          errors: sum(rs, 'errors'),
          non2xx: sum(rs, 'non2xx'),
          mismatches: sum(rs, 'mismatches'),
          total: sum(rs, 'total'),
          cpuMsPerRequest: median(rs.map((s) => s.cpuMsPerRequest ?? 0)),
        },
      };
    } else results[q]![name] = { skipped: skipped.get(name) ?? 'wrong answer (see log)' };
  }
  direct?.child.kill('SIGKILL');
}
function sum(rs: Sample[], k: 'errors' | 'non2xx' | 'mismatches' | 'total'): number {
  return rs.reduce((a, s) => a + s[k], 0);
}

const memory: Record<string, number> = {};
for (const [name, t] of targets) memory[name] = peakRssBytes(t.child.pid!);

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
      options: { duration, warmup, connections, rounds, targets: targetNames, queries: queryNames },
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
md += `Load: autocannon, ${connections} connections, ${rounds} round(s) × ${duration}s per target (median), ${warmup}s warm-up.\n`;
for (const q of queryNames) {
  // Without the baseline target (e.g. the tracing comparison), ratios are against plain tessera.
  const refName = results[q]!['baseline'] ? 'baseline' : 'tessera';
  const base = results[q]![refName];
  const b = base && 'median' in base ? base.median : undefined;
  const bMem = memory[refName];
  md += `\n**${q}** — ${queries[q].description}\n\n| target | req/s | vs ${refName} | p50 ms | p99 ms | p99 vs ${refName} | CPU ms/req | peak RSS MB | RSS vs ${refName} | errors | non-2xx | wrong bodies |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n`;
  for (const name of targetNames) {
    const r = results[q]![name]!;
    if (!('median' in r)) {
      md += `| ${name} | skipped: ${r.skipped} | | | | | | | | | | |\n`;
      continue;
    }
    const m = r.median;
    const mem = memory[name];
    md += `| ${name} | ${fmt(m.rps)} | ${ratio(m.rps, b?.rps)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ${ratio(m.p99, b?.p99)} | ${m.cpuMsPerRequest !== undefined ? fmt(m.cpuMsPerRequest, 3) : '–'} | ${mem ? fmt(mem / 2 ** 20) : '–'} | ${mem ? ratio(mem, bMem) : '–'} | ${m.errors} | ${m.non2xx} | ${m.mismatches} |\n`;
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
