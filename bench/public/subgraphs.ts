// The four subgraphs of The Guild's graphql-gateways-benchmark ("federation" scenario) in one
// process, one port each: the same schemas (./*.graphql), data (./data.ts) and resolver behaviour
// as its Rust subgraphs (federation-v1/subgraphs/*/subgraph.rs), served by @apollo/subgraph.
//
// Why answers are memoised per request body: that benchmark's subgraphs are Rust and answer in
// microseconds; here they share a core with the load generator, and graphql-js executing ~16
// subgraph requests per gateway request would make the subgraphs, not the gateway, the bottleneck.
// The data is static, so an answer is a pure function of the body (query + variables): the first
// request of each distinct body is executed, later ones get the same bytes. Gateways still send
// every fetch and parse every answer.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { inventory, products, reviews, users, type InventoryRow, type Review } from './data.ts';

const publicSubgraphNames = ['accounts', 'inventory', 'products', 'reviews'] as const;
type PublicSubgraph = (typeof publicSubgraphNames)[number];

const userById = new Map(users.map((u) => [u.id, u]));
const productByUpc = new Map(products.map((p) => [p.upc, p]));
const inventoryByUpc = new Map(inventory.map((p) => [p.upc, p]));
const reviewById = new Map(reviews.map((r) => [r.id, r]));
const toReview = (r: Review) => ({ id: r.id, body: r.body, product: { upc: r.upc } });
// The Rust reviews subgraph gives every User the first two reviews.
const firstTwoReviews = () => reviews.slice(0, 2).map(toReview);

const resolvers: Record<PublicSubgraph, GraphQLResolverMap<unknown>> = {
  accounts: {
    Query: {
      me: () => users[0],
      user: (_: unknown, args: { id: string }) => userById.get(args.id) ?? null,
      users: () => users,
    },
    User: { __resolveReference: (ref: { id: string }) => userById.get(ref.id) ?? null },
  },
  products: {
    Query: { topProducts: (_: unknown, args: { first?: number | null }) => products.slice(0, args.first ?? 5) },
    Product: { __resolveReference: (ref: { upc: string }) => productByUpc.get(ref.upc) ?? null },
  },
  inventory: {
    Product: {
      // By upc alone, as the Rust entity resolver does (it drops the required price/weight).
      __resolveReference: (ref: { upc: string }) => inventoryByUpc.get(ref.upc) ?? null,
      shippingEstimate: (p: InventoryRow) => {
        if (p.price === null) return null;
        if (p.price > 1000) return 0;
        return p.weight === null ? null : Math.trunc(p.weight / 2);
      },
    },
  },
  reviews: {
    Review: {
      __resolveReference: (ref: { id: string }) => {
        const r = reviewById.get(ref.id);
        return r ? toReview(r) : null;
      },
      // Every review's author is user 1, with the username the field @provides.
      author: () => ({ id: '1', username: 'urigo', reviews: firstTwoReviews() }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id, username: 'user', reviews: firstTwoReviews() }),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
      reviews: (p: { upc: string }) => reviews.filter((r) => r.upc === p.upc).map(toReview),
    },
  },
};

interface Received {
  operationName: string | null;
  query: string;
  variables: Record<string, unknown> | null;
  at: number;
}

/** One subgraph on its own port, with the admin endpoints bench/run.ts uses to capture a plan. */
async function serve(name: PublicSubgraph): Promise<string> {
  const schema: GraphQLSchema = buildSubgraphSchema([
    {
      typeDefs: parse(readFileSync(new URL(`./${name}.graphql`, import.meta.url), 'utf8')),
      resolvers: resolvers[name],
    },
  ]);
  const documents = new Map<string, DocumentNode>();
  const answers = new Map<string, string>();
  let recording = false;
  let received: Received[] = [];

  const answer = async (raw: string): Promise<{ status: number; json: string }> => {
    const cached = answers.get(raw);
    if (cached !== undefined) return { status: 200, json: cached };
    const body = JSON.parse(raw) as {
      query?: unknown;
      variables?: Record<string, unknown> | null;
      operationName?: string | null;
    };
    if (typeof body.query !== 'string')
      return { status: 400, json: '{"errors":[{"message":"query must be a string"}]}' };
    let document = documents.get(body.query);
    if (!document) {
      document = parse(body.query);
      const errors = validate(schema, document);
      if (errors.length) return { status: 400, json: JSON.stringify({ errors: errors.map((e) => e.toJSON()) }) };
      documents.set(body.query, document);
    }
    const result = await execute({
      schema,
      document,
      variableValues: body.variables ?? undefined,
      operationName: body.operationName ?? undefined,
    });
    const json = JSON.stringify(result);
    if (answers.size > 10_000) answers.clear(); // a gateway sends a handful of distinct bodies
    answers.set(raw, json);
    return { status: 200, json };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    let out: { status: number; json: string };
    if (path === '/_stats' && req.method === 'GET') out = { status: 200, json: JSON.stringify({ received }) };
    else if (path === '/_stats/reset') {
      received = [];
      out = { status: 200, json: '{"ok":true}' };
    } else if (path === '/_stats/recording') {
      recording = (JSON.parse(raw || '{}') as { on?: boolean }).on === true;
      out = { status: 200, json: JSON.stringify({ recording }) };
    } else if (path === '/graphql' && req.method === 'POST') {
      if (recording) {
        const b = JSON.parse(raw) as Omit<Received, 'at'>;
        received.push({
          operationName: b.operationName ?? null,
          query: b.query,
          variables: b.variables ?? null,
          at: performance.now(),
        });
      }
      out = await answer(raw);
    } else out = { status: 404, json: '{"errors":[{"message":"not found"}]}' };
    res.writeHead(out.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out.json) });
    res.end(out.json);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: (err as Error).message }] }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const urls: Record<string, string> = {};
for (const name of publicSubgraphNames) urls[name] = await serve(name);
process.stdout.write(`${JSON.stringify({ msg: 'listening', urls })}\n`);
