// `node bench/profile.ts [--target tessera|tessera-apollo|apollo-gateway] [--query standard|public|…]
// [--duration 10]`: runs one target under load with --cpu-prof and prints the functions with the
// most self time. The .cpuprofile is kept in bench/.work/ (open it in Chrome DevTools or speedscope
// for a flame graph).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, root, schemaFile, start, stop, subgraphsEntry, writeSupergraph } from './processes.ts';
import { queries, type QueryName } from './queries.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const work = here('./.work/');
const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'tessera' },
    query: { type: 'string', default: 'standard' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
  },
});
const engines: Record<string, string> = { tessera: 'tessera', 'tessera-apollo': 'apollo' };
if (!(values.target! in engines) && values.target !== 'apollo-gateway')
  throw new Error(`unknown target "${values.target}"; choose from tessera, tessera-apollo, apollo-gateway`);
if (!(values.query! in queries)) throw new Error(`unknown query "${values.query}"`);
const { backend, query } = queries[values.query as QueryName];

mkdirSync(work, { recursive: true });
const subgraphs = await start('subgraphs', [subgraphsEntry[backend]], {});
writeSupergraph(
  subgraphs.line['urls'] as Record<string, string>,
  `${work}supergraph.graphql`,
  `${work}supergraph.planner.graphql`,
  schemaFile[backend],
);
const profDir = `${work}prof-${Date.now()}`;
let entry: string[];
if (values.target === 'apollo-gateway') entry = [here('./baselines/apollo-gateway.ts')];
else {
  const config = `${work}profile-${values.target}.yaml`;
  writeFileSync(config, `engine: ${engines[values.target!]}\n${readFileSync(here('./configs/tessera.yaml'), 'utf8')}`);
  entry = [`${root}bin/tessera.ts`, 'gateway', '--config', config];
}
const startedAt = Date.now();
// Tessera's start-up re-exec keeps these flags (it appends its own V8 flags to execArgv).
const target = await start(values.target!, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...entry], {
  PORT: String(await freePort()),
  SUPERGRAPH_FILE: `${work}supergraph${values.target === 'apollo-gateway' ? '.planner' : ''}.graphql`,
});
const loadFrom = Date.now() - startedAt;
const result = await autocannon({
  url: target.url,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query }),
  connections: Number(values.connections),
  duration: Number(values.duration),
});
process.stderr.write(
  `${values.target}: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}\n`,
);
await stop(target, 'SIGINT'); // a clean exit writes the profile
await stop(subgraphs);

// `tessera gateway` re-executes itself once (process.execve) for its V8 flags, and the process it
// replaces writes a start-up-only profile first: the last profile is the one that served the load.
const file = readdirSync(profDir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort((a, b) => statSync(`${profDir}/${a}`).mtimeMs - statSync(`${profDir}/${b}`).mtimeMs)
  .at(-1)!;
const profile = JSON.parse(readFileSync(`${profDir}/${file}`, 'utf8')) as {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
};
// Only the samples taken under load (start-up — module loading, composition — is skipped; the
// profile starts no earlier than the target did), and only busy ones: `(idle)` is time the core
// waited for the subgraphs or the load generator, not work.
const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
const counts = new Map<number, number>();
let at = 0;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i]! / 1000;
  if (at < loadFrom) continue;
  counts.set(profile.samples[i]!, (counts.get(profile.samples[i]!) ?? 0) + 1);
}
const self = new Map<string, number>();
const byArea = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, hits] of counts) {
  const { functionName, url, lineNumber } = nodeById.get(id)!.callFrame;
  if (functionName === '(idle)') {
    idle += hits;
    continue;
  }
  const where = url.replace(/^.*node_modules\//, '').replace(`file://${root}`, '');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + hits);
  total += hits;
  // Where the time goes: a package, node's internals, V8 itself (GC, program), or a folder of ours.
  const area = !url
    ? functionName.startsWith('(')
      ? `V8 ${functionName}`
      : 'native (no script)'
    : url.startsWith('node:')
      ? 'node:internal'
      : url.includes('node_modules/')
        ? (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?')
        : where
            .split('/')
            .slice(0, where.startsWith('gateway/') ? 3 : 1)
            .join('/');
  byArea.set(area, (byArea.get(area) ?? 0) + hits);
}
const pct = (v: number) => `${((v / total) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(
  `\nprofile: ${profDir}/${file}\n${total + idle} samples under load, ${((idle / (total + idle)) * 100).toFixed(0)}% idle; shares below are of the busy ones\n\nself time by area:\n`,
);
for (const [k, v] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 20)) process.stdout.write(`${pct(v)}  ${k}\n`);
process.stdout.write('\ntop functions by self time:\n');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) process.stdout.write(`${pct(v)}  ${k}\n`);
