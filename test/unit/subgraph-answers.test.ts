import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { configSchema, type Config } from '../../gateway/config/schema.ts';
import { ResponseShapes } from '../../gateway/subgraph-client/response-shape.ts';
import { redactErrors } from '../../gateway/subgraph-client/subgraph-errors.ts';
import { composeSupergraph } from '../../supergraph/compose.ts';

// Shapes the example subgraphs lack: custom scalars, enums, nested lists, interfaces and unions.
const composed = composeSupergraph([
  {
    name: 'shop',
    url: 'http://shop/graphql',
    sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
      scalar JSON
      enum Color { RED GREEN }
      interface Node { id: ID! }
      type Item implements Node @key(fields: "id") { id: ID! name: String! color: Color count: Int ratio: Float meta: JSON grid: [[Int!]] tags: [String!] owner: Owner }
      type Owner implements Node { id: ID! name: String }
      union Thing = Item | Owner
      type Query { item(id: ID!): Item items: [Item!]! node(id: ID!): Node things: [Thing] strict: Item! }`,
  },
  {
    name: 'stock',
    url: 'http://stock/graphql',
    sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
      type Item @key(fields: "id") { id: ID! level: Int! history: [Int] }`,
  },
]);
if (!composed.ok) throw new Error(composed.errors.map((e) => e.message).join('\n'));
const shapes = ResponseShapes.fromSupergraph(composed.supergraphSdl);

const check = (query: string, data: unknown, variables: Record<string, unknown> = {}) =>
  shapes.check(query, undefined, data, variables);

