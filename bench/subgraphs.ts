// The four example subgraphs in one process (one port each): the benchmark's fixed backend.
import { exampleSubgraphs } from '../subgraphs/catalog.ts';
import { startSubgraph } from '../subgraphs/shared/start-subgraph.ts';

const admin = process.env['BENCH_RECORD'] === '1';
const urls: Record<string, string> = {};
for (const [name, { definition }] of Object.entries(exampleSubgraphs)) {
  urls[name] = (await startSubgraph(definition, { port: 0, admin })).url;
}
process.stdout.write(`${JSON.stringify({ msg: 'listening', urls })}\n`);
