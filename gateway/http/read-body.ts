import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {}
export class BodyNotUtf8Error extends Error {}
/** The connection closed before the body ended: the client left, or the gateway cut a request that timed out. */
export class BodyAbortedError extends Error {}

// `fatal`: invalid bytes are the client's error, not text to patch with U+FFFD (that would change
// what a mutation stores). A leading byte-order mark is dropped, as RFC 8259 allows.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the body up to `limitBytes` as UTF-8; rejects early on a Content-Length that is already too big. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      try {
        resolve(utf8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      } catch {
        reject(new BodyNotUtf8Error());
      }
    });
    // A request whose socket closes mid-body emits 'error' (ECONNRESET "aborted") and 'close';
    // either way nobody is left to answer.
    req.once('error', () => reject(new BodyAbortedError()));
    req.once('close', () => {
      if (!req.complete) reject(new BodyAbortedError());
    });
  });
}

/**
 * After an early 413 the client is usually still sending. Closing the socket at once would reset it
 * under the client, and most clients (fetch among them) then report the reset, not the 413. So the
 * rest is read and thrown away, never kept (nginx's lingering close), up to `maxBytes`, past which
 * the sender is not a confused client any more and the socket is closed.
 */
export function discardBody(req: IncomingMessage, maxBytes: number): void {
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxBytes) req.socket.destroy();
  });
  req.resume();
}
