// `node bench/profile.ts [--target tessera|baseline] [--query standard] [--duration 10]`: runs one
// target under load with --cpu-prof and prints the functions with the most self time. The
// .cpuprofile is kept in bench/.work/ (open it in Chrome DevTools or speedscope for a flame graph).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { composeSupergraph } from '../supergraph/compose.ts';
import { queries, type QueryName } from './queries.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../');
const work = here('./.work/');
const { values } = parseArgs({ options: { target: { type: 'string', default: 'tessera' }, query: { type: 'string', default: 'standard' }, duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });

function start(args: string[], env: Record<string, string> = {}): Promise<{ url: string; line: any; kill: (s: NodeJS.Signals) => Promise<void> }> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('listening'));
      if (line) {
        const parsed = JSON.parse(line);
        resolve({ url: parsed.url, line: parsed, kill: (s) => new Promise((r) => { child.once('exit', () => r()); child.kill(s); }) });
      }
    });
  });
}

mkdirSync(work, { recursive: true });
const subgraphs = await start([here('./subgraphs.ts')]);
const composed = composeSupergraph(Object.entries(subgraphs.line.urls as Record<string, string>).map(([name, url]) => ({ name, url, sdl: readFileSync(`${root}subgraphs/${name}/schema.graphql`, 'utf8') })));
if (!composed.ok) throw new Error('composition failed');
writeFileSync(`${work}supergraph.graphql`, composed.supergraphSdl);
const profDir = `${work}prof-${Date.now()}`;
const entry = values.target === 'baseline' ? [here('./baselines/apollo-gateway.ts')] : [`${root}bin/tessera.ts`, 'gateway', '--config', here('./configs/tessera.yaml')];
const target = await start([`--cpu-prof`, `--cpu-prof-dir=${profDir}`, ...entry], { PORT: '4950', SUPERGRAPH_FILE: `${work}supergraph.graphql` });
const query = queries[values.query as QueryName].query;
const result = await autocannon({ url: target.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), connections: Number(values.connections), duration: Number(values.duration) });
process.stderr.write(`${values.target}: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}\n`);
await target.kill('SIGINT');
await subgraphs.kill('SIGKILL');

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
const profile = JSON.parse(readFileSync(`${profDir}/${file}`, 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }>; samples: number[] };
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
for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
process.stdout.write('\ntop functions by self time:\n');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
