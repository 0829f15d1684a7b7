import { Pool } from 'undici';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';

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
