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
