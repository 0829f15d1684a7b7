import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson, gql } from '../../harness/http.ts';
import { allSubgraphs, startStack, type Stack } from '../../harness/stack.ts';

describe('subgraph health: GET /health/subgraphs on the metrics listener, and /ready with server.readyRequiresSubgraphs', () => {
  let stack: Stack;
  let healthUrl: string;
  before(async () => {
    stack = await startStack({
      config: {
        server: { readyRequiresSubgraphs: true },
        subgraphs: {
          inventory: {
            retry: { maxAttempts: 1 },
            breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
          },
        },
      },
    });
    healthUrl = stack.metricsUrl.replace(/\/metrics$/, '/health/subgraphs');
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('before any traffic: every subgraph closed, no latency yet; /ready is 200', async () => {
    const res = await getJson(healthUrl);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body.subgraphs), [...allSubgraphs].sort());
    assert.deepEqual(res.body.subgraphs.products, {
      breaker: 'closed',
      fetches: 0,
      failures: 0,
      lastError: null,
      latencyMs: null,
    });
    assert.equal((await getJson(`${stack.base}/ready`)).status, 200);
    // Not on the public port.
    assert.equal((await getJson(`${stack.base}/health/subgraphs`)).status, 404);
  });

  it('a failing subgraph opens its circuit: the view shows it with its last error, and /ready answers 503 naming it', async () => {
    const query = 'query Stock { topProducts(first: 1) { upc inStock } }';
    assert.deepEqual((await gql(stack.url, { query })).body, { data: { topProducts: [{ upc: '1', inStock: true }] } });
    await stack.subgraphs.inventory.fault({ status: 500 });
    for (let i = 0; i < 3; i++) {
      const res = await gql(stack.url, { query });
      assert.deepEqual(res.body.data, { topProducts: [{ upc: '1', inStock: null }] });
    }
    const view = (await getJson(healthUrl)).body.subgraphs;
    assert.equal(view.inventory.breaker, 'open');
    assert.equal(view.inventory.fetches, 4);
    assert.equal(view.inventory.failures, 3);
    // The third fetch met the open circuit: that is the last error.
    assert.equal(view.inventory.lastError.code, 'SUBGRAPH_CIRCUIT_OPEN');
    assert.match(view.inventory.lastError.at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(view.inventory.latencyMs.window, 4);
    assert.ok(view.inventory.latencyMs.p50 <= view.inventory.latencyMs.p99);
    assert.deepEqual(
      {
        breaker: view.products.breaker,
        fetches: view.products.fetches,
        failures: view.products.failures,
        lastError: view.products.lastError,
      },
      { breaker: 'closed', fetches: 4, failures: 0, lastError: null },
    );
    const ready = await getJson(`${stack.base}/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(
      { status: ready.body.status, openSubgraphs: ready.body.openSubgraphs },
      { status: 'subgraphs-unavailable', openSubgraphs: ['inventory'] },
    );
    await stack.subgraphs.inventory.fault(null);
  });
});
