// `node bench/fetch-overhead.ts`: the subgraph client's own CPU cost per fetch, with the network
// taken out (undici's `request` answers from memory), so the figure is the client's layers alone:
// headers, dedupe, retry bookkeeping, breaker, timers, parse, shape check, redaction, metrics.
// It runs through the same entry Apollo uses (the engine's data source over `SubgraphClients.live`).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Pool } from 'undici';
import { parseConfig } from '../gateway/config/load.ts';
import { apolloDataSource } from '../gateway/engine/apollo/data-source.ts';
import { Metrics } from '../gateway/observability/metrics.ts';
import { RequestContext } from '../gateway/pipeline/request-context.ts';
import { SubgraphClients } from '../gateway/subgraph-client/clients.ts';
import { composeSupergraph } from '../supergraph/compose.ts';
import { root } from './processes.ts';

const { values: opts } = parseArgs({
  options: { fetches: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '7' } },
});
const fetches = Number(opts.fetches);
const rounds = Number(opts.rounds);

const urls = {
  accounts: 'http://127.0.0.1:1/graphql',
  products: 'http://127.0.0.1:2/graphql',
  reviews: 'http://127.0.0.1:3/graphql',
  inventory: 'http://127.0.0.1:4/graphql',
};
const composed = composeSupergraph(
  Object.entries(urls).map(([name, url]) => ({
    name,
    url,
    sdl: readFileSync(`${root}subgraphs/${name}/schema.graphql`, 'utf8'),
  })),
);
if (!composed.ok) throw new Error(composed.errors.map((e) => e.message).join('; '));

// What the planner sends for the `standard` query's first two hops, and what the subgraphs answer.
const products = Array.from({ length: 10 }, (_, i) => ({
  __typename: 'Product',
  upc: String(i + 1),
  name: `Product ${i + 1}`,
  price: 100 + i,
}));
const rootFetch = {
  query: 'query Standard__products__0{topProducts(first:10){__typename upc name price}}',
  variables: {},
  answer: JSON.stringify({ data: { topProducts: products } }),
};
const entityFetch = {
  query:
    'query Standard__reviews__1($representations:[_Any!]!){_entities(representations:$representations){...on Product{reviews(first:3){id body rating author{__typename id}}}}}',
  variables: { representations: products.map((p) => ({ __typename: 'Product', upc: p.upc })) },
  answer: JSON.stringify({
    data: {
      _entities: products.map((p) => ({
        reviews: [1, 2, 3].map((r) => ({
          id: `${p.upc}-${r}`,
          body: 'Fine',
          rating: r,
          author: { __typename: 'User', id: String(r) },
        })),
      })),
    },
  }),
};

// The one stub: undici's request, answering from memory (which answer: from the body sent).
(Pool.prototype as unknown as { request: unknown }).request = async function (opts: { body: string }) {
  const text = opts.body.includes('_entities') ? entityFetch.answer : rootFetch.answer;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'content-length': String(text.length) },
    body: { text: async () => text, destroy() {} },
  };
};

const config = parseConfig({ supergraph: { file: 'unused.graphql' } });
const clients = new SubgraphClients(config, { log: pino({ level: 'warn' }), metrics: new Metrics() });
const apiSchema = {};
clients.shapes.set(apiSchema, composed.supergraphSdl);
clients.lease(Object.entries(urls).map(([name, url]) => ({ name, url })));
const context = {
  tessera: new RequestContext({
    requestId: 'bench',
    method: 'POST',
    remoteAddress: '127.0.0.1',
    log: pino({ level: 'warn' }),
    headers: { 'user-agent': 'bench', authorization: 'Bearer x' },
  }),
};
const options = (fetch: typeof rootFetch) =>
  ({
    kind: 'incoming operation',
    request: {
      query: fetch.query,
      variables: fetch.variables,
      operationName: undefined,
      http: { method: 'POST', url: '', headers: new Map() },
    },
    incomingRequestContext: { schema: apiSchema, operation: { operation: 'query' }, context },
    context,
    document: undefined,
  }) as unknown as Parameters<ReturnType<typeof apolloDataSource>['process']>[0];
const productsSource = apolloDataSource(clients.live('products', urls.products));
const reviewsSource = apolloDataSource(clients.live('reviews', urls.reviews));
const rootOptions = options(rootFetch);
const entityOptions = options(entityFetch);

// Sanity: both answers come back whole.
const first = await productsSource.process(rootOptions);
const second = await reviewsSource.process(entityOptions);
if (first.errors || second.errors || (first.data as { topProducts: unknown[] }).topProducts.length !== 10)
  throw new Error(`unexpected answer: ${JSON.stringify([first, second]).slice(0, 500)}`);

async function round(): Promise<{ cpuUsPerFetch: number; wallUsPerFetch: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < fetches; i += 2) {
    await productsSource.process(rootOptions);
    await reviewsSource.process(entityOptions);
  }
  const used = process.cpuUsage(cpu);
  return {
    cpuUsPerFetch: (used.user + used.system) / fetches,
    wallUsPerFetch: ((performance.now() - t) * 1000) / fetches,
  };
}

await round(); // warm-up
const results: Array<{ cpuUsPerFetch: number; wallUsPerFetch: number }> = [];
for (let r = 0; r < rounds; r++) results.push(await round());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `${JSON.stringify({
    fetches,
    rounds,
    cpuUsPerFetch: results.map((r) => +r.cpuUsPerFetch.toFixed(2)),
    medianCpuUsPerFetch: +median(results.map((r) => r.cpuUsPerFetch)).toFixed(2),
    // The least disturbed round: on a shared machine, the closest to the client's own cost.
    minCpuUsPerFetch: +Math.min(...results.map((r) => r.cpuUsPerFetch)).toFixed(2),
    medianWallUsPerFetch: +median(results.map((r) => r.wallUsPerFetch)).toFixed(2),
  })}\n`,
);
await clients.closeAll({ force: true });