describe('subgraph answers are checked against the operation sent', () => {
  it('a valid answer passes untouched', () => {
    const data = {
      item: {
        id: 7,
        name: 'a',
        color: 'RED',
        count: 3,
        ratio: 0.5,
        meta: { any: ['json', { deep: true }] },
        grid: [[1, 2], []],
        tags: null,
        owner: null,
      },
    };
    const before = structuredClone(data);
    assert.deepEqual(check('{ item(id: "1") { id name color count ratio meta grid tags owner { name } } }', data), {
      ok: true,
      data: before,
      problems: [],
    });
  });

  it('leaves: built-in scalars and enums are checked, custom scalars take any JSON', () => {
    const r = check('{ item(id: "1") { id color count ratio meta } }', {
      item: { id: '1', color: 'BLUE', count: 2 ** 31, ratio: 'x', meta: [1, { a: 2 }] },
    });
    assert.deepEqual(r, {
      ok: true,
      data: { item: { id: '1', color: null, count: null, ratio: null, meta: [1, { a: 2 }] } },
      problems: [
        { path: ['item', 'color'], message: 'expected an enum value, got a string', expected: 'Item.color' },
        { path: ['item', 'count'], message: 'expected a Int, got a number', expected: 'Item.count' },
        { path: ['item', 'ratio'], message: 'expected a Float, got a string', expected: 'Item.ratio' },
      ],
    });
  });

  it('null propagates to the nearest nullable position, through non-null list items', () => {
    assert.deepEqual(
      check('{ item(id: "1") { id name } items { id name } }', {
        item: { id: '1', name: null },
        items: [{ id: '1', name: 'a' }],
      }),
      {
        ok: true,
        data: { item: null, items: [{ id: '1', name: 'a' }] },
        problems: [{ path: ['item', 'name'], message: 'got null for a non-null field', expected: 'Item.name' }],
      },
    );
    // items: [Item!]! is non-null all the way up: the whole of data becomes null.
    assert.deepEqual(
      check('{ items { id name } }', {
        items: [
          { id: '1', name: 'a' },
          { id: '2', name: 5 },
        ],
      }),
      {
        ok: true,
        data: null,
        problems: [{ path: ['items', 1, 'name'], message: 'expected a String, got a number', expected: 'Item.name' }],
      },
    );
    // grid: [[Int!]]: a bad inner item nulls its own (nullable) inner list, not the grid.
    assert.deepEqual(check('{ item(id: "1") { grid } }', { item: { grid: [[1], [2, null], 3] } }), {
      ok: true,
      data: { item: { grid: [[1], null, null] } },
      problems: [
        { path: ['item', 'grid', 1, 1], message: 'got null for a non-null field', expected: 'Item.grid' },
        { path: ['item', 'grid', 2], message: 'expected a list, got a number', expected: 'Item.grid' },
      ],
    });
  });

  it("objects, lists and leaves in each other's places", () => {
    const r = check('{ item(id: "1") { tags owner { name } } things { __typename } }', {
      item: { tags: { a: 1 }, owner: [] },
      things: 'x',
    });
    assert.deepEqual(r, {
      ok: true,
      data: { item: { tags: null, owner: null }, things: null },
      problems: [
        { path: ['item', 'tags'], message: 'expected a list, got an object', expected: 'Item.tags' },
        { path: ['item', 'owner'], message: 'expected an object, got a list', expected: 'Item.owner' },
        { path: ['things'], message: 'expected a list, got a string', expected: 'Query.things' },
      ],
    });
    assert.deepEqual(check('{ item(id: "1") { name } }', { item: 'x' }), {
      ok: true,
      data: { item: null },
      problems: [{ path: ['item'], message: 'expected an object, got a string', expected: 'Query.item' }],
    });
  });

  it('abstract types: fragments apply by __typename; an unknown or non-string __typename is invalid', () => {
    const query =
      '{ things { __typename ... on Item { id name } ... on Owner { id name } } node(id: "1") { id ... on Owner { name } } }';
    const r = check(query, {
      things: [
        { __typename: 'Item', id: '1', name: 'a' },
        { __typename: 'Owner', id: '2', name: null },
        { __typename: 'Item', id: '3', name: null },
        { __typename: 'Nope' },
        { __typename: 4 },
      ],
      node: { id: '1' },
    });
    assert.deepEqual(r, {
      ok: true,
      data: {
        things: [
          { __typename: 'Item', id: '1', name: 'a' },
          { __typename: 'Owner', id: '2', name: null },
          null,
          null,
          null,
        ],
        node: { id: '1' },
      },
      problems: [
        { path: ['things', 2, 'name'], message: 'got null for a non-null field', expected: 'Item.name' },
        { path: ['things', 3, '__typename'], message: 'got an unknown __typename', expected: 'Thing.__typename' },
        { path: ['things', 4, '__typename'], message: 'expected a string, got a number', expected: '__typename' },
      ],
    });
  });

  it('a missing non-null field is invalid unless @skip/@include or an unknown fragment type leaves it out', () => {
    const query =
      'query ($with: Boolean!, $without: Boolean = true) { item(id: "1") { id name @include(if: $with) count @skip(if: $without) ...F } } fragment F on Item { ratio }';
    assert.deepEqual(check(query, { item: { id: '1' } }, { with: false }), {
      ok: true,
      data: { item: { id: '1' } },
      problems: [],
    });
    assert.deepEqual(check(query, { item: { id: '1' } }, { with: true }), {
      ok: true,
      data: { item: null },
      problems: [{ path: ['item', 'name'], message: 'a non-null field is missing', expected: 'Item.name' }],
    });
    // The variable's default (true) skips `count`; an explicit false includes it and checks it.
    assert.deepEqual(
      check(query, { item: { id: '1', count: 'x' } }, { with: false }),
      { ok: true, data: { item: { id: '1', count: 'x' } }, problems: [] },
      'count skipped, not looked at',
    );
    assert.deepEqual(check(query, { item: { id: '1', count: 'x', ratio: 'y' } }, { with: false, without: false }), {
      ok: true,
      data: { item: { id: '1', count: null, ratio: null } },
      problems: [
        { path: ['item', 'count'], message: 'expected a Int, got a string', expected: 'Item.count' },
        { path: ['item', 'ratio'], message: 'expected a Float, got a string', expected: 'Item.ratio' },
      ],
    });
    // No __typename on an interface: `... on Owner` may not apply, so its fields are checked only when present.
    assert.deepEqual(check('{ node(id: "1") { id ... on Item { name } } }', { node: { id: '1' } }), {
      ok: true,
      data: { node: { id: '1' } },
      problems: [],
    });
  });

  it('aliases are checked under their response key', () => {
    assert.deepEqual(
      check('{ a: item(id: "1") { n: name } b: item(id: "2") { n: name } }', { a: { n: 'x' }, b: { n: 1 } }),
      {
        ok: true,
        data: { a: { n: 'x' }, b: null },
        problems: [{ path: ['b', 'n'], message: 'expected a String, got a number', expected: 'Item.name' }],
      },
    );
  });

  const entities =
    'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Item { level history } } }';
  const reps = [
    { __typename: 'Item', id: '1' },
    { __typename: 'Item', id: '2' },
    { __typename: 'Item', id: '3' },
  ];

  it('_entities: each item is checked as the type of its representation; bad items are null, the others kept', () => {
    const r = check(
      entities,
      { _entities: [{ level: 1, history: [1] }, [{ level: 2 }], { level: null, history: null }] },
      { representations: reps },
    );
    assert.deepEqual(r, {
      ok: true,
      data: { _entities: [{ level: 1, history: [1] }, null, null] },
      problems: [
        { path: ['_entities', 1, 'level'], message: 'expected an object, got a list', expected: '_Entity' },
        { path: ['_entities', 2, 'level'], message: 'got null for a non-null field', expected: 'Item.level' },
      ],
    });
    assert.deepEqual(check(entities, { _entities: [null, 'x', 7] }, { representations: reps }), {
      ok: true,
      data: { _entities: [null, null, null] },
      problems: [
        { path: ['_entities', 1, 'level'], message: 'expected an object, got a string', expected: '_Entity' },
        { path: ['_entities', 2, 'level'], message: 'expected an object, got a number', expected: '_Entity' },
      ],
    });
  });

  it('_entities of the wrong length, or not a list, and data that is not an object lose the whole fetch', () => {
    assert.deepEqual(check(entities, { _entities: [{ level: 1 }, { level: 2 }] }, { representations: reps }), {
      ok: false,
      reason: '_entities has 2 items for 3 representations',
    });
    assert.deepEqual(check(entities, { _entities: { level: 1 } }, { representations: reps }), {
      ok: false,
      reason: '_entities is an object, expected a list of 3',
    });
    assert.deepEqual(check(entities, {}, { representations: reps }), {
      ok: false,
      reason: '_entities is missing, expected a list of 3',
    });
    assert.deepEqual(check('{ item(id: "1") { id } }', 'oops'), { ok: false, reason: 'data is a string' });
    assert.deepEqual(check('{ item(id: "1") { id } }', [1]), { ok: false, reason: 'data is a list' });
    assert.deepEqual(check('{ item(id: "1") { id } }', null), { ok: true, data: null, problems: [] });
  });

  it('work follows the operation, not the value: a 100k-deep custom scalar is not walked, a 200k-item list is walked once', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(check('{ item(id: "1") { meta } }', { item: { meta: deep } }).ok, true);
    const many = Array.from({ length: 200_000 }, (_, i) => i);
    many[199_999] = 'x' as unknown as number;
    assert.deepEqual(check('{ item(id: "1") { history: tags } }', { item: { history: many.map(String) } }).ok, true);
    const r = check(entities, { _entities: [{ level: 1, history: many }] }, { representations: [reps[0]] });
    assert.deepEqual(r.ok && r.problems, [
      { path: ['_entities', 0, 'history', 199_999], message: 'expected a Int, got a string', expected: 'Item.history' },
    ]);
  });

  it('fragments spread within fragments are expanded once per position, not exponentially', () => {
    // F0 spreads F1 twice, F1 spreads F2 twice… : 2^30 expansions if each spread were followed.
    const fragments = Array.from(
      { length: 30 },
      (_, i) => `fragment F${i} on Item { id ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const query = `{ item(id: "1") { ...F0 } } ${fragments} fragment F30 on Item { name }`;
    assert.deepEqual(check(query, { item: { id: '1', name: 2 } }), {
      ok: true,
      data: { item: null },
      problems: [{ path: ['item', 'name'], message: 'expected a String, got a number', expected: 'Item.name' }],
    });
  });

  it('an operation text is compiled once and reused', () => {
    const data = () => ({ item: { id: '1', name: 'a' } });
    const query = '{ item(id: "9") { id name } }';
    const first = check(query, data());
    for (let i = 0; i < 3; i++) assert.deepEqual(check(query, data()), first);
    // A text that does not parse is not checked (the subgraph would have refused it).
    assert.deepEqual(check('{ item(', { item: 5 }), { ok: true, data: { item: 5 }, problems: [] });
  });
});

describe('subgraph errors are redacted', () => {
  const defaults = { include: [], exposeMessages: true };
  const leaky = {
    message: 'reviews store failed',
    path: ['_entities', 0, 'reviews'],
    locations: [{ line: 1, column: 2 }],
    extensions: {
      code: 'REVIEWS_STORE_DOWN',
      field: 'rating',
      stacktrace: ['Error: at db.ts:10'],
      exception: { host: 'db-primary.internal:5432' },
    },
  };

  it('by default: message, path and code; the original goes to the log record', () => {
    assert.deepEqual(redactErrors([leaky, { message: 'plain', path: ['user'] }], 'reviews', defaults), {
      errors: [
        {
          message: 'reviews store failed',
          path: ['_entities', 0, 'reviews'],
          extensions: { code: 'REVIEWS_STORE_DOWN' },
        },
        { message: 'plain', path: ['user'], extensions: {} },
      ],
      redacted: [{ index: 0, error: leaky }],
      redactedCount: 1,
    });
  });

  it('`include` keeps named extensions; `exposeMessages: false` replaces every message', () => {
    assert.deepEqual(redactErrors([leaky], 'reviews', { include: ['field', 'absent'], exposeMessages: false }).errors, [
      {
        message: 'Subgraph "reviews" returned an error',
        path: ['_entities', 0, 'reviews'],
        extensions: { code: 'REVIEWS_STORE_DOWN', field: 'rating' },
      },
    ]);
  });

  it("a subgraph's INTERNAL_SERVER_ERROR gets a generic message and DOWNSTREAM_SERVICE_ERROR", () => {
    assert.deepEqual(
      redactErrors(
        [{ message: 'connect ECONNREFUSED 10.0.0.7:5432', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        'reviews',
        defaults,
      ).errors,
      [{ message: 'Subgraph "reviews" returned an error', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } }],
    );
  });

  it('malformed errors: non-objects, a non-array list, bad paths, non-string codes and messages', () => {
    const r = redactErrors('boom', 'reviews', defaults);
    assert.deepEqual(r.errors, [
      { message: 'Subgraph "reviews" returned an error', extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' } },
    ]);
    assert.deepEqual(
      redactErrors(
        [
          null,
          { message: 5, path: ['a', -1], extensions: { code: 7 } },
          { message: 'ok', path: 'a.b', extensions: [] },
        ],
        'reviews',
        defaults,
      ).errors,
      [
        { message: 'Subgraph "reviews" returned an error', extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' } },
        { message: 'Subgraph "reviews" returned an error', extensions: {} },
        { message: 'ok', extensions: {} },
      ],
    );
  });

  it('log records are bounded: 10 errors, 2000 characters each', () => {
    const huge = { message: 'x', extensions: { code: 'X', stacktrace: 'y'.repeat(100_000) } };
    const r = redactErrors(
      Array.from({ length: 50 }, () => huge),
      'reviews',
      defaults,
    );
    assert.equal(r.errors.length, 50);
    assert.equal(r.redactedCount, 50);
    assert.equal(r.redacted.length, 10);
    assert.equal(String(r.redacted[0]!.error).length, 2001);
  });
});

describe('subgraph answer settings', () => {
  const config = (subgraphs: unknown) => configSchema.parse({ supergraph: { file: 's.graphql' }, subgraphs }) as Config;

  it('default to 16 MiB, no extensions, messages kept; `all` then the subgraph override, lists replaced', () => {
    const base = resolveSubgraphSettings(config({}), 'reviews', 'http://r/graphql');
    assert.equal(base.maxResponseBytes, 16 * 1024 * 1024);
    assert.deepEqual(base.errors, { include: [], exposeMessages: true });
    const c = config({
      all: { maxResponseBytes: 1000, errors: { include: ['a', 'b'], exposeMessages: false } },
      reviews: { errors: { include: ['c'] } },
    });
    assert.deepEqual(resolveSubgraphSettings(c, 'reviews', 'http://r/graphql').errors, {
      include: ['c'],
      exposeMessages: false,
    });
    assert.equal(resolveSubgraphSettings(c, 'reviews', 'http://r/graphql').maxResponseBytes, 1000);
    assert.deepEqual(resolveSubgraphSettings(c, 'accounts', 'http://a/graphql').errors, {
      include: ['a', 'b'],
      exposeMessages: false,
    });
  });

  it('refuses a non-positive cap and unknown keys', () => {
    assert.throws(() => config({ all: { maxResponseBytes: 0 } }));
    assert.throws(() => config({ reviews: { errors: { exposeMessage: true } } }));
  });
});
