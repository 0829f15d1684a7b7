import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { execute, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { SubgraphStats } from './stats.ts';

export interface SubgraphDefinition<Ctx> {
  readonly name: string;
  readonly typeDefs: DocumentNode;
  readonly resolvers: GraphQLResolverMap<Ctx>;
  /** Fresh per request: holds the request's DataLoaders, so batching never crosses requests. */
  createContext(req: { headers: IncomingMessage['headers']; stats: SubgraphStats }): Ctx;
}

export interface SubgraphOptions {
  port?: number;
  host?: string;
  /** Enables POST /_faults and body recording: for tests and demos, never for production. */
  admin?: boolean;
  /** Serve HTTPS; with `ca`, clients must present a certificate signed by it (mTLS). */
  tls?: { cert: string; key: string; ca?: string };
}

/** A fault the test harness injects into the real server (it really delays, hangs or fails). */
interface Fault {
  delayMs: number;
  status: number | null;
  hang: boolean;
  remaining: number | null;
  headers: Record<string, string>;
  /** Flapping: only every Nth request gets `status`; the others are served. */
  failEvery: number | null;
  seen: number;
}

export interface RunningSubgraph {
  readonly name: string;
  readonly url: string;
  readonly stats: SubgraphStats;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

export async function startSubgraph<Ctx>(
  def: SubgraphDefinition<Ctx>,
  opts: SubgraphOptions = {},
): Promise<RunningSubgraph> {
  const schema = buildSubgraphSchema([{ typeDefs: def.typeDefs, resolvers: def.resolvers }]);
  const stats = new SubgraphStats(opts.admin ? 500 : 0);
  const documents = new DocumentCache(schema);
  let fault: Fault | null = null;
  const hanging = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/health') return send(res, 200, { status: 'ok' });
      if (path === '/_stats' && req.method === 'GET') return send(res, 200, stats);
      if (path === '/_stats/reset' && req.method === 'POST') {
        stats.reset();
        return send(res, 200, { ok: true });
      }
      if (path === '/_stats/recording' && req.method === 'POST' && opts.admin) {
        stats.recording = (JSON.parse((await readBody(req)) || '{}') as { on?: boolean }).on === true;
        return send(res, 200, { recording: stats.recording });
      }
      if (path === '/_faults' && req.method === 'POST' && opts.admin) {
        const body = JSON.parse((await readBody(req)) || '{}') as Partial<Fault> & { times?: number };
        fault =
          body.delayMs || body.status || body.hang
            ? {
                delayMs: body.delayMs ?? 0,
                status: body.status ?? null,
                hang: body.hang ?? false,
                remaining: body.times ?? null,
                headers: body.headers ?? {},
                failEvery: body.failEvery ?? null,
                seen: 0,
              }
            : null;
        return send(res, 200, { ok: true });
      }
      if (path !== '/graphql' && path !== '/') return send(res, 404, { errors: [{ message: 'not found' }] });
      if (req.method !== 'POST') return send(res, 405, { errors: [{ message: 'POST only' }] });

      const raw = await readBody(req);
      const body = JSON.parse(raw) as {
        query?: unknown;
        variables?: Record<string, unknown> | null;
        operationName?: string | null;
      };
      if (typeof body.query !== 'string') return send(res, 400, { errors: [{ message: 'query must be a string' }] });
      stats.recordRequest({
        operationName: body.operationName ?? null,
        query: body.query,
        variables: body.variables ?? null,
        headers: stats.recording ? flatHeaders(req.headers) : {},
        at: performance.now(),
      });

      const active = fault;
      if (active) {
        if (active.remaining !== null && --active.remaining <= 0) fault = null;
        if (active.hang) {
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          return;
        }
        if (active.delayMs) await new Promise((r) => setTimeout(r, active.delayMs));
        const fails = active.failEvery === null || active.seen++ % active.failEvery === 0;
        if (active.status && fails)
          return send(res, active.status, { errors: [{ message: `injected ${active.status}` }] }, active.headers);
      }

      const parsed = documents.get(body.query);
      if ('errors' in parsed) return send(res, 400, { errors: parsed.errors });
      const result = await execute({
        schema,
        document: parsed.document,
        variableValues: body.variables ?? undefined,
        operationName: body.operationName ?? undefined,
        contextValue: def.createContext({ headers: req.headers, stats }),
      });
      send(res, 200, result);
    } catch (err) {
      send(res, 400, {
        errors: [{ message: err instanceof SyntaxError ? 'malformed JSON body' : String((err as Error).message) }],
      });
    }
  };
  // node:http ignores a listener's promise: `handle` answers every failure itself (the catch above).
  const handler: RequestListener = (req, res) => void handle(req, res);
  const server = opts.tls
    ? createTlsServer(
        {
          cert: opts.tls.cert,
          key: opts.tls.key,
          ca: opts.tls.ca,
          requestCert: !!opts.tls.ca,
          rejectUnauthorized: !!opts.tls.ca,
        },
        handler,
      )
    : createServer(handler);
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  return {
    name: def.name,
    url: `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`,
    stats,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Parse + validate once per distinct query text; a gateway sends a handful of shapes many times. */
class DocumentCache {
  private readonly cache = new Map<string, { document: DocumentNode } | { errors: readonly { message: string }[] }>();
  private readonly schema: GraphQLSchema;
  constructor(schema: GraphQLSchema) {
    this.schema = schema;
  }
  get(query: string) {
    let hit = this.cache.get(query);
    if (!hit) {
      try {
        const document = parse(query);
        const errors = validate(this.schema, document, specifiedRules);
        hit = errors.length ? { errors: errors.map((e) => ({ message: e.message })) } : { document };
      } catch (err) {
        hit = { errors: [{ message: (err as Error).message }] };
      }
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(query, hit);
    }
    return hit;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function flatHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
