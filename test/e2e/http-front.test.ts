import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../gateway/config/load.ts';
import { eventually, getJson, gql, sleep } from '../../harness/http.ts';
import { troubling, withLogs } from '../../harness/logs.ts';
import { metric } from '../../harness/metrics.ts';
import { RawConnection } from '../../harness/raw-http.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const REQUEST_TIMEOUT_MS = 1_000;
const HEADERS_TIMEOUT_MS = 500;

const timeoutBody = (message: string) => ({ errors: [{ message, extensions: { code: 'REQUEST_TIMEOUT' } }] });
const BODY_TIMEOUT = timeoutBody(`The request body was not received within ${REQUEST_TIMEOUT_MS} ms.`);
const postHead = (extra: string) =>
  `POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n${extra}\r\n`;

describe('HTTP front: request and header timeouts, connection cap, metrics listener', () => {
  let stack: Stack;
  let port: number;
  before(async () => {
    stack = await startStack({
      config: {
        server: { requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS },
        log: { requests: true },
      },
    });
    port = Number(new URL(stack.url).port);
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  /** Sends `next()` every `everyMs` until the server closes the connection (or `max` sends, which means it never did). */
  async function dripUntilClosed(
    conn: RawConnection,
    next: (i: number) => string,
    everyMs: number,
    max: number,
  ): Promise<number> {
    let sent = 0;
    while (conn.isOpen && sent < max) {
      if (!(await conn.write(next(sent)))) break;
      sent++;
      await Promise.race([sleep(everyMs), conn.closed]);
    }
    return sent;
  }

  it('a body trickling at 1 byte/s is answered 408 REQUEST_TIMEOUT and the connection is closed', async () => {
    const { lines } = await withLogs(stack.gateway, stack.url, async () => {
      await using conn = await RawConnection.open(port);
      const body = '{"query":"{ topProducts { upc } }"}';
      await conn.write(postHead(`Content-Length: ${body.length}\r\n`));
      const sent = await dripUntilClosed(conn, (i) => body[i]!, 1_000, body.length);
      const res = await conn.response();
      assert.ok(res, 'a response was written before the close');
      assert.equal(res.status, 408);
      assert.equal(res.headers['connection'], 'close');
      assert.match(res.headers['x-request-id'] ?? '', /^[\w-]{36}$/, 'answered through the request, with its id');
      assert.deepEqual(JSON.parse(res.body), BODY_TIMEOUT);
      await conn.closed;
      assert.ok(sent < body.length, `cut after ${sent} of ${body.length} bytes`);
    });
    assert.deepEqual(troubling(lines), [], 'a client that is too slow is not a gateway error');
  });

  it('a chunked body that never ends is answered 408 and closed', async () => {
    const { lines } = await withLogs(stack.gateway, stack.url, async () => {
      await using conn = await RawConnection.open(port);
      await conn.write(postHead('Transfer-Encoding: chunked\r\n'));
      const sent = await dripUntilClosed(conn, () => '1\r\n \r\n', 100, 1_000);
      const res = await conn.response();
      assert.equal(res?.status, 408);
      assert.equal(res.headers['connection'], 'close');
      assert.deepEqual(JSON.parse(res.body), BODY_TIMEOUT);
      await conn.closed;
      assert.ok(sent < 1_000, `cut after ${sent} chunks`);
    });
    assert.deepEqual(troubling(lines), [], 'a client that is too slow is not a gateway error');
  });

  it('a slow body on a keep-alive connection that already carried a response gets its own 408', async () => {
    const { lines } = await withLogs(stack.gateway, stack.url, async () => {
      await using conn = await RawConnection.open(port);
      const query = '{"query":"{ topProducts(first: 1) { upc } }"}';
      await conn.write(postHead(`Content-Length: ${query.length}\r\n`) + query);
      const first = await conn.response();
      assert.equal(first?.status, 200);
      assert.deepEqual(JSON.parse(first.body), { data: { topProducts: [{ upc: '1' }] } });
      await conn.write(postHead(`Content-Length: ${query.length}\r\n`) + query.slice(0, 5));
      const second = await conn.response();
      assert.equal(second?.status, 408);
      assert.match(second.headers['x-request-id'] ?? '', /^[\w-]{36}$/);
      assert.notEqual(
        second.headers['x-request-id'],
        first.headers['x-request-id'],
        'the answer of the second request, not a stray line',
      );
      assert.deepEqual(JSON.parse(second.body), BODY_TIMEOUT);
      await conn.closed;
    });
    assert.deepEqual(troubling(lines), [], 'a client that is too slow is not a gateway error');
  });

  it('headers that never finish are answered 408 after headersTimeoutMs and closed', async () => {
    const { lines } = await withLogs(stack.gateway, stack.url, async () => {
      await using conn = await RawConnection.open(port);
      await conn.write('POST /graphql HTTP/1.1\r\nHost: gateway\r\nX-Slow: ');
      const sent = await dripUntilClosed(conn, () => 'a', 100, 1_000);
      const res = await conn.response();
      assert.equal(res?.status, 408);
      assert.equal(res.headers['connection'], 'close');
      assert.deepEqual(
        JSON.parse(res.body),
        timeoutBody(`The request headers were not received within ${HEADERS_TIMEOUT_MS} ms.`),
      );
      await conn.closed;
      assert.ok(sent < 1_000, `cut after ${sent} header bytes`);
    });
    assert.deepEqual(troubling(lines), [], 'a client that is too slow is not a gateway error');
  });

  it('a request that arrives whole is never timed out, however long the gateway takes to answer', async () => {
    await stack.subgraphs.reviews.fault({ delayMs: REQUEST_TIMEOUT_MS * 2, times: 1 });
    const res = await gql(stack.url, { query: '{ topProducts(first: 1) { upc reviewCount } }' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { data: { topProducts: [{ upc: '1', reviewCount: 3 }] } });
  });

  it('/metrics is not served on the public port, only on the metrics listener (loopback)', async () => {
    const pub = await getJson(`${stack.base}/metrics`);
    assert.equal(pub.status, 404);
    assert.deepEqual(pub.body, {
      errors: [
        { message: 'No endpoint at /metrics. GraphQL is served at /graphql.', extensions: { code: 'NOT_FOUND' } },
      ],
    });

    const url = new URL(stack.metricsUrl);
    assert.equal(url.hostname, '127.0.0.1');
    assert.notEqual(url.port, new URL(stack.base).port);
    assert.equal(url.pathname, '/metrics');
    const res = await fetch(stack.metricsUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^tessera_requests_total\{operation_type="query",outcome="success"\} \d+$/m);
    assert.match(text, /^tessera_http_open_connections \d+$/m);
    const elsewhere = await getJson(new URL('/graphql', stack.metricsUrl).href);
    assert.equal(elsewhere.status, 404);
    assert.deepEqual(elsewhere.body, {
      errors: [
        {
          message: 'Metrics are served at /metrics, the subgraph health view at /health/subgraphs.',
          extensions: { code: 'NOT_FOUND' },
        },
      ],
    });
    const listening = stack.gateway.logs().find((l) => l['msg'] === 'metrics listening');
    assert.equal(listening?.['url'], stack.metricsUrl);
  });

  it('metrics.enabled: false opens no metrics listener', async () => {
    const g = await stack.startGateway({ metrics: { enabled: false } });
    assert.equal(g.metricsUrl, '');
    assert.equal(g.proc.logs().find((l) => l['msg'] === 'gateway listening')?.['metricsUrl'], null);
    assert.ok(!g.proc.logs().some((l) => l['msg'] === 'metrics listening'));
    assert.equal((await getJson(`${g.base}/metrics`)).status, 404);
    await g.proc.kill();
  });

  it('past server.maxConnections a new connection is closed on accept; the others are served', async () => {
    const g = await stack.startGateway({ server: { maxConnections: 3 } });
    const gPort = Number(new URL(g.url).port);
    const query = '{"query":"{ topProducts(first: 1) { upc } }"}';
    const request = postHead(`Content-Length: ${query.length}\r\n`) + query;
    const served = async (conn: RawConnection) => {
      await conn.write(request);
      const res = await conn.response();
      assert.equal(res?.status, 200);
      assert.deepEqual(JSON.parse(res.body), { data: { topProducts: [{ upc: '1' }] } });
    };
    const open = await Promise.all([0, 1, 2].map(() => RawConnection.open(gPort)));
    for (const conn of open) await served(conn); // each one accepted and kept alive
    assert.equal(await metric(g.metricsUrl, 'tessera_http_open_connections'), 3);

    const fourth = await RawConnection.open(gPort); // the kernel completes the handshake...
    await fourth.write(request);
    assert.equal(await fourth.response(), null, '...and the gateway closes it without an answer');
    assert.equal(fourth.pending, 0);
    assert.equal(await metric(g.metricsUrl, 'tessera_http_connections_dropped_total'), 1);
    assert.ok(
      g.proc
        .logs()
        .some((l) => l['msg'] === 'connection dropped: server.maxConnections reached' && l['maxConnections'] === 3),
    );

    for (const conn of open) await served(conn); // the three keep working
    open[0]!.close();
    await open[0]!.closed;
    await eventually(
      async () => (await metric(g.metricsUrl, 'tessera_http_open_connections')) === 2,
      5_000,
      'the gateway to see the close',
    );
    await using again = await RawConnection.open(gPort);
    await served(again); // a freed slot is usable
    for (const conn of open) conn.close();
    await g.proc.kill();
  });

  it('a metrics port already in use stops start-up with exit 1, naming the key', async () => {
    await using blocker = await listenOn(0);
    const taken = (blocker.server.address() as AddressInfo).port;
    await assert.rejects(stack.startGateway({ metrics: { port: taken } }), (err: Error) => {
      assert.match(err.message, /process exited \(1\)/);
      assert.ok(
        err.message.includes(`cannot listen on 127.0.0.1:${taken} (\`metrics.host\`/\`metrics.port\`): EADDRINUSE`),
        err.message,
      );
      return true;
    });
  });

  it('refuses a config whose headers timeout exceeds its request timeout (Node would throw at start)', () => {
    assert.throws(
      () =>
        parseConfig({
          server: { requestTimeoutMs: 5_000, headersTimeoutMs: 6_000 },
          supergraph: { file: 'x.graphql' },
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.includes('server.headersTimeoutMs: must be at most `server.requestTimeoutMs`'),
    );
  });
});

async function listenOn(port: number): Promise<{ server: Server } & AsyncDisposable> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
