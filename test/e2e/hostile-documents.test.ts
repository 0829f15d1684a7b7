import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { products, users } from '../../subgraphs/shared/dataset.ts';
import { eventually, gql, type GqlResponse } from '../../harness/http.ts';
import {
  fragmentChain,
  introspectionChain,
  nestedChain,
  rootChain,
  schemaChain,
  selectionsWritten,
} from '../../harness/hostile-documents.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign, type SigningKey } from '../../harness/jwks.ts';
import type { Proc } from '../../harness/process.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const U = users();
const P = products();
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const limitError = (code: string, message: string, extensions: Record<string, unknown>) => ({
  errors: [{ message, extensions: { ...extensions, code } }],
});
const expanded = (n: number) =>
  limitError(
    'MAX_EXPANDED_FIELDS_EXCEEDED',
    `Operation selects ${n} fields once its fragments are expanded; the maximum is 2000.`,
    { expandedFields: n, max: 2000 },
  );
const aliases = (n: number) =>
  limitError('MAX_ALIASES_EXCEEDED', `Operation uses ${n} aliases; the maximum is 30.`, { aliases: n, max: 30 });
const rootFields = (n: number) =>
  limitError('MAX_ROOT_FIELDS_EXCEEDED', `Operation selects ${n} root fields; the maximum is 20.`, {
    rootFields: n,
    max: 20,
  });

/**
 * Each refused document costs exactly one visit per selection written in it: the limits read
 * numbers the analysis computed without expanding, and nothing else runs.
 */
const refused: Array<{ name: string; query: string; body: unknown }> = [
  { name: '2^16 chain in users, User.email at the end', query: nestedChain(16), body: expanded(2 ** 16 + 1) },
  {
    name: '2^20 chain in users, User.email at the end (issue 12)',
    query: nestedChain(20),
    body: expanded(2 ** 20 + 1),
  },
  {
    name: '2^16 chain in users with an alias per fragment',
    query: nestedChain(16, 2, true),
    body: aliases(2 ** 16 - 1),
  },
  {
    name: '2^20 chain in users with an alias per fragment',
    query: nestedChain(20, 2, true),
    body: aliases(2 ** 20 - 1),
  },
  { name: '2^16 chain at the root, Query.me at the end', query: rootChain(16), body: rootFields(2 ** 16) },
  { name: '2^20 chain at the root, Query.me at the end', query: rootChain(20), body: rootFields(2 ** 20) },
  {
    name: '2^16 chain at the root with an alias per fragment',
    query: rootChain(16, 2, true),
    body: aliases(2 ** 16 - 1),
  },
  {
    name: '2^20 chain at the root with an alias per fragment',
    query: rootChain(20, 2, true),
    body: aliases(2 ** 20 - 1),
  },
  { name: '3^13 chain in users', query: nestedChain(13, 3), body: expanded(3 ** 13 + 1) },
  { name: '3^13 chain at the root', query: rootChain(13, 3), body: rootFields(3 ** 13) },
  { name: '2^16 chain of __schema at the root', query: introspectionChain(16), body: rootFields(2 ** 16) },
  { name: '2^20 chain inside __schema', query: schemaChain(20), body: expanded(1 + 2 * 2 ** 20) },
];

