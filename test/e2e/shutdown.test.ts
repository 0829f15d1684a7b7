import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { eventually, getJson, gql, sleep } from '../../harness/http.ts';
import { RawConnection } from '../../harness/raw-http.ts';
import { startStack } from '../../harness/stack.ts';

describe('graceful shutdown', () => {
  it('on SIGTERM: readiness 503, the in-flight request completes, new connections are refused, exit 0', async () => {
    await using stack = await startStack({
      config: { server: { shutdown: { readinessDelayMs: 600, drainTimeoutMs: 10_000 } } },
    });
    await stack.subgraphs.reviews.fault({ delayMs: 1500, times: 1 });
    const inFlight = gql(stack.url, { query: '{ topProducts(first: 1) { name reviewCount } }' });
    await eventually(
      async () => (await stack.subgraphs.reviews.stats()).requests >= 1,
      5000,
      'the request to reach reviews',
    );

    stack.gateway.child.kill('SIGTERM');
    const ready = await eventually(
      async () => {
        const r = await getJson(`${stack.base}/ready`);
        return r.status === 503 ? r : null;
      },
      500,
      '/ready to turn 503',
    );
    assert.deepEqual(ready.body, { status: 'draining', supergraphGeneration: 1 });
    assert.equal(ready.headers.get('connection'), 'close');

    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { data: { topProducts: [{ name: 'Table', reviewCount: 3 }] } });
    assert.equal(
      res.headers.get('connection'),
      'close',
      'a request that arrived before the signal is answered with close too',
    );

    assert.equal(await stack.gateway.exited, 0);
    await assert.rejects(
      fetch(`${stack.base}/health`),
      (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED',
    );
    const messages = stack.gateway.logs().map((l) => l['msg']);
    assert.ok(messages.indexOf('shutting down: readiness is now 503') < messages.indexOf('gateway stopped'));
  });

  it('gives up on a request that outlives drainTimeoutMs and still exits 0', async () => {
    await using stack = await startStack({ config: { server: { shutdown: { drainTimeoutMs: 300 } } } });
    await stack.subgraphs.products.fault({ hang: true });
    const hung = fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ topProducts { name } }' }),
    }).then(
      () => 'answered',
      (err: Error & { cause?: { code?: string } }) => err.cause?.code,
    );
    await eventually(
      async () => (await stack.subgraphs.products.stats()).requests >= 1,
      5000,
      'the request to reach products',
    );
    const started = Date.now();
    stack.gateway.child.kill('SIGTERM');
    assert.equal(await stack.gateway.exited, 0);
    assert.ok(Date.now() - started < 5000);
    assert.equal(await hung, 'UND_ERR_SOCKET', 'the hung request is cut off, not answered');
    assert.ok(stack.gateway.logs().some((l) => l['msg'] === 'drain timeout reached; closing remaining connections'));
  });

  it('SIGTERM under load on 30 keep-alive connections: no request is reset; idle sockets close; new connections are refused', async () => {
    await using stack = await startStack();
    const pool = new Pool(stack.base, { connections: 30 });
    const body = JSON.stringify({ query: '{ topProducts(first: 2) { upc name reviewCount } }' });
    const expected = {
      data: {
        topProducts: [
          { upc: '1', name: 'Table', reviewCount: 3 },
          { upc: '2', name: 'Couch', reviewCount: 3 },
        ],
      },
    };
    let signalled = false;
    let refused = false;
    const seen = { before: 0, after: 0, closeAfter: 0, resets: [] as string[], refusals: 0, wrong: [] as string[] };
    const worker = async () => {
      while (!refused) {
        try {
          const res = await pool.request({
            path: '/graphql',
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          const text = await res.body.text();
          if ((res.statusCode !== 200 || text !== `${JSON.stringify(expected)}\n`) && seen.wrong.length < 5)
            seen.wrong.push(`${res.statusCode} ${text.slice(0, 200)}`);
          if (!signalled) seen.before++;
          else {
            seen.after++;
            if (res.headers['connection'] === 'close') seen.closeAfter++;
          }
        } catch (err) {
          const e = err as Error & { code?: string; cause?: { code?: string } };
          // A refusal at connect (the listener is closed) sent nothing: the client can retry it elsewhere.
          if ((e.code ?? e.cause?.code) === 'ECONNREFUSED') {
            seen.refusals++;
            refused = true;
          } else seen.resets.push(`${e.code ?? e.name}: ${e.message}`);
        }
      }
    };
    const workers = Array.from({ length: 30 }, worker);
    // An idle keep-alive connection from another client, open across the signal.
    await using idle = await RawConnection.open(Number(new URL(stack.base).port));
    await idle.write('GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n');
    assert.equal((await idle.response())?.status, 200);

    await eventually(async () => seen.before >= 300, 30_000, '300 answers under load');
    signalled = true;
    stack.gateway.child.kill('SIGTERM');
    assert.equal(await stack.gateway.exited, 0);
    await Promise.race([Promise.all(workers), sleep(5_000)]);
    refused = true;
    await Promise.all(workers);
    await pool.destroy();

    assert.deepEqual(seen.resets, [], 'no request was reset');
    assert.deepEqual(seen.wrong, []);
    assert.ok(seen.refusals >= 1, 'after the stop, connecting is refused');
    assert.ok(
      seen.closeAfter >= 1 && seen.closeAfter <= seen.after,
      `${seen.closeAfter} of ${seen.after} answers after the signal said close`,
    );
    await idle.closed; // the gateway closed the idle socket itself; the process could not exit otherwise
    assert.equal(idle.pending, 0, 'without writing anything on it');
  });
});
