import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { eventually, getJson, gql } from '../../harness/http.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

// Version 1 of the supergraph predates `Product.category`; the products service already serves it.
const withoutCategory = { products: (sdl: string) => sdl.replace(/^\s*category: Category!\n/m, '') };
const categoryQuery = { query: '{ topProducts(first: 1) { name category { name } } }' };

describe('supergraph hot reload', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ sdlEdits: withoutCategory });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('swaps the schema without disturbing a request in flight, and rejects a broken file', async () => {
    const before = await gql(stack.url, categoryQuery);
    assert.equal(before.status, 400);
    assert.equal(before.body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');

    // A slow request starts on generation 1…
    await stack.subgraphs.products.fault({ delayMs: 1500, times: 1 });
    await stack.subgraphs.products.resetStats();
    const slow = gql(stack.url, { query: '{ topProducts(first: 2) { name inStock } }' });
    await eventually(
      async () => (await stack.subgraphs.products.stats()).requests === 1,
      5000,
      'the slow request to reach products',
    );

    // …the supergraph changes under it…
    stack.writeSupergraph();
    await stack.gateway.waitForLog('supergraph reloaded', 5000);
    const afterReload = await gql(stack.url, categoryQuery);
    assert.deepEqual(afterReload.body, { data: { topProducts: [{ name: 'Table', category: { name: 'Tables' } }] } });
    assert.deepEqual((await getJson(`${stack.base}/ready`)).body, { status: 'ready', supergraphGeneration: 2 });

    // …and it still completes, whole and correct.
    const slowRes = await slow;
    assert.equal(slowRes.status, 200);
    assert.deepEqual(slowRes.body, {
      data: {
        topProducts: [
          { name: 'Table', inStock: true },
          { name: 'Couch', inStock: true },
        ],
      },
    });

    // A broken file is rejected with a log line; generation 2 keeps serving.
    writeFileSync(
      stack.supergraphFile,
      'schema @link(url: "https://specs.apollo.dev/link/v1.0") { query: Query }\ntype Query {',
    );
    const rejected = await stack.gateway.waitForLog(/supergraph update rejected/, 5000);
    assert.equal(rejected['code'], 'SUPERGRAPH_INVALID');
    assert.equal(rejected['level'], 'error');
    assert.deepEqual((await gql(stack.url, categoryQuery)).body, afterReload.body);
    assert.deepEqual((await getJson(`${stack.base}/ready`)).body, { status: 'ready', supergraphGeneration: 2 });
  });
});

describe('SIGHUP reloads the supergraph when file watching is off', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ sdlEdits: withoutCategory, config: { supergraph: { watch: false } } });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('picks up the new file on SIGHUP only', async () => {
    stack.writeSupergraph();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await gql(stack.url, categoryQuery)).status, 400, 'no reload without the signal');
    stack.gateway.child.kill('SIGHUP');
    const line = await stack.gateway.waitForLog('supergraph reloaded', 5000);
    assert.equal(line['reason'], 'SIGHUP');
    assert.deepEqual((await gql(stack.url, categoryQuery)).body, {
      data: { topProducts: [{ name: 'Table', category: { name: 'Tables' } }] },
    });
  });
});
