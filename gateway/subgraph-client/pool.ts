import { Pool } from 'undici';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';

/** A keep-alive connection pool for one subgraph origin. */
export function createPool(settings: SubgraphSettings): Pool {
  const origin = new URL(settings.url).origin;
  return new Pool(origin, {
    connections: settings.pool.connections,
    pipelining: settings.pool.pipelining,
    keepAliveTimeout: settings.pool.keepAliveTimeoutMs,
    connect: { timeout: settings.connectTimeoutMs },
    // The overall deadline (an AbortSignal per request) bounds the request; these only stop a
    // stalled socket from living past it.
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  });
}
