import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Connections } from '../http/connections.ts';
import type { Lifecycle } from './state.ts';

/**
 * A keep-alive connection idle this long after a stop began is closed. One that carries another
 * request before then is served, and that response (like every response after the signal) says
 * `Connection: close`, so the client drops the socket instead of reusing one the gateway closes.
 * Under load a socket is never idle this long; a client idle this long is not about to write.
 */
export const IDLE_CLOSE_MS = 1_000;
const POLL_MS = 25;

/**
 * Stops accepting, lets every open connection finish what it is doing, and resolves once all are
 * closed: true when every in-flight request finished, false when `timeoutMs` ran out first and the
 * rest were cut. Responses already carry `Connection: close` (the lifecycle phase is no longer
 * `serving`; see http/server.ts).
 */
export async function drainConnections(
  server: Server,
  connections: Connections,
  lifecycle: Lifecycle,
  timeoutMs: number,
): Promise<boolean> {
  // net.Server's close only stops listening. http.Server's close() also runs
  // closeIdleConnections(), which resets the sockets busy clients are about to reuse.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  const deadline = performance.now() + timeoutMs;
  while (connections.size > 0 || lifecycle.inFlightRequests > 0) {
    if (performance.now() >= deadline) break;
    connections.closeIdle(IDLE_CLOSE_MS);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const drained = lifecycle.inFlightRequests === 0;
  connections.destroyAll();
  await closed;
  return drained;
}
