import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface SubgraphRequest {
  query: string;
  variables: Record<string, any> | null;
  operationName: string | null;
}

/** What the fault subgraph answers with. */
export type FaultReply =
  /** Any JSON body (shapes a real server would never send), with an optional status. */
  | { json: unknown; status?: number }
  /**
   * A real streamed body of `bytes` bytes: `prefix`, then `item` repeated (comma-separated)
   * until the size is reached, then `suffix`. Written with back-pressure, so a client that
   * stops reading stops the writer. `contentLength` announces the size up front; without it
   * the body is chunked.
   */
  | { stream: { bytes: number; prefix: string; item: string; suffix: string; contentLength: boolean } };

/** Decides the answer; `forward()` asks the real subgraph behind this one. */
export type FaultHandler = (
  req: SubgraphRequest,
  forward: () => Promise<{ status: number; json: any }>,
) => Promise<FaultReply> | FaultReply;

export interface FaultSubgraph extends AsyncDisposable {
  readonly url: string;
  /** `null`: pass everything through unchanged. */
  setFault(handler: FaultHandler | null): void;
  /** Requests seen since the last `resetStats`. */
  readonly requests: number;
  /** Bytes of streamed bodies that left this process before the client hung up (or all of them). */
  readonly streamedBytes: number;
  /** Streamed replies the client closed before the end. */
  readonly streamsCutShort: number;
  resetStats(): void;
  close(): Promise<void>;
}

/**
 * A subgraph process stand-in that speaks the federation protocol by forwarding to a real
 * subgraph (so `_service`, `_entities` and root fields work), and that can instead answer with
 * what a broken or hostile subgraph sends: wrong shapes, leaky errors, a 50 MB body.
 */
export async function startFaultSubgraph(targetUrl: string): Promise<FaultSubgraph> {
  let handler: FaultHandler | null = null;
  let requests = 0;
  let streamedBytes = 0;
  let streamsCutShort = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const raw = await readBody(req);
      requests++;
      const body = JSON.parse(raw) as {
        query: string;
        variables?: Record<string, any> | null;
        operationName?: string | null;
      };
      const forward = async () => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        for (const [k, v] of Object.entries(req.headers))
          if (k.startsWith('x-') && typeof v === 'string') headers[k] = v;
        const upstream = await request(targetUrl, { method: 'POST', headers, body: raw });
        return { status: upstream.statusCode, json: await upstream.body.json() };
      };
      const reply: FaultReply = handler
        ? await handler(
            { query: body.query, variables: body.variables ?? null, operationName: body.operationName ?? null },
            forward,
          )
        : { json: (await forward()).json };
      if ('stream' in reply) return await stream(res, reply.stream);
      const json = JSON.stringify(reply.json);
      res.writeHead(reply.status ?? 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(json),
      });
      res.end(json);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: `fault subgraph: ${(err as Error).message}` }] }));
    }
  };
  // node:http ignores a listener's promise; `handle` answers its own failures (the catch above).
  const server = createServer((req, res) => void handle(req, res));

  async function stream(res: ServerResponse, s: Extract<FaultReply, { stream: unknown }>['stream']): Promise<void> {
    const head = Buffer.from(s.prefix);
    const tail = Buffer.from(s.suffix);
    const item = Buffer.from(s.item);
    const comma = Buffer.from(`,${s.item}`);
    const items = Math.max(1, Math.floor((s.bytes - head.length - tail.length - item.length) / comma.length) + 1);
    const total = head.length + item.length + (items - 1) * comma.length + tail.length;
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(s.contentLength ? { 'content-length': String(total) } : {}),
    });
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    // 64 KiB writes, each awaited when the socket's buffer is full.
    const perChunk = Math.max(1, Math.floor(65_536 / comma.length));
    const write = async (buf: Buffer) => {
      if (closed) return;
      const flushed = res.write(buf);
      streamedBytes += buf.length;
      if (!flushed)
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
    };
    await write(Buffer.concat([head, item]));
    const full = Buffer.concat(Array.from({ length: perChunk }, () => comma));
    for (let sent = 1; sent < items && !closed; sent += perChunk) {
      const n = Math.min(perChunk, items - sent);
      await write(n === perChunk ? full : full.subarray(0, n * comma.length));
    }
    if (closed) {
      streamsCutShort++;
      return;
    }
    await write(tail);
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    setFault(h) {
      handler = h;
    },
    get requests() {
      return requests;
    },
    get streamedBytes() {
      return streamedBytes;
    },
    get streamsCutShort() {
      return streamsCutShort;
    },
    resetStats() {
      requests = 0;
      streamedBytes = 0;
      streamsCutShort = 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
