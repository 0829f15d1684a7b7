import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gql, sleep } from '../../harness/http.ts';
import { metric } from '../../harness/metrics.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const mutation = {
  query: 'mutation Add($input: CreateReviewInput!) { createReview(input: $input) { id } }',
  variables: { input: { productUpc: '3', authorId: '2', body: 'Retried?', rating: 3 } },
};

describe('timeouts and retries', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      config: {
        subgraphs: {
          all: { breaker: { enabled: false }, retry: { baseDelayMs: 10 } },
          reviews: { attemptTimeoutMs: 300, timeoutMs: 3000, retry: { maxAttempts: 2 } },
          inventory: { attemptTimeoutMs: 5000, timeoutMs: 400 },
          products: { retry: { maxAttempts: 3 } },
        },
      },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });
  const reset = () =>
    Promise.all(Object.values(stack.subgraphs).map((s) => Promise.all([s.resetStats(), s.fault(null)])));

  it('a hanging subgraph ends at the per-attempt timeout, retried once, with SUBGRAPH_TIMEOUT', async () => {
    await reset();
    await stack.subgraphs.reviews.fault({ hang: true });
    const started = Date.now();
    const res = await gql(stack.url, { query: '{ topProducts(first: 1) { name reviewCount } }' });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      data: { topProducts: [{ name: 'Table', reviewCount: null }] },
      errors: [
        {
          message: 'Subgraph "reviews" did not respond in time',
          path: ['topProducts', 0, 'reviewCount'],
          extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'reviews' },
        },
      ],
    });
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 2, 'two attempts of 300 ms');
    assert.ok(elapsed >= 600 && elapsed < 1500, `ended after ${elapsed} ms, expected about 2 × 300 ms`);
  });

  it('the overall deadline cuts a slow attempt short', async () => {
    await reset();
    await stack.subgraphs.inventory.fault({ hang: true });
    const started = Date.now();
    const res = await gql(stack.url, { query: '{ topProducts(first: 1) { name inStock } }' });
    const elapsed = Date.now() - started;
    assert.deepEqual(res.body.errors, [
      {
        message: 'Subgraph "inventory" did not respond in time',
        path: ['topProducts', 0, 'inStock'],
        extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'inventory' },
      },
    ]);
    assert.deepEqual(res.body.data, { topProducts: [{ name: 'Table', inStock: null }] });
    assert.equal((await stack.subgraphs.inventory.stats()).requests, 1, 'no retry once the deadline is spent');
    assert.ok(elapsed >= 400 && elapsed < 1200, `ended after ${elapsed} ms, expected about 400 ms`);
  });

  it('a query succeeds after transient 503s, with exactly the attempts the policy allows', async () => {
    await reset();
    await stack.subgraphs.products.fault({ status: 503, times: 2 });
    const res = await gql(stack.url, { query: '{ topProducts(first: 2) { upc } }' });
    assert.deepEqual(res.body, { data: { topProducts: [{ upc: '1' }, { upc: '2' }] } });
    assert.equal((await stack.subgraphs.products.stats()).requests, 3);

    await reset();
    await stack.subgraphs.products.fault({ status: 503, times: 5 });
    const failed = await gql(stack.url, { query: '{ topProducts(first: 2) { upc } }' });
    assert.deepEqual(failed.body, {
      data: null,
      errors: [
        {
          message: 'Subgraph "products" answered HTTP 503',
          path: ['topProducts'],
          extensions: { code: 'SUBGRAPH_HTTP_ERROR', status: 503, serviceName: 'products' },
        },
      ],
    });
    assert.equal((await stack.subgraphs.products.stats()).requests, 3, 'maxAttempts is 3');
  });

  it('honours Retry-After on a 429', async () => {
    await reset();
    await stack.subgraphs.products.fault({ status: 429, times: 1, headers: { 'retry-after': '1' } });
    const started = Date.now();
    const res = await gql(stack.url, { query: '{ topProducts(first: 1) { upc } }' });
    assert.deepEqual(res.body, { data: { topProducts: [{ upc: '1' }] } });
    assert.ok(Date.now() - started >= 1000, 'waited the second the subgraph asked for');
    assert.equal((await stack.subgraphs.products.stats()).requests, 2);
  });

  it('never retries a mutation that may have reached the subgraph', async () => {
    await reset();
    await stack.subgraphs.reviews.fault({ status: 503, times: 1 });
    const res = await gql(stack.url, mutation);
    assert.deepEqual(res.body, {
      data: null,
      errors: [
        {
          message: 'Subgraph "reviews" answered HTTP 503',
          path: ['createReview'],
          extensions: { code: 'SUBGRAPH_HTTP_ERROR', status: 503, serviceName: 'reviews' },
        },
      ],
    });
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 1, 'the mutation reached the subgraph exactly once');

    await reset();
    await stack.subgraphs.reviews.fault({ hang: true, times: 1 });
    const timedOut = await gql(stack.url, mutation);
    assert.equal(timedOut.body.errors[0].extensions.code, 'SUBGRAPH_TIMEOUT');
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 1, 'a timed-out mutation is not re-sent');
  });
});

