import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gql } from '../../harness/http.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const NAME = 'tessera_http_request_duration_seconds';

/** Every `_count` series of the request histogram, as `label=value,…` → count. */
async function durationCounts(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${NAME}_count\\{([^}]*)\\} (\\d+)$`, 'gm')))
    out[m[1]!.replaceAll('"', '')] = Number(m[2]);
  return out;
}

/** What `request` added to the histogram's counts (series that did not move are left out). */
async function counted(metricsUrl: string, request: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await durationCounts(metricsUrl);
  await request();
  const after = await durationCounts(metricsUrl);
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) delta[k] = v - (before[k] ?? 0);
  return delta;
}

describe(`${NAME}: client-facing latency by operation type, outcome and status class`, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { metrics: { labels: { operation: true, client: true } } } });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('a full answer is success, 2xx, with its operation and client', async () => {
    const delta = await counted(stack.metricsUrl, async () => {
      const res = await gql(
        stack.url,
        { query: 'query Top { topProducts(first: 1) { upc } }' },
        { 'apollographql-client-name': 'web' },
      );
      assert.deepEqual(res.body, { data: { topProducts: [{ upc: '1' }] } });
    });
    assert.deepEqual(delta, {
      'operation_type=query,outcome=success,status_class=2xx,operation=Top,client=web': 1,
    });
  });

  it('data with errors (a subgraph failed) is partial', async () => {
    await stack.subgraphs.inventory.fault({ status: 500, times: 1 });
    const delta = await counted(stack.metricsUrl, async () => {
      const res = await gql(stack.url, { query: 'query Stock { topProducts(first: 1) { upc inStock } }' });
      assert.deepEqual(res.body.data, { topProducts: [{ upc: '1', inStock: null }] });
      assert.equal(res.body.errors[0].extensions.code, 'SUBGRAPH_HTTP_ERROR');
    });
    assert.deepEqual(delta, {
      'operation_type=query,outcome=partial,status_class=2xx,operation=Stock,client=none': 1,
    });
  });

  it('a refused request (nothing ran) is refused, 4xx, with no operation', async () => {
    const delta = await counted(stack.metricsUrl, async () => {
      const res = await gql(stack.url, { query: '{ topProducts(' }, { 'apollographql-client-name': 'web' });
      assert.equal(res.status, 400);
      assert.equal(res.body.errors[0].extensions.code, 'GRAPHQL_PARSE_FAILED');
    });
    assert.deepEqual(delta, {
      'operation_type=none,outcome=refused,status_class=4xx,operation=none,client=web': 1,
    });
    const media = await counted(stack.metricsUrl, async () => {
      const res = await fetch(stack.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      assert.equal(res.status, 415);
    });
    assert.deepEqual(media, {
      'operation_type=none,outcome=refused,status_class=4xx,operation=none,client=none': 1,
    });
  });
});

describe(`${NAME}: the operation and client labels are capped`, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { metrics: { labels: { operation: true, client: true, maxValues: 2 } } } });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('past maxValues distinct values, new operation names and client names count as other', async () => {
    const send = (op: string, client: string) =>
      counted(stack.metricsUrl, async () => {
        const res = await gql(
          stack.url,
          { query: `query ${op} { topProducts(first: 1) { upc } }` },
          { 'apollographql-client-name': client },
        );
        assert.equal(res.status, 200);
      });
    const series = (op: string, client: string) =>
      `operation_type=query,outcome=success,status_class=2xx,operation=${op},client=${client}`;
    assert.deepEqual(await send('A', 'web'), { [series('A', 'web')]: 1 });
    assert.deepEqual(await send('B', 'ios'), { [series('B', 'ios')]: 1 });
    assert.deepEqual(await send('C', 'android'), { [series('other', 'other')]: 1 });
    assert.deepEqual(await send('D', 'web'), { [series('other', 'web')]: 1 });
    assert.deepEqual(await send('A', 'tv'), { [series('A', 'other')]: 1 });
    const all = Object.keys(await durationCounts(stack.metricsUrl));
    assert.deepEqual(new Set(all.map((k) => /operation=([^,]*)/.exec(k)![1])), new Set(['A', 'B', 'other']));
  });
});
