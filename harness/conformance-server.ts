// The subgraphs of one conformance case, each a real HTTP server on loopback, all in this one process (one process
// per case keeps the set fast on a 2-core box). Usage: node harness/conformance-server.ts <case file>.
// Logs one JSON line `conformance subgraphs listening` with each subgraph's URL and the admin URL, where
// GET /_received lists what each subgraph received (in arrival order) and POST /_reset forgets it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type GraphQLSchema } from 'graphql';
import type { ConformanceCase, Received } from './conformance-case.ts';

/** This file, to run as a process (harness/conformance.ts imports it only for this). */
export const conformanceServerScript = fileURLToPath(import.meta.url);

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: conformance-server.ts <case file>');
  await serveCase(((await import(pathToFileURL(file).href)) as { default: ConformanceCase }).default);
}

async function serveCase(c: ConformanceCase): Promise<void> {
  const received: Record<string, Received[]> = {};
  const urls: Record<string, string> = {};
  for (const [name, s] of Object.entries(c.subgraphs)) {
    const schema = buildSubgraphSchema([{ typeDefs: parse(s.sdl), resolvers: s.resolvers as never }]);
    const log: Received[] = (received[name] = []);
    urls[name] = `${await listen((req, res) => answer(schema, log, req, res))}/graphql`;
  }
  const admin = await listen(async (req, res) => {
    if (req.url === '/_received' && req.method === 'GET') return send(res, 200, received);
    if (req.url === '/_reset' && req.method === 'POST') {
      for (const log of Object.values(received)) log.length = 0;
      return send(res, 200, { ok: true });
    }
    send(res, 404, { errors: [{ message: 'not found' }] });
  });
  process.stdout.write(`${JSON.stringify({ msg: 'conformance subgraphs listening', case: c.id, urls, admin })}\n`);
}

/** One subgraph request: recorded, then executed against the subgraph schema as a subgraph server would. */
async function answer(schema: GraphQLSchema, log: Received[], req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'POST') return send(res, 405, { errors: [{ message: 'POST only' }] });
  const body = JSON.parse(await readBody(req)) as { query: string; variables?: Record<string, unknown> | null };
  const variables = body.variables ?? null;
  // `_service { sdl }` is composition's question, not the gateway's: nothing to count.
  if (!/^\s*(query\s+\w*\s*)?\{\s*_service\b/.test(body.query)) log.push({ query: body.query, variables });
  let document;
  try {
    document = parse(body.query);
  } catch (err) {
    return send(res, 400, { errors: [{ message: (err as Error).message }] });
  }
  const errors = validate(schema, document);
  if (errors.length) return send(res, 400, { errors: errors.map((e) => ({ message: e.message })) });
  send(res, 200, await execute({ schema, document, variableValues: variables ?? undefined, contextValue: {} }));
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<string> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => send(res, 500, { errors: [{ message: String(err) }] }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