describe('hostile documents against a gateway with every policy on', () => {
  const jwks = new JwksServer();
  let key: SigningKey;
  let stack: Stack;
  const gateways: Record<'filter' | 'reject', { url: string; proc: Proc }> = {} as never;

  before(async () => {
    key = await makeKey('hostile');
    jwks.keys = [key];
    await jwks.start();
    stack = await startStack({ noGateway: true });
    for (const mode of ['filter', 'reject'] as const) {
      gateways[mode] = await stack.startGateway({
        policies: {
          auth: { issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }] },
          authorization: { mode },
          operationLimits: {},
          cost: {},
          // No `redis`: the memory store. Large enough that these tests never run out.
          rateLimit: { costPerWindow: 1_000_000, identifyBy: ['ip'] },
        },
        // `operation analysed` (requestId, nodesVisited) is a debug line.
        log: { level: 'debug' },
      });
    }
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
    await jwks.stop();
  });

  /** The analysis work the gateway logged for the request that got `res`. */
  const work = (g: { proc: Proc }, res: GqlResponse) => {
    const requestId = res.headers.get('x-request-id');
    return eventually(
      async () =>
        g.proc.logs().find((l) => l['msg'] === 'operation analysed' && l['requestId'] === requestId) as
          { nodesVisited: number; cached: boolean } | undefined,
      5000,
      `the analysis line of ${requestId}`,
    );
  };
  const normal = { query: '{ topProducts(first: 2) { name } }' };
  const normalAnswer = { data: { topProducts: [{ name: P[0]!.name }, { name: P[1]!.name }] } };

  for (const mode of ['filter', 'reject'] as const) {
    for (const c of refused) {
      it(`${mode} mode: ${c.name} is refused after one visit per written selection, while a normal request is served`, async (t) => {
        const g = gateways[mode];
        const t0 = performance.now();
        const [res, other] = await Promise.all([gql(g.url, { query: c.query }), gql(g.url, normal)]);
        const ms = performance.now() - t0;
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, c.body);
        assert.deepEqual(other.body, normalAnswer);
        const first = await work(g, res);
        assert.equal(first.cached, false);
        assert.equal(first.nodesVisited, selectionsWritten(c.query));
        t.diagnostic(`nodes visited ${first.nodesVisited}, ${ms.toFixed(1)} ms with the concurrent request`);
        // Again: Apollo's document store hands back the same DocumentNode, so the analysis is not rebuilt.
        const again = await gql(g.url, { query: c.query });
        assert.deepEqual(again.body, c.body);
        const second = await work(g, again);
        assert.equal(second.cached, true);
        assert.equal(second.nodesVisited, 0);
      });
    }
  }

  // Under the limits, a chain is answered exactly. Authorization then walks positions: the 2^10 of
  // `email` and the fragment steps to them (~3 × 2^10), and the filter copies along the same way.
  // 8 × maxExpandedFields bounds that; the 2^20 chain, walked, would be ~3 million.
  const answered = nestedChain(10);
  const answeredBound = selectionsWritten(answered) + 8 * 2_000;
  it('filter mode: a 2^10 chain ending in User.email is answered with one null and one error', async (t) => {
    const [res, other] = await Promise.all([
      gql(gateways.filter.url, { query: answered }),
      gql(gateways.filter.url, normal),
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      errors: [
        {
          message: 'Unauthorized field or type: User.email',
          path: ['users', '@', 'email'],
          extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
        },
      ],
      data: { users: [{ email: null }] },
    });
    assert.deepEqual(other.body, normalAnswer);
    const { nodesVisited } = await work(gateways.filter, res);
    assert.ok(nodesVisited <= answeredBound, `${nodesVisited} nodes visited`);
    t.diagnostic(`nodes visited ${nodesVisited}`);
  });

  it('reject mode: the same chain is 401 with the one path it denies', async (t) => {
    const res = await gql(gateways.reject.url, { query: answered });
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, {
      errors: [
        {
          message: 'The operation selects fields that need an authenticated caller: users.@.email.',
          extensions: { code: 'UNAUTHENTICATED', unauthorizedPaths: ['users.@.email'] },
        },
      ],
    });
    const { nodesVisited } = await work(gateways.reject, res);
    assert.ok(nodesVisited <= answeredBound, `${nodesVisited} nodes visited`);
    t.diagnostic(`nodes visited ${nodesVisited}`);
  });

  it('both modes: the chain is served to a token with read:email', async () => {
    const token = bearer(await sign(key, { scope: 'read:email' }));
    for (const g of Object.values(gateways)) {
      const res = await gql(g.url, { query: answered }, token);
      assert.deepEqual(res.body, { data: { users: [{ email: U[0]!.email }] } });
    }
  });

  it('a small introspection chain is answered (8 root __schema selections, 8 × 10 cost)', async () => {
    const res = await gql(gateways.filter.url, { query: introspectionChain(3) }, { 'x-tessera-cost': 'true' });
    assert.deepEqual(res.body, {
      data: { __schema: { queryType: { name: 'Query' } } },
      extensions: { cost: { estimated: 80, max: 5000 } },
    });
  });

  it('maxExpandedFields 2000: 2000 fields are served, 2001 refused', async () => {
    // F_i expands to 2^(10-i) ids, so spreads pick the count in binary. (Not 1000 plain \`id\`s: graphql-js's
    // own budget for comparing overlapping fields aborts validation of those.)
    const chain = fragmentChain({ levels: 10, fanOut: 2, on: 'User', wrap: () => '', leaf: 'id' }).trim();
    const doc = (spreads: number[]) => `{ users(first: 1) { ${spreads.map((i) => `...F${i}`).join(' ')} } } ${chain}`;
    // users 1 + 1024 + 512 + 256 + 128 + 64 + 8 + 4 + 2 + 1 = 2000
    const at = await gql(gateways.filter.url, { query: doc([0, 1, 2, 3, 4, 7, 8, 9, 10]) });
    assert.deepEqual(at.body, { data: { users: [{ id: '1' }] } });
    const over = await gql(gateways.filter.url, { query: doc([0, 1, 2, 3, 4, 7, 8, 9, 10, 10]) });
    assert.equal(over.status, 400);
    assert.deepEqual(over.body, expanded(2001));
  });
});

