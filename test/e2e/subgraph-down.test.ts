import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gql } from '../../harness/http.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const query = '{ topProducts(first: 2) { upc name inStock reviews(first: 1) { body } } }';

describe('a dead subgraph degrades only its own fields', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('returns partial data with SUBGRAPH_UNAVAILABLE, serviceName and path; whole again after a restart', async () => {
    const whole = await gql(stack.url, { query });
    assert.equal(whole.body.errors, undefined);
    const reviewsPort = stack.subgraphs.reviews.port;

    await stack.subgraphs.reviews.proc.kill();
    const partial = await gql(stack.url, { query });
    assert.equal(partial.status, 200);
    assert.deepEqual(partial.body, {
      data: { topProducts: whole.body.data.topProducts.map((p: Record<string, unknown>) => ({ ...p, reviews: null })) },
      errors: [
        {
          message: 'Subgraph "reviews" is unavailable',
          path: ['topProducts', 0, 'reviews'],
          extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews' },
        },
      ],
    });
    assert.doesNotMatch(partial.text, new RegExp(String(reviewsPort)), 'no internal address leaks to the client');
    // The log line is written after the response, so it may reach the test a moment later.
    const logged = await stack.gateway.waitForLog('subgraph request failed', 5_000);
    assert.equal(logged['subgraph'], 'reviews');
    assert.match(String(logged['cause']), /ECONNREFUSED/);

    await stack.restartSubgraph('reviews');
    assert.deepEqual((await gql(stack.url, { query })).body, whole.body);
  });

  it('a dead root subgraph nulls only its root field', async () => {
    await stack.subgraphs.accounts.proc.kill();
    const res = await gql(stack.url, { query: '{ users(first: 1) { id } topProducts(first: 1) { upc } }' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      data: null,
      errors: [
        {
          message: 'Subgraph "accounts" is unavailable',
          path: ['users'],
          extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'accounts' },
        },
      ],
    });
    await stack.restartSubgraph('accounts');
  });
});
