// `node bench/baselines/planners.ts`: the two query planners an engine can use, side by side on the
// benchmark's queries: time to plan (no plan cache: each iteration plans from scratch, as a cache
// miss does) and the fetches the plan makes. It is how the tessera engine's planner was chosen
// (issue #15: "measure before choosing"); no gateway, no network.
import { parseArgs } from 'node:util';
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner as ApolloPlanner, type PlanNode as ApolloNode } from '@apollo/query-planner';
import { QueryPlanner as HivePlanner, type PlanNode as HiveNode } from '@graphql-hive/router-query-planner';
import { parse } from 'graphql';
import { supergraphForPlanner } from '../../gateway/engine/apollo/security-features.ts';
import { composeSupergraph } from '../../supergraph/compose.ts';
import { queries } from '../queries.ts';
import { schemaFile } from '../processes.ts';
import { readFileSync } from 'node:fs';

const { values: opts } = parseArgs({
  options: { iterations: { type: 'string', default: '50' }, query: { type: 'string', default: 'all' } },
});
const iterations = Number(opts.iterations);
const names =
  opts.query === 'all' ? (Object.keys(queries) as Array<keyof typeof queries>) : [opts.query as keyof typeof queries];

const subgraphNames = ['accounts', 'inventory', 'products', 'reviews'];
const supergraphs = new Map<string, string>();
function supergraphOf(backend: 'example' | 'public'): string {
  let sdl = supergraphs.get(backend);
  if (!sdl) {
    const composed = composeSupergraph(
      subgraphNames.map((name) => ({
        name,
        url: `http://${name}/graphql`,
        sdl: readFileSync(schemaFile[backend](name), 'utf8'),
      })),
    );
    if (!composed.ok) throw new Error(composed.errors.map((e) => e.message).join('; '));
    // @apollo/query-planner refuses the authorization directives' `for: SECURITY` link, as the gateway does.
    sdl = supergraphForPlanner(composed.supergraphSdl);
    supergraphs.set(backend, sdl);
  }
  return sdl;
}

const countApollo = (n: ApolloNode | undefined): number =>
  !n
    ? 0
    : n.kind === 'Fetch'
      ? 1
      : n.kind === 'Sequence' || n.kind === 'Parallel'
        ? n.nodes.reduce((a, c) => a + countApollo(c), 0)
        : n.kind === 'Flatten'
          ? countApollo(n.node)
          : n.kind === 'Condition'
            ? countApollo(n.ifClause) + countApollo(n.elseClause)
            : 0;
const countHive = (n: HiveNode | undefined | null): number =>
  !n
    ? 0
    : n.kind === 'Fetch' || n.kind === 'BatchFetch'
      ? 1
      : n.kind === 'Sequence' || n.kind === 'Parallel'
        ? n.nodes.reduce((a, c) => a + countHive(c), 0)
        : n.kind === 'Flatten'
          ? countHive(n.node)
          : n.kind === 'Condition'
            ? countHive(n.ifClause) + countHive(n.elseClause)
            : 0;

function time(fn: () => unknown): number {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / iterations;
}

console.log(`planning time per operation, mean of ${iterations} (no plan cache), Node ${process.version}\n`);
console.log('| query | `@apollo/query-planner` ms | fetches | `@graphql-hive/router-query-planner` ms | fetches |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const name of names) {
  const q = queries[name];
  const sdl = supergraphOf(q.backend);
  const supergraph = Supergraph.build(sdl);
  const apollo = new ApolloPlanner(supergraph);
  const hive = new HivePlanner(sdl);
  const document = parse(q.query);
  const operation = () => operationFromDocument(supergraph.apiSchema(), document);
  const apolloFetches = countApollo(apollo.buildQueryPlan(operation()).node as ApolloNode | undefined);
  const hiveFetches = countHive((await hive.planAsync(q.query, null, new Set(), 0)).node);
  const apolloMs = time(() => apollo.buildQueryPlan(operation()));
  // The napi planner's synchronous entry point, so both are timed the same way.
  const hiveMs = time(() => hive.plan(q.query, null, new Set(), 0));
  console.log(`| ${name} | ${apolloMs.toFixed(2)} | ${apolloFetches} | ${hiveMs.toFixed(2)} | ${hiveFetches} |`);
}
