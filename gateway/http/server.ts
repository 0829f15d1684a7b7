import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Config } from '../config/schema.ts';
import type { GatewayContext } from '../context.ts';
import type { Lifecycle } from '../lifecycle/state.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { RequestState, type PolicyRunner } from '../policy-runner/runner.ts';
import { BodyTooLargeError, readBody } from './read-body.ts';
import { requestIdFrom } from './request-id.ts';
import { sendError, sendJson } from './respond.ts';

export interface HttpDeps {
  readonly config: Config;
  readonly apollo: ApolloServer<GatewayContext>;
  readonly lifecycle: Lifecycle;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly policies: PolicyRunner;
  /** Extra fields for /ready (e.g. the supergraph generation). */
  readonly readyInfo: () => Record<string, unknown>;
}

/**
 * The gateway's HTTP front: plain node:http, so the only per-request work is ours and Apollo's.
 * It frames GraphQL-over-HTTP (methods, media types, body limit) and hands the parsed request to
 * Apollo Server, which parses, validates, plans and executes.
 */
export function createHttpServer(deps: HttpDeps): Server {
  const { config, lifecycle, log, metrics } = deps;
  const handler: RequestListener = (req, res) => {
    const started = performance.now();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    lifecycle.requestStarted();
    metrics.inFlight.inc();
    res.once('close', () => {
      lifecycle.requestFinished();
      metrics.inFlight.dec();
      if (config.log.requests) {
        log.info({ requestId, method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10 }, 'request completed');
      }
    });
    // While shutting down, no response keeps its socket open.
    if (lifecycle.phase !== 'serving') res.setHeader('connection', 'close');
    route(req, res, requestId, deps).catch((err: unknown) => {
      log.error({ requestId, err: (err as Error)?.stack ?? String(err) }, 'unhandled error in HTTP handler');
      sendError(res, 'INTERNAL_SERVER_ERROR', 'Internal server error', req.headers.accept);
    });
  };
  const tls = config.server.tls;
  const server: Server = tls
    ? createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requestClientCert, rejectUnauthorized: tls.requestClientCert }, handler)
    : createServer(handler);
  server.keepAliveTimeout = 65_000; // above common load-balancer idle timeouts (60 s)
  server.headersTimeout = 66_000;
  return server;
}

async function route(req: IncomingMessage, res: ServerResponse, requestId: string, deps: HttpDeps): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  switch (path) {
    case '/graphql':
      return handleGraphQL(req, res, requestId, q === -1 ? '' : url.slice(q), deps);
    case '/health':
      return sendJson(res, 200, JSON.stringify({ status: 'ok' }));
    case '/metrics': {
      const text = await deps.metrics.registry.metrics();
      return sendJson(res, 200, text, deps.metrics.registry.contentType);
    }
    case '/ready': {
      const ready = deps.lifecycle.ready;
      return sendJson(res, ready ? 200 : 503, JSON.stringify({ status: ready ? 'ready' : deps.lifecycle.phase, ...deps.readyInfo() }));
    }
    default:
      return sendError(res, 'NOT_FOUND', `No endpoint at ${path}. GraphQL is served at /graphql.`, req.headers.accept);
  }
}

async function handleGraphQL(req: IncomingMessage, res: ServerResponse, requestId: string, search: string, deps: HttpDeps): Promise<void> {
  const accept = req.headers.accept;
  if (deps.lifecycle.phase === 'closing' || deps.lifecycle.phase === 'stopped') {
    return sendError(res, 'SHUTTING_DOWN', 'The gateway is shutting down; retry on another instance.', accept, { 'retry-after': '1' });
  }
  let body: unknown;
  if (req.method === 'POST') {
    const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json' && mediaType !== 'application/graphql-response+json') {
      req.resume();
      return sendError(res, 'UNSUPPORTED_MEDIA_TYPE', `POST bodies must be application/json, not ${mediaType ?? 'missing'}.`, accept);
    }
    let text: string;
    try {
      text = await readBody(req, deps.config.server.bodyLimitBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        // The rest of the body is never read, so this socket cannot carry another request.
        return sendError(res, 'PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${deps.config.server.bodyLimitBytes} bytes.`, accept, { connection: 'close' });
      }
      throw err;
    }
    try {
      body = JSON.parse(text);
    } catch {
      return sendError(res, 'BAD_REQUEST', 'Request body is not valid JSON.', accept);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendError(res, 'BAD_REQUEST', 'Request body must be a JSON object (batching is not enabled).', accept);
    }
  } else if (req.method !== 'GET') {
    req.resume();
    return sendError(res, 'METHOD_NOT_ALLOWED', `${req.method} is not supported on /graphql; use GET or POST.`, accept, { allow: 'GET, POST' });
  }

  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const state = new RequestState(requestId, req.headers, req.socket.remoteAddress ?? '', deps.log);
  const context: GatewayContext = { requestId, log: deps.log, headers: req.headers, policy: state };
  const result = await deps.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method, headers, search, body },
    // Request-phase policies (authentication) run here: a GraphQLError thrown from the context
    // function is sent as-is, with the status and headers on its `extensions.http`.
    context: async () => {
      await deps.policies.onRequest(state);
      return context;
    },
  });
  for (const [name, value] of result.headers) res.setHeader(name, value);
  if (state.responseHeaders) for (const [name, value] of state.responseHeaders) res.setHeader(name, value);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    res.setHeader('content-length', Buffer.byteLength(result.body.string));
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}

