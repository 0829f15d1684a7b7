// A plain GraphQL service (graphql-js on node:http, no federation: no `_service`, no `_entities`),
// the kind of service a `kind: graphql` entry of supergraph.yaml joins. Run as its own process:
//   node harness/plain-service.ts --port 0
// With --tls-cert/--tls-key it serves HTTPS, and with --tls-ca it demands a client certificate
// signed by that CA (mTLS). It logs one JSON line `{"msg":"plain service listening","url":…}`. `GET /_received` lists the
// requests it answered (query, variables, the x-* headers); `POST /_reset` forgets them.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { buildSchema, graphql } from 'graphql';

/** Shipping: what it costs to ship a product, and shipments that refer to products by UPC. */
export const plainServiceSdl = `"Shipping estimates and shipments."
type Query {
  "Products by UPC, in the order asked; null for a UPC this service does not ship."
  productsByUpc(upcs: [String!]!): [Product]!
  shipments(first: Int = 5): [Shipment!]!
  shipment(id: ID!): Shipment
}

type Mutation {
  "Books a shipment (each call makes a new one: never to be sent twice)."
  createShipment(upc: String!): Shipment!
}

type Product {
  upc: String!
  "Shipping cost in cents."
  shippingCost: Int!
  "Days to deliver."
  deliveryDays: Int!
}

type Shipment {
  id: ID!
  status: String!
  trackingNumber: String!
  product: Product!
}
`;

/** The data, for tests to compute expectations from: UPCs 1–20 are shipped. */
export function shippingOf(upc: string): { upc: string; shippingCost: number; deliveryDays: number } | null {
  const n = Number(upc);
  if (!Number.isInteger(n) || n < 1 || n > 20) return null;
  return { upc, shippingCost: 300 + ((n * 137) % 500), deliveryDays: 1 + (n % 4) };
}

export const shipments = Array.from({ length: 8 }, (_, i) => ({
  id: `s${i + 1}`,
  status: i % 3 === 0 ? 'DELIVERED' : 'IN_TRANSIT',
  trackingNumber: `TRK-${1000 + i}`,
  upc: String((i % 5) + 1),
}));

interface TlsFiles {
  cert: string;
  key: string;
  ca: string | undefined;
}

function serve(port: number, tls: TlsFiles | null): void {
  const schema = buildSchema(plainServiceSdl);
  const product = (upc: string) => shippingOf(upc);
  const shipment = (s: (typeof shipments)[number]) => ({ ...s, product: product(s.upc) });
  let created = 0;
  const rootValue = {
    productsByUpc: ({ upcs }: { upcs: string[] }) => upcs.map(product),
    shipments: ({ first }: { first: number }) => shipments.slice(0, first).map(shipment),
    shipment: ({ id }: { id: string }) => {
      // A resolver's error, written for clients, with what a graphql-js service adds (locations).
      if (id === 'held') throw new Error('shipment "held" is on hold at customs');
      const s = shipments.find((x) => x.id === id);
      return s ? shipment(s) : null;
    },
    createShipment: ({ upc }: { upc: string }) =>
      shipment({ id: `new-${++created}`, status: 'BOOKED', trackingNumber: `TRK-NEW-${created}`, upc }),
  };
  const received: Array<{ query: string; variables: unknown; headers: Record<string, string> }> = [];
  const listener: RequestListener = (req, res) => {
    void (async () => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method === 'GET' && req.url === '/_received') return send(200, received);
      if (req.method === 'POST' && req.url === '/_reset') {
        received.length = 0;
        return send(200, {});
      }
      if (req.method !== 'POST' || req.url !== '/graphql') return send(404, { error: 'not found' });
      let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
      try {
        body = JSON.parse(await readBody(req)) as typeof body;
      } catch {
        return send(400, { errors: [{ message: 'invalid JSON' }] });
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-') && typeof v === 'string') headers[k] = v;
      if (!String(body.query).includes('__schema'))
        received.push({ query: String(body.query), variables: body.variables ?? {}, headers });
      const result = await graphql({
        schema,
        source: String(body.query ?? ''),
        rootValue,
        variableValues: body.variables ?? null,
        operationName: body.operationName ?? null,
      });
      send(200, result);
    })();
  };
  const server = tls
    ? createTlsServer(
        {
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
          ...(tls.ca ? { ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true } : {}),
        },
        listener,
      )
    : createServer(listener);
  server.listen(port, '127.0.0.1', () => {
    const { port: p } = server.address() as AddressInfo;
    const url = `${tls ? 'https' : 'http'}://127.0.0.1:${p}/graphql`;
    console.log(JSON.stringify({ msg: 'plain service listening', url }));
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
    },
  });
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  serve(Number(values.port), cert && key ? { cert, key, ca: values['tls-ca'] } : null);
}
