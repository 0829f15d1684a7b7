import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../gateway/observability/log.ts';
import { errorCodes, type ErrorCode } from '../../gateway/errors/codes.ts';
import { BodyNotUtf8Error, BodyTooLargeError, discardBody, readBody } from '../../gateway/http/read-body.ts';
import { CompositionAbortedError } from '../composition-pool.ts';
import { clientNamePattern, clientVersionPattern, parseManifest } from '../operations/manifest.ts';
import type { RegistryConfig } from './config.ts';
import { RegistryBusyError, type RegistryService } from './service.ts';
import { registryName, type Permission } from './names.ts';
import type { RegistryStore, UsageEntry } from './store.ts';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The registry's HTTP + JSON API, under /v1/graphs/<graph>/variants/<variant>/:
 *   GET  supergraph                 current supergraph SDL (ETag, If-None-Match → 304)   read
 *   GET  versions                   history, newest first                                 read
 *   GET  versions/<n>/supergraph    a past supergraph                                     read
 *   POST subgraphs/<name>           publish { url, sdl }                                  publish
 *   POST check                      { subgraphs: [{ name, sdl, url? }], usageDays? }      check
 *   POST rollback                   { version }                                           publish
 *   POST usage                      { operations: [{ hash, name, client, coordinates, count }] }  read (gateways)
 *   POST operations/<client>/<ver>  publish a manifest { operations: [...] } (Apollo or Relay format)  publish
 *   GET  operations                 every manifest of the variant (ETag, If-None-Match → 304)       read (gateways)
 */