describe('the cost estimate cannot be gamed', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { policies: { cost: { maxCost: 1000, introspectionCost: 60 } } } });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });
  const reset = () => Promise.all(Object.values(stack.subgraphs).map((s) => s.resetStats()));
  const slicingError = (coordinate: string, value: string) => ({
    errors: [
      {
        message: `${coordinate} was given first: ${value}; a slicing argument must be a non-negative number.`,
        extensions: { code: 'INVALID_SLICING_ARGUMENT' },
      },
    ],
  });

  const cases: Array<[string, { query: string; variables?: Record<string, unknown> }, unknown]> = [
    [
      'a negative literal',
      { query: '{ topProducts(first: -1) { name reviews(first: 50) { body } } }' },
      slicingError('Query.topProducts', '-1'),
    ],
    [
      'a negative variable',
      { query: 'query($n: Int) { topProducts(first: $n) { name } }', variables: { n: -100 } },
      slicingError('Query.topProducts', '-100'),
    ],
    ['a null literal', { query: '{ users(first: null) { id } }' }, slicingError('Query.users', 'null')],
    [
      'a null variable',
      { query: 'query($n: Int) { topProducts(first: 2) { reviews(first: $n) { id } } }', variables: { n: null } },
      slicingError('Product.reviews', 'null'),
    ],
    [
      'a null where the argument is optional (assumedSize)',
      { query: '{ users(first: 1) { reviews(first: null) { id } } }' },
      slicingError('User.reviews', 'null'),
    ],
  ];
  for (const [name, request, body] of cases) {
    it(`${name} slicing argument is 400 INVALID_SLICING_ARGUMENT, never costed as an empty list, and reaches no subgraph`, async () => {
      await reset();
      const res = await gql(stack.url, request);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, body);
      for (const s of Object.values(stack.subgraphs))
        assert.equal((await s.stats()).requests, 0, `${s.name} was not called`);
    });
  }

  it('first: 0 is a real, empty page (cost 0), and a left-out argument takes its default', async () => {
    const empty = await gql(stack.url, { query: '{ topProducts(first: 0) { name } }' }, { 'x-tessera-cost': 'true' });
    assert.deepEqual(empty.body, { data: { topProducts: [] }, extensions: { cost: { estimated: 0, max: 1000 } } });
    const byDefault = await gql(stack.url, { query: '{ topProducts { name } }' }, { 'x-tessera-cost': 'true' });
    assert.deepEqual(byDefault.body, {
      data: { topProducts: P.slice(0, 5).map((p) => ({ name: p.name })) },
      extensions: { cost: { estimated: 5, max: 1000 } },
    });
  });

  it('introspection costs introspectionCost (60 here) per __schema/__type selection, aliases included', async () => {
    const res = await gql(
      stack.url,
      {
        query:
          '{ a: __type(name: "User") { name } b: __type(name: "Product") { name } __schema { queryType { name } } }',
      },
      { 'x-tessera-cost': 'true' },
    );
    assert.deepEqual(res.body, {
      data: { a: { name: 'User' }, b: { name: 'Product' }, __schema: { queryType: { name: 'Query' } } },
      extensions: { cost: { estimated: 180, max: 1000 } },
    });
    // 17 aliased __schema selections (within maxAliases and maxRootFields) cost 1020: over the maximum, refused.
    const flood = await gql(stack.url, {
      query: `{ ${Array.from({ length: 17 }, (_, i) => `s${i}: __schema { queryType { name } }`).join(' ')} }`,
    });
    assert.equal(flood.status, 400);
    assert.deepEqual(flood.body, {
      errors: [
        {
          message: 'Operation estimated cost 1020 exceeds the maximum of 1000.',
          extensions: { code: 'COST_ESTIMATED_TOO_EXPENSIVE', cost: { estimated: 1020, max: 1000 } },
        },
      ],
    });
  });
});
