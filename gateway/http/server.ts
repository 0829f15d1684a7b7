import {
  createServer,
  maxHeaderSize,
  ServerResponse,
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  type Server,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { DropArgument, Socket } from 'node:net';
import type { Config } from '../config/schema.ts';
import { errorCodes, type ErrorCode } from '../errors/codes.ts';
import { errorBody } from '../errors/tessera-error.ts';
import type { Lifecycle } from '../lifecycle/state.ts';
import { LogThrottle } from '../observability/log-throttle.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { clientName } from '../observability/client-name.ts';
import { traceSlot, type RequestTrace, type Tracing } from '../observability/tracing.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import { RequestContext } from '../pipeline/request-context.ts';
import { Connections } from './connections.ts';
import { createCors, type Cors } from './cors.ts';
import { createExplorer, type Explorer } from './explorer.ts';
import { BodyAbortedError, BodyNotUtf8Error, BodyTooLargeError, readBody } from './read-body.ts';
import { requestIdFrom } from './request-id.ts';
import { sendError, sendJson } from './respond.ts';

export interface HttpDeps {
  readonly config: Config;
  /** Runs each /graphql request through the plugins and the engine. */
  readonly pipeline: Pipeline;
  readonly lifecycle: Lifecycle;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Extra fields for /ready (e.g. the supergraph generation). */
  readonly readyInfo: () => Record<string, unknown>;
  /** Null when `telemetry.tracing.enabled` is false: then no request makes a span. */
  readonly tracing?: Tracing | null;
}

/** What a /graphql request adds to its `request completed` line (so logs and traces join). */
interface GraphQLLogInfo {
  trace: RequestTrace | null;
  client: string | null;
  operationName: string | null;
  operationType: string | null;
}

export interface HttpFront {
  readonly server: Server;
  /** The open client connections, for a graceful stop (lifecycle/drain.ts). */
  readonly connections: Connections;
}

/**
 * The gateway's HTTP front: plain node:http, so the only per-request work is ours and the
 * engine's. It frames GraphQL-over-HTTP (methods, media types, body limit, timeouts) and hands the
 * parsed request to the pipeline (pipeline/pipeline.ts), which runs the plugins and the engine.
 */
export function createHttpServer(deps: HttpDeps): HttpFront {
  const { config, lifecycle, log, metrics } = deps;
  const connections = new Connections();
  const browser: BrowserFront = {
    cors: createCors(config.server.cors),
    explorer: createExplorer(config.server.landingPage, log),
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    lifecycle.requestStarted();
    connections.requestStarted(req, res);
    metrics.inFlight.inc();
    const graphql: { info: GraphQLLogInfo | null } = { info: null };
    res.once('close', () => {
      lifecycle.requestFinished();
      metrics.inFlight.dec();
      const info = graphql.info;
      info?.trace?.end(res.statusCode);
      if (config.log.requests) {
        const path = req.url?.split('?')[0];
        // Probes arrive every few seconds from every load balancer: below info unless asked for.
        const level = path === '/health' || path === '/ready' ? config.log.probes : 'info';
        if (level === 'off') return;
        log[level](
          {
            requestId,
            method: req.method,
            path,
            status: res.statusCode,
            ms: Math.round((performance.now() - started) * 10) / 10,
            ...(info
              ? {
                  operationName: info.operationName,
                  operationType: info.operationType,
                  client: info.client,
                  ...(info.trace ? { traceId: info.trace.traceId, spanId: info.trace.spanId } : {}),
                }
              : {}),
          },
          'request completed',
        );
      }
    });
    route(req, res, requestId, deps, browser, started, graphql).catch((err: unknown) => {
      // Nobody is left to answer: the client went away, or a timeout already answered and closed.
      if (err instanceof BodyAbortedError) return;
      log.error({ requestId, err: (err as Error)?.stack ?? String(err) }, 'unhandled error in HTTP handler');
      sendError(res, 'INTERNAL_SERVER_ERROR', 'Internal server error', req.headers.accept);
    });
  };
  const { tls, requestTimeoutMs, headersTimeoutMs } = config.server;
  const options = {
    // Node cuts a request whose body is still arriving at requestTimeout, and one whose headers
    // are at headersTimeout, both counted from the request's first byte (so keep-alive idle time
    // never counts, and headersTimeout need not exceed keepAliveTimeout as it once had to).
    requestTimeout: requestTimeoutMs,
    headersTimeout: headersTimeoutMs,
    // Both are checked on this interval (Node's default: 30 s), so a request is cut at most one
    // interval after its deadline.
    connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
    ServerResponse: closingAwareResponse(lifecycle),
  };
  const server: Server = tls
    ? createTlsServer(
        {
          ...options,
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          requestCert: tls.requestClientCert,
          rejectUnauthorized: tls.requestClientCert,
        },
        handler,
      )
    : createServer(options, handler);
  server.keepAliveTimeout = 65_000; // above common load-balancer idle timeouts (60 s)
  server.maxConnections = config.server.maxConnections;
  server.on('connection', (socket: Socket) => connections.accepted(socket));
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => connections.opened(socket));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(err, socket, connections, config),
  );
  const throttle = new LogThrottle(10_000);
  // Past maxConnections Node closes each new connection as soon as it is accepted: the client
  // sees its connection reset (or closed) before any response, and can go to another replica.
  server.on('drop', (data?: DropArgument) => {
    metrics.connectionsDropped.inc();
    const suppressed = throttle.take('drop');
    if (suppressed !== null)
      log.warn(
        { maxConnections: config.server.maxConnections, remoteAddress: data?.remoteAddress, suppressed },
        'connection dropped: server.maxConnections reached',
      );
  });
  metrics.openConnectionCount = () => connections.size;
  return { server, connections };
}

