import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent, fetch } from 'undici';
import { eventually, sleep } from '../../harness/http.ts';
import { metric, openSockets } from '../../harness/metrics.ts';
import { startStack } from '../../harness/stack.ts';

const query = { query: '{ topProducts(first: 3) { upc name inStock reviewCount } }' };

/** n concurrent queries over a client of its own, closed afterwards so only the gateway's sockets remain. */
async function wave(url: string, n: number) {
  const agent = new Agent({ connections: n });
  try {
    return await Promise.all(
      Array.from({ length: n }, async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(query),
          dispatcher: agent,
        });
        return { status: res.status, body: (await res.json()) as any };
      }),
    );
  } finally {
    await agent.close();
  }
}

describe('200 concurrent queries while one subgraph flaps', () => {
  it('every response arrives with the healthy fields; in-flight work, sockets and heap return to baseline', async () => {
    await using stack = await startStack({
      config: {
        subgraphs: {
          all: { pool: { keepAliveTimeoutMs: 500 }, retry: { baseDelayMs: 5 } },
          reviews: {
            dedupe: false,
            retry: { maxAttempts: 1 },
            breaker: { volumeThreshold: 20, errorThresholdPercentage: 75 },
          },
        },
      },
    });
    const pid = stack.gateway.child.pid!;
    // Warm-up: JIT, pools and caches reach their working size.
    await wave(stack.url, 200);
    await sleep(1000); // idle sockets past keepAliveTimeoutMs close
    const socketsBefore = openSockets(pid);
    assert.ok(socketsBefore < 20, `idle gateway holds ${socketsBefore} sockets`);
    const heapBefore = await metric(stack.metricsUrl, 'tessera_process_nodejs_heap_size_used_bytes');

    // Reviews flaps: every other request it receives answers 503 (no retries here, so clients
    // see it) and every query makes its own request (no dedupe). The breaker's threshold is above
    // that error rate, so it stays closed.
    await stack.subgraphs.reviews.fault({ status: 503, failEvery: 2, delayMs: 2 });
    const responses = await wave(stack.url, 200);
    await stack.subgraphs.reviews.fault(null);

    let degraded = 0;
    for (const res of responses) {
      assert.equal(res.status, 200);
      const products = res.body.data.topProducts as Array<{
        upc: string;
        name: string;
        inStock: boolean;
        reviewCount: number | null;
      }>;
      assert.deepEqual(
        products.map((p) => [p.upc, p.name, p.inStock]),
        [
          ['1', 'Table', true],
          ['2', 'Couch', true],
          ['3', 'Chair', true],
        ],
      );
      if (res.body.errors) {
        degraded++;
        assert.deepEqual(
          products.map((p) => p.reviewCount),
          [null, null, null],
        );
        assert.equal(res.body.errors.length, 1);
        assert.equal(res.body.errors[0].extensions.serviceName, 'reviews');
        assert.equal(res.body.errors[0].extensions.code, 'SUBGRAPH_HTTP_ERROR');
      } else {
        assert.deepEqual(
          products.map((p) => p.reviewCount),
          [3, 3, 3],
        );
      }
    }
    assert.equal(responses.length, 200);
    assert.ok(
      degraded > 0 && degraded < 200,
      `${degraded} of 200 degraded: the flapping was felt, and some got through`,
    );

    // Afterwards nothing is left in flight, idle sockets close, and the heap has not grown.
    assert.equal(await metric(stack.metricsUrl, 'tessera_subgraph_in_flight_requests'), 0);
    assert.equal(
      await metric(stack.metricsUrl, 'tessera_http_in_flight_requests'),
      0,
      'metrics are scraped on their own listener, so nothing is in flight',
    );
    await eventually(
      async () => openSockets(pid) <= socketsBefore,
      5000,
      `sockets to return to ${socketsBefore} (now ${openSockets(pid)})`,
    );
    await wave(stack.url, 200); // the same load again, healthy: steady state, not growth
    await sleep(1000);
    const heapAfter = await metric(stack.metricsUrl, 'tessera_process_nodejs_heap_size_used_bytes');
    assert.ok(
      heapAfter < heapBefore + 30 * 2 ** 20,
      `heap ${Math.round(heapAfter / 2 ** 20)} MiB vs ${Math.round(heapBefore / 2 ** 20)} MiB before`,
    );
    assert.ok(stack.gateway.child.exitCode === null, 'the gateway is still up');
  });
});
