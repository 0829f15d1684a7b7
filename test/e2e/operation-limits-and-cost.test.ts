import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { products } from '../../subgraphs/shared/dataset.ts';
import { gql } from '../../harness/http.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const P = products();

describe('operation limits and static cost, before any planning', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      config: {
        server: { bodyLimitBytes: 8 * 1024 * 1024 },
        policies: {
          operationLimits: { maxDepth: 4, maxAliases: 2, maxRootFields: 2, maxTokens: 60, maxDirectivesPerField: 1 },
          cost: { maxCost: 100 },
          // No `redis`: the in-memory store. Each API key the tests send is issued (a budget of its own).
          rateLimit: {
            windowMs: 60_000,
            costPerWindow: 1_000,
            requestsPerWindow: 25,
            identifyBy: [{ header: 'x-api-key' }, 'ip'],
            apiKeys: ['memory-key', 'another-key', 'count-key', 'subgraph-cap'].map((k) => ({
              sha256: createHash('sha256').update(k).digest('hex'),
              name: k,
            })),
          },
        },
        // The gateway protects inventory: two requests, then one per 100 s.
        subgraphs: { inventory: { rateLimit: { requestsPerSecond: 0.01, burst: 2 } } },
      },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });
  const reset = () => Promise.all(Object.values(stack.subgraphs).map((s) => s.resetStats()));
  const names = (n: number) => Array.from({ length: n }, () => 'name').join(' ');

  const cases: Array<{ limit: string; code: string; atLimit: string; over: string }> = [
    {
      limit: 'maxDepth 4',
      code: 'MAX_DEPTH_EXCEEDED',
      atLimit: '{ topProducts(first: 1) { category { products(first: 1) { name } } } }',
      over: '{ topProducts(first: 1) { category { products(first: 1) { category { name } } } } }',
    },
    {
      limit: 'maxAliases 2',
      code: 'MAX_ALIASES_EXCEEDED',
      atLimit: '{ a: topProducts(first: 1) { x: name } }',
      over: '{ a: topProducts(first: 1) { x: name y: upc } }',
    },
    {
      limit: 'maxRootFields 2',
      code: 'MAX_ROOT_FIELDS_EXCEEDED',
      atLimit: '{ topProducts(first: 1) { name } users(first: 1) { id } }',
      over: '{ topProducts(first: 1) { name } users(first: 1) { id } __typename }',
    },
    // `{ topProducts ( first : 1 ) {` is 8 tokens, the closing braces 2: 50 names make 60.
    {
      limit: 'maxTokens 60',
      code: 'MAX_TOKENS_EXCEEDED',
      atLimit: `{ topProducts(first: 1) { ${names(50)} } }`,
      over: `{ topProducts(first: 1) { ${names(51)} } }`,
    },
    {
      limit: 'maxDirectivesPerField 1',
      code: 'MAX_DIRECTIVES_EXCEEDED',
      atLimit: '{ topProducts(first: 1) { name @include(if: true) } }',
      over: '{ topProducts(first: 1) { name @include(if: true) @skip(if: false) } }',
    },
  ];
  for (const c of cases) {
    it(`${c.limit}: at the limit passes, one over is refused with ${c.code}`, async () => {
      const ok = await gql(stack.url, { query: c.atLimit });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.errors, undefined);
      await reset();
      const over = await gql(stack.url, { query: c.over });
      assert.equal(over.status, 400);
      assert.equal(over.body.data, undefined);
      assert.equal(over.body.errors.length, 1);
      assert.equal(over.body.errors[0].extensions.code, c.code);
      for (const s of Object.values(stack.subgraphs)) assert.equal((await s.stats()).requests, 0);
    });
  }

  it('refuses a 5 MB document of repeated tokens at the token limit, and keeps serving', async () => {
    const huge = `{ ${'a '.repeat(2_500_000)}}`;
    assert.ok(huge.length > 5_000_000);
    const res = await gql(stack.url, { query: huge });
    assert.equal(res.status, 400);
    // Token 61 starts at column 121: the parser stopped there, not at the end of the 5 MB.
    assert.deepEqual(res.body, {
      errors: [
        {
          message: 'The document has more than 60 tokens; parsing stopped there.',
          locations: [{ line: 1, column: 121 }],
          extensions: { code: 'MAX_TOKENS_EXCEEDED' },
        },
      ],
    });
    const after = await gql(stack.url, { query: '{ topProducts(first: 1) { name } }' });
    assert.deepEqual(after.body, { data: { topProducts: [{ name: P[0]!.name }] } });
  });

  it('refuses an operation estimated above maxCost before calling any subgraph', async () => {
    await reset();
    // 10 products × (1 + 10 reviews × (1 + author 1)) = 210
    const res = await gql(stack.url, {
      query: '{ topProducts(first: 10) { reviews(first: 10) { author { name } } } }',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      errors: [
        {
          message: 'Operation estimated cost 210 exceeds the maximum of 100.',
          extensions: { code: 'COST_ESTIMATED_TOO_EXPENSIVE', cost: { estimated: 210, max: 100 } },
        },
      ],
    });
    for (const s of Object.values(stack.subgraphs))
      assert.equal((await s.stats()).requests, 0, `${s.name} was not called`);
  });

  it('reports the estimate in extensions.cost when the client asks, and in a metric', async () => {
    const res = await gql(
      stack.url,
      { query: '{ topProducts(first: 3) { name reviews(first: 2) { body } } }' },
      { 'x-tessera-cost': 'true' },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.extensions, { cost: { estimated: 3 * (1 + 2), max: 100 } });
    const plain = await gql(stack.url, { query: '{ topProducts(first: 1) { name } }' });
    assert.equal(plain.body.extensions, undefined);
    const metrics = await (await fetch(stack.metricsUrl)).text();
    assert.match(metrics, /^tessera_operation_cost_count \d+$/m);
  });

  it('rate-limits per identity in memory when no Redis is configured', async () => {
    // 5 × (1 + 10 × 1) = 55 per request: the 1000 budget admits 18.
    const q = { query: '{ topProducts(first: 5) { reviews(first: 10) { id } } }' };
    const statuses: number[] = [];
    for (let i = 0; i < 19; i++) statuses.push((await gql(stack.url, q, { 'x-api-key': 'memory-key' })).status);
    assert.deepEqual(statuses, [...Array(18).fill(200), 429]);
    const other = await gql(stack.url, q, { 'x-api-key': 'another-key' });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('ratelimit'), '"cost";r=945;t=4, "requests";r=24;t=3');
    assert.equal(other.headers.get('ratelimit-policy'), '"cost";q=1000;w=60, "requests";q=25;w=60');
  });

  it('also counts plain requests per identity when requestsPerWindow is set', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 26; i++) {
      last = await gql(stack.url, { query: '{ __typename }' }, { 'x-api-key': 'count-key' });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [...Array(25).fill(200), 429]);
    assert.match(last!.body.errors[0].message, /the request budget for this window is spent/);
    // 26 cost units spent; the cost budget refills one unit per 60 ms meanwhile, so only a range is exact.
    assert.match(last!.headers.get('ratelimit') ?? '', /^"cost";r=9[789]\d;t=\d+, "requests";r=0;t=\d+$/);
  });

  it('caps requests to a subgraph: over the cap its fields are null with SUBGRAPH_RATE_LIMITED and nothing is sent', async () => {
    await reset();
    const q = { query: '{ topProducts(first: 1) { upc inStock } }' };
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await gql(stack.url, q, { 'x-api-key': 'subgraph-cap' })).body);
    const inStock = P[0] && bodies[0].data.topProducts[0].inStock;
    assert.equal(typeof inStock, 'boolean');
    assert.deepEqual(bodies[1], bodies[0]);
    assert.deepEqual(bodies[2], {
      data: { topProducts: [{ upc: P[0]!.upc, inStock: null }] },
      errors: [
        {
          message: 'Subgraph "inventory" is over the gateway\'s request-rate limit for it',
          path: ['topProducts', 0, 'inStock'],
          extensions: { code: 'SUBGRAPH_RATE_LIMITED', serviceName: 'inventory' },
        },
      ],
    });
    assert.equal((await stack.subgraphs.inventory.stats()).requests, 2);
  });
});
