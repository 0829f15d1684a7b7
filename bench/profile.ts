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
// Tessera's start-up re-exec keeps these flags (it appends its own V8 flags to execArgv).
const target = await start(values.target!, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...entry], {
  PORT: String(await freePort()),
  SUPERGRAPH_FILE: `${work}supergraph${values.target === 'apollo-gateway' ? '.planner' : ''}.graphql`,
});
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
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }>;
  samples: number[];
};
const self = new Map<string, number>();
let total = 0;
for (const n of profile.nodes) {
  const where = n.callFrame.url.replace(/^.*node_modules\//, '').replace(`file://${root}`, '');
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + n.hitCount);
  total += n.hitCount;
}
const byPackage = new Map<string, number>();
for (const [k, v] of self) {
  const m = /\s((?:@[^/]+\/)?[^/:]+)/.exec(k.replace(/^\S+\s/, ' '));
  const pkg = k.includes(' node:') ? 'node:internal' : (m?.[1] ?? '?');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + v);
}
process.stdout.write(`\nprofile: ${profDir}/${file}\n\nself time by package:\n`);
for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15))
  process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
process.stdout.write('\ntop functions by self time:\n');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40))
  process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
