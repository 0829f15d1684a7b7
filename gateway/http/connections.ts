import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Open {
  /** Requests on this connection whose response has not finished. */
  busy: number;
  /** When it last became idle (connected, or finished its last response). */
  idleSince: number;
  /** The latest request seen on it, for answering a timeout or a parse error correctly. */
  last: { req: IncomingMessage; res: ServerResponse } | null;
}

/**
 * Every open client connection of the public listener and whether it is between requests. Node's
 * own `closeIdleConnections` (which `server.close()` calls) closes a keep-alive socket the moment
 * its response is done, which is exactly when a busy client writes its next request on it: that
 * request dies with ECONNRESET. A graceful stop instead closes only sockets idle for a while.
 */
export class Connections {
  private readonly open = new Map<Socket, Open>();
  /** TCP sockets, TLS handshakes included, so a stop can cut what never became an HTTP connection. */
  private readonly raw = new Set<Socket>();

  get size(): number {
    return this.open.size;
  }

  accepted(socket: Socket): void {
    this.raw.add(socket);
    socket.once('close', () => this.raw.delete(socket));
  }

  /** An HTTP connection (for TLS: once the handshake is done). */
  opened(socket: Socket): void {
    this.open.set(socket, { busy: 0, idleSince: performance.now(), last: null });
    socket.once('close', () => this.open.delete(socket));
  }

  requestStarted(req: IncomingMessage, res: ServerResponse): void {
    const c = this.open.get(req.socket as Socket);
    if (!c) return;
    c.busy++;
    c.last = { req, res };
    res.once('close', () => {
      c.busy--;
      c.idleSince = performance.now();
    });
  }

  /** The latest request and response on a socket (null before its first request). */
  lastExchange(socket: Socket): { req: IncomingMessage; res: ServerResponse } | null {
    return this.open.get(socket)?.last ?? null;
  }

  /** Closes connections with no request in progress that have been idle at least `idleMs`. */
  closeIdle(idleMs: number): void {
    const now = performance.now();
    for (const [socket, c] of this.open) {
      if (c.busy === 0 && now - c.idleSince >= idleMs) socket.destroy();
    }
  }

  destroyAll(): void {
    for (const socket of this.raw) socket.destroy();
    for (const socket of this.open.keys()) socket.destroy();
  }
}