describe('circuit breaker', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      config: {
        subgraphs: {
          all: { retry: { maxAttempts: 1 } },
          inventory: { breaker: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 1000 } },
        },
      },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('opens after the threshold, fails fast without calling the subgraph, and closes through half-open', async () => {
    const inventory = stack.subgraphs.inventory;
    const query = { query: '{ topProducts(first: 1) { name inStock } }' };
    await inventory.fault({ status: 503 });
    for (let i = 0; i < 4; i++)
      assert.equal((await gql(stack.url, query)).body.errors[0].extensions.code, 'SUBGRAPH_HTTP_ERROR');
    await stack.gateway.waitForLog('circuit breaker open', 2000);
    assert.equal(await metric(stack.metricsUrl, 'tessera_subgraph_breaker_state', { subgraph: 'inventory' }), 2);

    await inventory.resetStats();
    for (let i = 0; i < 5; i++) {
      const res = await gql(stack.url, query);
      assert.deepEqual(res.body, {
        data: { topProducts: [{ name: 'Table', inStock: null }] },
        errors: [
          {
            message: 'Subgraph "inventory" is failing; its circuit breaker is open',
            path: ['topProducts', 0, 'inStock'],
            extensions: { code: 'SUBGRAPH_CIRCUIT_OPEN', serviceName: 'inventory' },
          },
        ],
      });
    }
    assert.equal((await inventory.stats()).requests, 0, 'no request reached the subgraph while open');
    // All five were refused inside the client (none reached the subgraph, above) and counted as such.
    assert.equal(
      await metric(stack.metricsUrl, 'tessera_subgraph_request_duration_seconds_count', {
        subgraph: 'inventory',
        outcome: 'SUBGRAPH_CIRCUIT_OPEN',
      }),
      5,
    );
    // Other subgraphs are unaffected.
    assert.deepEqual((await gql(stack.url, { query: '{ topProducts(first: 1) { name reviewCount } }' })).body, {
      data: { topProducts: [{ name: 'Table', reviewCount: 3 }] },
    });

    await inventory.fault(null);
    await sleep(1100);
    assert.deepEqual((await gql(stack.url, query)).body, { data: { topProducts: [{ name: 'Table', inStock: true }] } });
    await stack.gateway.waitForLog('circuit breaker closed', 2000);
    assert.ok(stack.gateway.logs().some((l) => l['msg'] === 'circuit breaker half-open'));
    assert.equal(await metric(stack.metricsUrl, 'tessera_subgraph_breaker_state', { subgraph: 'inventory' }), 0);
    assert.equal(
      await metric(stack.metricsUrl, 'tessera_subgraph_breaker_transitions_total', {
        subgraph: 'inventory',
        state: 'open',
      }),
      1,
    );
    assert.equal((await inventory.stats()).requests, 1, 'one half-open probe');
  });
});

