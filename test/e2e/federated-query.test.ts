import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { categories, products, reviews, stock, users } from '../../subgraphs/shared/dataset.ts';
import { gql } from '../../harness/http.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

// The oracle is the dataset itself, not a recorded gateway response.
const P = products();
const R = reviews();
const U = new Map(users().map((u) => [u.id, u]));
const S = new Map(stock().map((s) => [`${s.sku}|${s.variant}`, s]));
const C = new Map(categories().map((c) => [c.id, c]));
const reviewsOf = (upc: string) => R.filter((r) => r.productUpc === upc);
const shipping = (p: { price: number; weight: number }) => (p.price > 1000 ? 0 : Math.ceil(p.weight / 2));

const everything = /* GraphQL */ `
  query Everything($first: Int!) {
    topProducts(first: $first) {
      upc
      name
      price
      category {
        name
      }
      inStock
      shippingEstimate
      reviews(first: 2) {
        id
        body
        rating
        author {
          id
          username
          name
        }
      }
    }
  }
`;

describe('one query across all four subgraphs', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('returns the exact data, with @requires, @provides and the compound key resolved', async () => {
    await Promise.all(Object.values(stack.subgraphs).map((s) => s.resetStats()));
    const res = await gql(stack.url, { query: everything, variables: { first: 5 } });
    assert.equal(res.status, 200);
    const expected = P.slice(0, 5).map((p) => ({
      upc: p.upc,
      name: p.name,
      price: p.price,
      category: { name: C.get(p.categoryId)!.name },
      inStock: S.get(`${p.sku}|${p.variant}`)!.quantity > 0,
      shippingEstimate: shipping(p),
      reviews: reviewsOf(p.upc)
        .slice(0, 2)
        .map((r) => ({
          id: r.id,
          body: r.body,
          rating: r.rating,
          author: { id: r.authorId, username: U.get(r.authorId)!.username, name: U.get(r.authorId)!.name },
        })),
    }));
    assert.deepEqual(res.body, { data: { topProducts: expected } });
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

    // One root fetch, then one batched _entities call per subgraph per hop, never one per entity.
    const [products, inventory, reviewsStats, accounts] = await Promise.all([
      stack.subgraphs.products.stats(),
      stack.subgraphs.inventory.stats(),
      stack.subgraphs.reviews.stats(),
      stack.subgraphs.accounts.stats(),
    ]);
    const authors = expected.flatMap((p) => p.reviews.map((r) => r.author.id));
    assert.deepEqual(
      { requests: products.requests, entityCalls: products.entityCalls },
      { requests: 1, entityCalls: 0 },
    );
    assert.deepEqual(
      { requests: inventory.requests, entityCalls: inventory.entityCalls, entityKeys: inventory.entityKeys },
      { requests: 1, entityCalls: 1, entityKeys: 5 },
    );
    assert.deepEqual(inventory.batches, { stock: { calls: 1, keys: 5 } });
    assert.deepEqual(
      { requests: reviewsStats.requests, entityCalls: reviewsStats.entityCalls, entityKeys: reviewsStats.entityKeys },
      { requests: 1, entityCalls: 1, entityKeys: 5 },
    );
    assert.deepEqual(reviewsStats.batches, { reviewsByProduct: { calls: 1, keys: 5 } });
    assert.equal(accounts.requests, 1);
    assert.equal(accounts.entityCalls, 1);
    assert.equal(accounts.entityKeys, authors.length);
    assert.deepEqual(accounts.batches, { users: { calls: 1, keys: new Set(authors).size } });
    // @requires: inventory received price and weight in its representations, from products.
    const reps = inventory.received[0]!.variables.representations;
    assert.deepEqual(reps[0], {
      __typename: 'Product',
      sku: P[0]!.sku,
      variant: P[0]!.variant,
      price: P[0]!.price,
      weight: P[0]!.weight,
    });
    // @provides: usernames came from reviews, so accounts was asked only for `name`.
    assert.match(accounts.received[0]!.query, /\{name\}/);
    assert.doesNotMatch(accounts.received[0]!.query, /username/);
  });

  it('resolves a union whose members take fields from other subgraphs', async () => {
    const res = await gql(stack.url, {
      query:
        '{ search(text: "desk", first: 3) { __typename ... on Category { id name } ... on Product { upc name inStock reviewCount } } }',
    });
    assert.equal(res.status, 200);
    const hits = P.filter((p) => p.name.toLowerCase().includes('desk')).slice(0, 2);
    assert.deepEqual(res.body, {
      data: {
        search: [
          { __typename: 'Category', id: 'c5', name: 'Desks' },
          ...hits.map((p) => ({
            __typename: 'Product',
            upc: p.upc,
            name: p.name,
            inStock: S.get(`${p.sku}|${p.variant}`)!.quantity > 0,
            reviewCount: reviewsOf(p.upc).length,
          })),
        ],
      },
    });
  });

  it('applies a mutation whose result is visible in the next query', async () => {
    const before = await gql(stack.url, {
      query: '{ product(upc: "7") { reviewCount reviews(first: 100) { body } } }',
    });
    const created = await gql(stack.url, {
      query:
        'mutation Add($input: CreateReviewInput!) { createReview(input: $input) { id body rating author { username name } product { upc name } } }',
      variables: { input: { productUpc: '7', authorId: '3', body: 'Sturdy and quiet.', rating: 4 } },
    });
    assert.equal(created.status, 200);
    assert.deepEqual(created.body, {
      data: {
        createReview: {
          id: String(R.length + 1),
          body: 'Sturdy and quiet.',
          rating: 4,
          author: { username: U.get('3')!.username, name: U.get('3')!.name },
          product: { upc: '7', name: P[6]!.name },
        },
      },
    });
    const afterRes = await gql(stack.url, {
      query: '{ product(upc: "7") { reviewCount reviews(first: 100) { body } } }',
    });
    assert.equal(afterRes.body.data.product.reviewCount, before.body.data.product.reviewCount + 1);
    assert.deepEqual(afterRes.body.data.product.reviews.at(-1), { body: 'Sturdy and quiet.' });
  });

  it('passes a subgraph validation error through with its message, code and path (other extensions withheld), status 200', async () => {
    const res = await gql(stack.url, {
      query: 'mutation { createReview(input: { productUpc: "7", authorId: "3", body: "x", rating: 9 }) { id } }',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      data: null,
      errors: [
        {
          message: 'rating must be an integer from 1 to 5',
          path: ['createReview'],
          extensions: { code: 'BAD_USER_INPUT', serviceName: 'reviews' },
        },
      ],
    });
  });
});