export function createRegistryServer(
  config: RegistryConfig,
  service: RegistryService,
  store: RegistryStore,
  log: Logger,
): Server {
  const tokens = new Map(config.tokens.map((t) => [t.sha256, t]));
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };
  const fail = (
    res: ServerResponse,
    code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) => send(res, errorCodes[code].status ?? 400, { error: { code, message, ...extra } }, headers);
  const { maxSdlBytes } = config.limits;
  // JSON doubles at most the SDL characters it escapes (newline, tab, quote, backslash; UTF-8 is sent
  // as is), so this is the most an SDL within the limit can take, plus room for the URL. Reading
  // stops there: a larger SDL is never buffered whole.
  const publishBodyLimit = Math.min(config.server.bodyLimitBytes, 2 * maxSdlBytes + 65_536);
  const tooLargeSdl = (res: ServerResponse, name: string, sdl: string) => {
    const bytes = Buffer.byteLength(sdl);
    if (bytes <= maxSdlBytes) return false;
    fail(
      res,
      'PAYLOAD_TOO_LARGE',
      `The SDL of ${name} is ${bytes} bytes; at most ${maxSdlBytes} are accepted (limits.maxSdlBytes).`,
    );
    return true;
  };
  /** Composition stopped by a limit, or too many waiting: a clear code, and nothing changed. */
  const compositionRefused = (res: ServerResponse, err: unknown) => {
    if (err instanceof RegistryBusyError)
      fail(
        res,
        'REGISTRY_BUSY',
        `The registry is busy: ${err.message}; nothing changed. Retry later.`,
        {},
        { 'retry-after': '1' },
      );
    else if (!(err instanceof CompositionAbortedError)) return false;
    else if (err.reason === 'timeout')
      fail(
        res,
        'COMPOSITION_TIMEOUT',
        `Composition did not finish within ${config.composition.timeoutMs} ms (composition.timeoutMs); nothing changed.`,
      );
    else
      fail(
        res,
        'COMPOSITION_OUT_OF_MEMORY',
        `Composition needed more than ${config.composition.maxHeapMb} MB of heap (composition.maxHeapMb); nothing changed.`,
      );
    return true;
  };

  return createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.error({ err: err.stack }, 'registry request failed');
      if (!res.headersSent) fail(res, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry');
    if (url.pathname === '/health') return send(res, 200, { status: 'ok' });
    const m = /^\/v1\/graphs\/([^/]+)\/variants\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m || !registryName.test(m[1]!) || !registryName.test(m[2]!))
      return fail(res, 'NOT_FOUND', `No endpoint at ${url.pathname}.`);
    const [, graph, variant, rest] = m as unknown as [string, string, string, string];
    const route = routeOf(req.method ?? 'GET', rest);
    if (!route) return fail(res, 'NOT_FOUND', `No endpoint ${req.method} ${url.pathname}.`);

    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? tokens.get(hashToken(header.slice(7).trim())) : undefined;
    if (!token)
      return fail(
        res,
        'REGISTRY_UNAUTHENTICATED',
        header ? 'Unknown registry token.' : 'A registry token is required (Authorization: Bearer …).',
      );
    const graphAllowed =
      token.graph === '*' || (Array.isArray(token.graph) ? token.graph.includes(graph) : token.graph === graph);
    if (!graphAllowed || !token.permissions.includes(route.permission)) {
      return fail(res, 'REGISTRY_FORBIDDEN', `Token "${token.name}" may not ${route.permission} graph "${graph}".`);
    }
    let body: Record<string, unknown> = {};
    if (req.method === 'POST') {
      const limit = route.name === 'publish' ? publishBodyLimit : config.server.bodyLimitBytes;
      try {
        const parsed: unknown = JSON.parse(await readBody(req, limit));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          return fail(res, 'BAD_REQUEST', 'Body must be a JSON object.');
        body = parsed as Record<string, unknown>;
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          const message =
            route.name === 'publish'
              ? `Body exceeds ${limit} bytes: a subgraph SDL may have at most ${maxSdlBytes} bytes (limits.maxSdlBytes).`
              : `Body exceeds ${limit} bytes.`;
          discardBody(req, DISCARD_AFTER_413_BYTES);
          return fail(res, 'PAYLOAD_TOO_LARGE', message);
        }
        if (err instanceof BodyNotUtf8Error) return fail(res, 'BAD_REQUEST', 'Body is not valid UTF-8.');
        return fail(res, 'BAD_REQUEST', 'Body is not valid JSON.');
      }
    }

    switch (route.name) {
      case 'supergraph': {
        const cur = store.current(graph, variant);
        if (!cur) return fail(res, 'REGISTRY_NOT_FOUND', `${graph}@${variant} has no published subgraphs.`);
        const etag = `"${graph}@${variant}:${cur.version}"`;
        const headers = { etag, 'x-tessera-supergraph-version': String(cur.version), 'cache-control': 'no-cache' };
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, headers);
          res.end();
          return;
        }
        return send(res, 200, cur.supergraphSdl, headers);
      }
      case 'versions': {
        const asked = Number(url.searchParams.get('limit') ?? 100);
        const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, 1000) : 100;
        return send(res, 200, { graph, variant, versions: store.history(graph, variant, limit) });
      }
      case 'version': {
        const v = store.version(graph, variant, route.version!);
        if (!v) return fail(res, 'REGISTRY_NOT_FOUND', `${graph}@${variant} has no version ${route.version}.`);
        return send(res, 200, v.supergraphSdl, { 'x-tessera-supergraph-version': String(v.version) });
      }
      case 'publish': {
        const sdl = body['sdl'];
        const routingUrl = body['url'];
        if (typeof sdl !== 'string' || typeof routingUrl !== 'string' || !/^https?:\/\//.test(routingUrl))
          return fail(res, 'BAD_REQUEST', 'Send { "url": "http(s)://…", "sdl": "…" }.');
        if (tooLargeSdl(res, route.subgraph!, sdl)) return;
        // Before composing, which can take a while: the log shows what the registry is busy with.
        log.info(
          { graph, variant, subgraph: route.subgraph, actor: token.name, sdlBytes: Buffer.byteLength(sdl) },
          'publish received',
        );
        let out;
        try {
          out = await service.publish(graph, variant, { name: route.subgraph!, url: routingUrl, sdl }, token.name);
        } catch (err) {
          if (compositionRefused(res, err)) {
            log.warn(
              {
                graph,
                variant,
                subgraph: route.subgraph,
                actor: token.name,
                sdlBytes: Buffer.byteLength(sdl),
                reason: (err as Error).message,
              },
              'publish refused',
            );
            return;
          }
          throw err;
        }
        if (out.status === 'composition-failed')
          return fail(
            res,
            'COMPOSITION_FAILED',
            `Publishing ${route.subgraph} would break composition of ${graph}@${variant}; nothing changed.`,
            { version: out.version, errors: out.errors },
          );
        log.info(
          { graph, variant, subgraph: route.subgraph, version: out.version, status: out.status, actor: token.name },
          'publish',
        );
        return send(res, 200, { status: out.status, version: out.version });
      }
      case 'check': {
        const subs = body['subgraphs'];
        if (
          !Array.isArray(subs) ||
          !subs.length ||
          !subs.every((s) => typeof s?.name === 'string' && typeof s?.sdl === 'string')
        )
          return fail(res, 'BAD_REQUEST', 'Send { "subgraphs": [{ "name", "sdl" }] }.');
        for (const s of subs) if (tooLargeSdl(res, s.name, s.sdl)) return;
        const days = body['usageDays'] ?? null;
        if (days !== null && !(Number.isInteger(days) && (days as number) > 0 && (days as number) <= 36_500))
          return fail(res, 'BAD_REQUEST', '`usageDays` is a whole number of days (1 or more).');
        try {
          return send(
            res,
            200,
            await service.check(
              graph,
              variant,
              subs.map((s) => ({ name: s.name, sdl: s.sdl, url: typeof s.url === 'string' ? s.url : '' })),
              days as number | null,
            ),
          );
        } catch (err) {
          if (compositionRefused(res, err)) return;
          throw err;
        }
      }
      case 'rollback': {
        const to = body['version'];
        if (typeof to !== 'number') return fail(res, 'BAD_REQUEST', 'Send { "version": n }.');
        const out = await service.rollback(graph, variant, to, token.name);
        if (!out) return fail(res, 'REGISTRY_NOT_FOUND', `${graph}@${variant} has no version ${to}.`);
        log.info({ graph, variant, to, version: out.version, actor: token.name }, 'rollback');
        return send(res, 200, { status: 'rolled-back', version: out.version });
      }
      case 'publishOperations': {
        const parsed = parseManifest(body);
        if (!parsed.ok)
          return fail(res, 'OPERATIONS_INVALID', 'The manifest is malformed; nothing was stored.', {
            errors: parsed.errors.map((message) => ({ id: null, name: null, errors: [message] })),
          });
        let out;
        try {
          out = await service.publishManifest(
            graph,
            variant,
            { client: route.client!, version: route.clientVersion!, operations: parsed.operations },
            token.name,
          );
        } catch (err) {
          if (compositionRefused(res, err)) return;
          throw err;
        }
        if (out.status === 'no-supergraph')
          return fail(
            res,
            'REGISTRY_NOT_FOUND',
            `${graph}@${variant} has no supergraph to validate operations against.`,
          );
        if (out.status === 'conflict')
          return fail(res, 'OPERATIONS_CONFLICT', `${route.client}@${route.clientVersion}: nothing was stored.`, {
            errors: out.errors.map((message) => ({ id: null, name: null, errors: [message] })),
          });
        if (out.status === 'invalid')
          return fail(
            res,
            'OPERATIONS_INVALID',
            `${out.errors.length} operation${out.errors.length === 1 ? ' of ' : 's of '}${route.client}@${route.clientVersion} ${out.errors.length === 1 ? 'does' : 'do'} not validate against ${graph}@${variant}; nothing was stored.`,
            { errors: out.errors },
          );
        log.info(
          {
            graph,
            variant,
            client: route.client,
            version: route.clientVersion,
            operations: out.operations,
            status: out.status,
            actor: token.name,
          },
          'operations published',
        );
        return send(res, 200, out);
      }
      case 'operations': {
        const etag = `"ops:${graph}@${variant}:${store.manifestRevision(graph, variant)}"`;
        const headers = { etag, 'cache-control': 'no-cache' };
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, headers);
          res.end();
          return;
        }
        return send(res, 200, { graph, variant, manifests: store.manifests(graph, variant) }, headers);
      }
      case 'usage': {
        const ops = body['operations'];
        if (!Array.isArray(ops)) return fail(res, 'BAD_REQUEST', 'Send { "operations": [...] }.');
        const entries: UsageEntry[] = [];
        for (const o of ops) {
          if (typeof o?.hash !== 'string' || !Array.isArray(o.coordinates)) continue;
          for (const c of o.coordinates)
            if (typeof c === 'string')
              entries.push({
                coordinate: c,
                operationHash: o.hash,
                operationName: typeof o.name === 'string' ? o.name : null,
                client: typeof o.client === 'string' ? o.client : null,
                count: Number(o.count) || 1,
              });
        }
        service.recordUsage(graph, variant, entries);
        return send(res, 200, { recorded: entries.length });
      }
    }
  }
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Past this much body after a 413, the sender is not a confused client and its socket is closed. */
const DISCARD_AFTER_413_BYTES = 64 * 1024 * 1024;

