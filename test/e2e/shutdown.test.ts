import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, getJson, gql } from '../harness/http.ts';
import { startStack } from '../harness/stack.ts';

describe('graceful shutdown', () => {
  it('on SIGTERM: readiness 503, the in-flight request completes, new connections are refused, exit 0', async () => {
    await using stack = await startStack({ config: { server: { shutdown: { readinessDelayMs: 600, drainTimeoutMs: 10_000 } } } });
    await stack.subgraphs.reviews.fault({ delayMs: 1500, times: 1 });
    const inFlight = gql(stack.url, { query: '{ topProducts(first: 1) { name reviewCount } }' });
    await eventually(async () => (await stack.subgraphs.reviews.stats()).requests >= 1, 5000, 'the request to reach reviews');

    stack.gateway.child.kill('SIGTERM');
    const ready = await eventually(async () => {
      const r = await getJson(`${stack.base}/ready`);
      return r.status === 503 ? r : null;
    }, 500, '/ready to turn 503');
    assert.deepEqual(ready.body, { status: 'draining', supergraphGeneration: 1 });
    assert.equal(ready.headers.get('connection'), 'close');

    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { data: { topProducts: [{ name: 'Table', reviewCount: 3 }] } });

    assert.equal(await stack.gateway.exited, 0);
    await assert.rejects(fetch(`${stack.base}/health`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED');
    const messages = stack.gateway.logs().map((l) => l['msg']);
    assert.ok(messages.indexOf('shutting down: readiness is now 503') < messages.indexOf('gateway stopped'));
  });

  it('gives up on a request that outlives drainTimeoutMs and still exits 0', async () => {
    await using stack = await startStack({ config: { server: { shutdown: { drainTimeoutMs: 300 } } } });
    await stack.subgraphs.products.fault({ hang: true });
    const hung = fetch(stack.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ topProducts { name } }' }) }).then(
      () => 'answered',
      (err: Error & { cause?: { code?: string } }) => err.cause?.code,
    );
    await eventually(async () => (await stack.subgraphs.products.stats()).requests >= 1, 5000, 'the request to reach products');
    const started = Date.now();
    stack.gateway.child.kill('SIGTERM');
    assert.equal(await stack.gateway.exited, 0);
    assert.ok(Date.now() - started < 5000);
    assert.equal(await hung, 'UND_ERR_SOCKET', 'the hung request is cut off, not answered');
    assert.ok(stack.gateway.logs().some((l) => l['msg'] === 'drain timeout reached; closing remaining connections'));
  });
});