/**
 * A response that asks for `Connection: close` whenever its headers are written after a stop
 * began, including for requests that arrived before it: a client must never reuse a socket the
 * gateway is about to close (that request would die with ECONNRESET).
 */
function closingAwareResponse(lifecycle: Lifecycle): typeof ServerResponse<IncomingMessage> {
  return class GatewayResponse extends ServerResponse<IncomingMessage> {
    override writeHead(
      statusCode: number,
      reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
      headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
    ): this {
      // Also reached from the first write()/end() (Node's implicit header), so no path skips it.
      if (lifecycle.phase !== 'serving' && !this.headersSent) this.setHeader('connection', 'close');
      return typeof reasonOrHeaders === 'string'
        ? super.writeHead(statusCode, reasonOrHeaders, headers)
        : super.writeHead(statusCode, reasonOrHeaders);
    }
  };
}

/**
 * Node answers broken HTTP and its own timeouts with a bare status line written straight to the
 * socket, beside the response the handler is still holding. Tessera answers each with a catalog
 * code, through that response when one is waiting (so it carries the request id).
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, connections: Connections, config: Config): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const last = connections.lastExchange(socket);
  // The handler is running and this request's body has not all arrived.
  const reading = last && !last.req.complete ? last : null;
  const [code, message] = describeClientError(err, reading !== null, config);
  if (reading) {
    if (reading.res.headersSent) socket.destroy();
    // Sent with `Connection: close`, so Node closes the socket once it is written.
    else sendError(reading.res, code, message, reading.req.headers.accept, { connection: 'close' });
    return;
  }
  // A response is still being written: another one would corrupt it.
  if (last && !last.res.writableFinished) {
    socket.destroy();
    return;
  }
  const status = errorCodes[code].status ?? 400;
  const body = errorBody(code, message);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
  // A client that never reads must not keep the socket open.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

function describeClientError(err: NodeJS.ErrnoException, readingBody: boolean, config: Config): [ErrorCode, string] {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return readingBody
        ? ['REQUEST_TIMEOUT', `The request body was not received within ${config.server.requestTimeoutMs} ms.`]
        : ['REQUEST_TIMEOUT', `The request headers were not received within ${config.server.headersTimeoutMs} ms.`];
    case 'HPE_HEADER_OVERFLOW':
      return ['HEADERS_TOO_LARGE', `The request line and headers exceed ${maxHeaderSize} bytes.`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return ['PAYLOAD_TOO_LARGE', 'The chunk extensions of the request body are too large.'];
    default: {
      // llhttp's reason ("Invalid header value char", …) describes the client's bytes, nothing internal.
      const reason = (err as { reason?: unknown }).reason;
      return ['BAD_REQUEST', `The request is not valid HTTP/1.1${typeof reason === 'string' ? `: ${reason}` : ''}.`];
    }
  }
}

/** What the front does for browsers (gateway/http/cors.ts, explorer.ts); each is null when configured off. */
interface BrowserFront {
  readonly cors: Cors | null;
  readonly explorer: Explorer | null;
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  deps: HttpDeps,
  browser: BrowserFront,
  started: number,
  graphql: { info: GraphQLLogInfo | null },
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (browser.cors?.handle(req, res)) return;
  if (await browser.explorer?.handle(req, res, path, q === -1 ? '' : url.slice(q))) return;
  switch (path) {
    case '/graphql':
      return handleGraphQL(req, res, requestId, q === -1 ? '' : url.slice(q), deps, started, graphql);
    case '/health':
      return sendJson(res, 200, JSON.stringify({ status: 'ok' }));
    case '/ready': {
      // With server.readyRequiresSubgraphs, an open circuit takes the replica out of rotation.
      const open = deps.config.server.readyRequiresSubgraphs ? deps.metrics.health.open() : [];
      const ready = deps.lifecycle.ready && open.length === 0;
      const status = ready ? 'ready' : deps.lifecycle.ready ? 'subgraphs-unavailable' : deps.lifecycle.phase;
      return sendJson(
        res,
        ready ? 200 : 503,
        JSON.stringify({ status, ...deps.readyInfo(), ...(open.length ? { openSubgraphs: open } : {}) }),
      );
    }
    default:
      // /metrics included: it is served on its own listener (metrics.port), never on the public one.
      return sendError(
        res,
        'NOT_FOUND',
        `No endpoint at ${path.length > 256 ? `${path.slice(0, 256)}…` : path}. GraphQL is served at /graphql.`,
        req.headers.accept,
      );
  }
}