function routeOf(
  method: string,
  rest: string,
): {
  name:
    | 'supergraph'
    | 'versions'
    | 'version'
    | 'publish'
    | 'check'
    | 'rollback'
    | 'usage'
    | 'publishOperations'
    | 'operations';
  permission: Permission;
  subgraph?: string;
  version?: number;
  client?: string;
  clientVersion?: string;
} | null {
  if (method === 'GET' && rest === 'supergraph') return { name: 'supergraph', permission: 'read' };
  if (method === 'GET' && rest === 'versions') return { name: 'versions', permission: 'read' };
  const v = /^versions\/(\d+)\/supergraph$/.exec(rest);
  if (method === 'GET' && v) return { name: 'version', permission: 'read', version: Number(v[1]) };
  const s = /^subgraphs\/([A-Za-z0-9_-]{1,64})$/.exec(rest);
  if (method === 'POST' && s) return { name: 'publish', permission: 'publish', subgraph: s[1]! };
  if (method === 'POST' && rest === 'check') return { name: 'check', permission: 'check' };
  if (method === 'POST' && rest === 'rollback') return { name: 'rollback', permission: 'publish' };
  if (method === 'POST' && rest === 'usage') return { name: 'usage', permission: 'read' };
  if (method === 'GET' && rest === 'operations') return { name: 'operations', permission: 'read' };
  const o = /^operations\/([^/]+)\/([^/]+)$/.exec(rest);
  if (method === 'POST' && o) {
    const client = safeDecode(o[1]!);
    const clientVersion = safeDecode(o[2]!);
    if (
      client !== null &&
      clientVersion !== null &&
      clientNamePattern.test(client) &&
      clientVersionPattern.test(clientVersion)
    )
      return { name: 'publishOperations', permission: 'publish', client, clientVersion };
  }
  return null;
}