describe('retry budget', () => {
  it('under a dead subgraph, retries stay within budgetRatio of requests', async () => {
    await using stack = await startStack({
      config: {
        subgraphs: {
          all: { breaker: { enabled: false } },
          reviews: { retry: { maxAttempts: 3, baseDelayMs: 0, budgetRatio: 0.1, budgetMinPerSecond: 0 } },
        },
      },
    });
    await stack.subgraphs.reviews.proc.kill();
    for (let i = 0; i < 50; i++) {
      const res = await gql(stack.url, { query: '{ topProducts(first: 1) { name reviewCount } }' });
      assert.equal(res.body.errors[0].extensions.code, 'SUBGRAPH_UNAVAILABLE');
    }
    const retries = await metric(stack.metricsUrl, 'tessera_subgraph_retries_total', { subgraph: 'reviews' });
    const refused = await metric(stack.metricsUrl, 'tessera_subgraph_retry_budget_exhausted_total', {
      subgraph: 'reviews',
    });
    assert.ok(retries >= 4 && retries <= 5, `retries ${retries} ≤ 10% of 50 requests (100 without a budget)`);
    // Each of the 50 failed first attempts asked for a retry (a granted retry that failed may ask
    // again): the budget refused at least the 45 that did not fit.
    assert.ok(refused >= 50 - retries, `refused ${refused} requests for a retry`);
    // 50 failures, but the log says so about once a second, with a count.
    const lines = stack.gateway.logs().filter((l) => l['msg'] === 'subgraph request failed');
    assert.ok(lines.length >= 1 && lines.length <= 10, `${lines.length} failure log lines for 50 failed requests`);
    assert.equal(lines.length + lines.reduce((n, l) => n + Number(l['suppressed']), 0) <= 50, true);
  });
});

describe('in-flight deduplication and header propagation', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      config: {
        subgraphs: {
          all: {
            headers: {
              propagate: [
                { named: 'x-tenant', rename: 'x-tenant-id' },
                { matching: '^x-feature-' },
                { named: 'x-locale', default: 'en' },
              ],
              set: { 'x-gateway': 'tessera' },
            },
          },
          inventory: { dedupe: false },
        },
      },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('identical concurrent query fetches share one subgraph request; not when dedupe is off', async () => {
    await Promise.all(Object.values(stack.subgraphs).map((s) => s.resetStats()));
    await stack.subgraphs.products.fault({ delayMs: 300, times: 1 });
    const query = { query: '{ topProducts(first: 2) { name inStock } }' };
    const [a, b] = await Promise.all([gql(stack.url, query), gql(stack.url, query)]);
    assert.deepEqual(a.body, b.body);
    assert.deepEqual(a.body, {
      data: {
        topProducts: [
          { name: 'Table', inStock: true },
          { name: 'Couch', inStock: true },
        ],
      },
    });
    assert.equal((await stack.subgraphs.products.stats()).requests, 1, 'products served both from one request');
    assert.equal((await stack.subgraphs.inventory.stats()).requests, 2, 'inventory has dedupe off');
    assert.ok((await metric(stack.metricsUrl, 'tessera_subgraph_dedupe_hits_total', { subgraph: 'products' })) >= 1);
  });

  it('different forwarded headers are different requests, and mutations are never shared', async () => {
    await Promise.all(Object.values(stack.subgraphs).map((s) => s.resetStats()));
    await stack.subgraphs.products.fault({ delayMs: 300, times: 2 });
    const query = { query: '{ topProducts(first: 1) { upc } }' };
    await Promise.all([gql(stack.url, query, { 'x-tenant': 'a' }), gql(stack.url, query, { 'x-tenant': 'b' })]);
    assert.equal((await stack.subgraphs.products.stats()).requests, 2);

    await stack.subgraphs.reviews.fault({ delayMs: 300, times: 2 });
    const [m1, m2] = await Promise.all([gql(stack.url, mutation), gql(stack.url, mutation)]);
    assert.notEqual(m1.body.data.createReview.id, m2.body.data.createReview.id);
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 2);
  });

  it('forwards only allow-listed headers, renamed, plus static ones and the request id', async () => {
    await stack.subgraphs.accounts.resetStats();
    await gql(
      stack.url,
      { query: '{ users(first: 1) { id } }' },
      {
        'x-tenant': 'acme',
        'x-feature-beta': 'on',
        authorization: 'Bearer secret',
        cookie: 'session=1',
        'x-request-id': 'hdr-test-1',
      },
    );
    const [received] = (await stack.subgraphs.accounts.stats()).received;
    const h = received!.headers;
    assert.equal(h['x-tenant-id'], 'acme');
    assert.equal(h['x-feature-beta'], 'on');
    assert.equal(h['x-locale'], 'en', 'default for a missing header');
    assert.equal(h['x-gateway'], 'tessera');
    assert.equal(h['x-request-id'], 'hdr-test-1');
    assert.equal(h['x-tenant'], undefined, 'renamed, not copied');
    assert.equal(h['authorization'], undefined);
    assert.equal(h['cookie'], undefined);
    assert.equal(h['content-type'], 'application/json');
  });
});