async function handleGraphQL(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  search: string,
  deps: HttpDeps,
  started: number,
  graphql: { info: GraphQLLogInfo | null },
): Promise<void> {
  const accept = req.headers.accept;
  const method = req.method ?? 'GET';
  // Made before any refusal, so every request that reaches /graphql goes through onResponse.
  const ctx = new RequestContext({
    requestId,
    method,
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress ?? '',
    log: deps.log,
    startedAt: started,
  });
  const info: GraphQLLogInfo = (graphql.info = {
    trace: null,
    client: clientName(req.headers, deps.config.telemetry.clientHeader),
    operationName: null,
    operationType: null,
  });
  if (deps.tracing) {
    const trace = (info.trace = deps.tracing.startRequest({
      method,
      headers: req.headers,
      path: '/graphql',
      scheme: deps.config.server.tls ? 'https' : 'http',
      peer: ctx.remoteAddress,
      requestId,
    }));
    if (info.client !== null) trace.server.setAttribute('tessera.client.name', info.client);
    ctx.set(traceSlot, trace);
  }
  const refuse = async (code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    await deps.pipeline.refused(ctx, errorCodes[code].status ?? 500, { errors: [{ message, extensions: { code } }] });
    sendError(res, code, message, accept, headers);
  };
  // While draining, requests on connections that are already open are still served (their
  // responses close the connection); only after the stop is there nothing left to serve them.
  if (deps.lifecycle.phase === 'stopped') {
    return refuse('SHUTTING_DOWN', 'The gateway is shutting down; retry on another instance.', { 'retry-after': '1' });
  }
  let body: unknown;
  if (method === 'POST') {
    const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json' && mediaType !== 'application/graphql-response+json') {
      req.resume();
      return refuse('UNSUPPORTED_MEDIA_TYPE', `POST bodies must be application/json, not ${mediaType ?? 'missing'}.`);
    }
    let text: string;
    try {
      text = await readBody(req, deps.config.server.bodyLimitBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        // The rest of the body is never read, so this socket cannot carry another request.
        return refuse(
          'PAYLOAD_TOO_LARGE',
          `Request body exceeds the limit of ${deps.config.server.bodyLimitBytes} bytes.`,
          { connection: 'close' },
        );
      }
      if (err instanceof BodyNotUtf8Error) return refuse('BAD_REQUEST', 'Request body is not valid UTF-8.');
      throw err;
    }
    try {
      // V8's JSON.parse is iterative: no nesting depth overflows it (a 1 MiB body of `[` parses).
      body = JSON.parse(text);
    } catch {
      return refuse('BAD_REQUEST', 'Request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return refuse('BAD_REQUEST', 'Request body must be a JSON object (batching is not enabled).');
    }
  } else if (method !== 'GET') {
    req.resume();
    return refuse('METHOD_NOT_ALLOWED', `${method} is not supported on /graphql; use GET or POST.`, {
      allow: 'GET, POST',
    });
  }

  const result = await deps.pipeline.execute(ctx, { method, headers: req.headers, search, body });
  info.operationName = result.operation.name;
  info.operationType = result.operation.type;
  for (const [name, value] of result.headers) res.setHeader(name, value);
  res.statusCode = result.status;
  if (result.body.kind === 'complete') {
    res.setHeader('content-length', Buffer.byteLength(result.body.string));
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.chunks) res.write(chunk);
  res.end();
}
