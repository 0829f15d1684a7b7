import { Pool } from 'undici';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';
import { classifyFailure, errorCode, httpFailure, TOO_LARGE } from './classify-failure.ts';
import { bodyOf, type ClientScope, type SubgraphFetch } from './fetch.ts';
import { statusFailure, transportFailure } from './retry-policy.ts';

/**
 * The bottom of the client: one HTTP exchange on the subgraph's keep-alive pool. It reads the
 * whole body (within `maxResponseBytes`) and says what the exchange ended with: a reply, or a
 * failure for what the breaker counts and the retry layer may retry (transport errors, the
 * deadline layer's aborts, 5xx and 429, with Retry-After).
 */
export function transport(scope: ClientScope): SubgraphFetch {
  const { settings } = scope;
  const name = settings.name;
  const pool = createPool(settings);
  scope.onClose((force) => (force ? pool.destroy() : pool.close()));
  const url = new URL(settings.url);
  const path = `${url.pathname}${url.search}`;
  const maxBytes = settings.maxResponseBytes;

  return async (request) => {
    // After the dedupe key was taken: the id differs per request.
    if (request.requestId) request.headers['x-request-id'] = request.requestId;
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const res = await pool.request({
        path,
        method: 'POST',
        headers: request.headers,
        body: bodyOf(request),
        signal: request.signal,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      // An announced size over the cap is refused before a byte of the body is read; undici
      // enforces the cap on what actually arrives (chunked bodies, lying headers).
      const announced = Number(res.headers['content-length']);
      if (announced > maxBytes) {
        res.body.destroy();
        throw Object.assign(new Error(`Content-Length ${announced} > maxResponseBytes ${maxBytes}`), {
          code: TOO_LARGE,
        });
      }
      text = await res.body.text();
    } catch (err) {
      return { ok: false, failure: classifyFailure(name, err), retry: transportFailure(errorCode(err)) };
    }
    if (status >= 500 || status === 429)
      return {
        ok: false,
        failure: httpFailure(name, status, `body: ${text.slice(0, 200)}`),
        retry: statusFailure(status, retryAfter),
      };
    return { ok: true, status, text };
  };
}

/** A keep-alive connection pool for one subgraph origin, with its TLS client settings. */
export function createPool(settings: SubgraphSettings): Pool {
  const origin = new URL(settings.url).origin;
  const { tls } = settings;
  return new Pool(origin, {
    connections: settings.pool.connections,
    pipelining: settings.pool.pipelining,
    keepAliveTimeout: settings.pool.keepAliveTimeoutMs,
    // A server's `Keep-Alive: timeout=N` hint may shorten idle time, never lengthen it past ours.
    keepAliveMaxTimeout: settings.pool.keepAliveTimeoutMs,
    connect: {
      timeout: settings.connectTimeoutMs,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.servername ? { servername: tls.servername } : {}),
      ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
    },
    // Per-attempt limits: a stalled attempt's socket is destroyed, not left to linger. The
    // overall deadline (an AbortSignal per request) bounds all attempts together.
    headersTimeout: settings.attemptTimeoutMs,
    bodyTimeout: settings.attemptTimeoutMs,
    // undici counts body bytes as they arrive and destroys the socket at the first chunk past
    // the cap (UND_ERR_RES_EXCEEDED_MAX_SIZE), so no answer is ever buffered beyond it.
    maxResponseSize: settings.maxResponseBytes,
  });
}
