import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
}

/**
 * One TCP connection that speaks HTTP/1.1 byte by byte: for what no HTTP client will send (a body
 * at 1 byte/s, a chunked body that never ends, broken framing) and for watching the server close it.
 */
export class RawConnection implements AsyncDisposable {
  readonly socket: Socket;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;
  private buffer = Buffer.alloc(0);
  private isClosed = false;
  private waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    // A reset is one way for the server to close; the test reads `isOpen`/`closed`, not the error.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Bytes received so far that no `response()` call has consumed. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Writes unless the connection is already closed; false when it was. */
  write(data: string | Buffer): Promise<boolean> {
    if (this.isClosed || this.socket.destroyed || !this.socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(data, (err) => resolve(!err)));
  }

  /** The next complete response (Content-Length framed, or read until close), or null if the connection closes first. */
  async response(timeoutMs = 15_000): Promise<RawResponse | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.parse();
      if (parsed) return parsed;
      if (this.isClosed) return null;
      if (Date.now() > deadline)
        throw new Error(
          `no complete response within ${timeoutMs} ms; received: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 500))}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.closed;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private parse(): RawResponse | null {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
    const available = this.buffer.length - end - 4;
    if (length === null ? !this.isClosed : available < length) return null;
    const take = length ?? available;
    const body = this.buffer.subarray(end + 4, end + 4 + take).toString('utf8');
    this.buffer = this.buffer.subarray(end + 4 + take);
    return { status, headers, body };
  }
}
