import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueryPlan } from '@graphql-hive/router-query-planner';
import { Supergraph } from '@apollo/federation-internals';
import {
  buildSchema,
  Kind,
  lexicographicSortSchema,
  parse,
  print,
  printSchema,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
} from 'graphql';
import { createGenerationRuntime } from '../../gateway/engine/tessera/runtime.ts';
import { compilePlan, type ExecNode } from '../../gateway/engine/tessera/plan/compile.ts';
import { explodeAbstractSelections } from '../../gateway/engine/tessera/plan/explode.ts';
import { PlanRun } from '../../gateway/engine/tessera/plan/execute.ts';
import { compileShape } from '../../gateway/engine/tessera/plan/shape.ts';
import { SupergraphInfo } from '../../gateway/engine/tessera/plan/supergraph.ts';
import { createLogger } from '../../gateway/observability/log.ts';
import { RequestContext } from '../../gateway/pipeline/request-context.ts';
import { classifyFailure, type ClassifiedFailure } from '../../gateway/subgraph-client/classify-failure.ts';
import { SubgraphClient } from '../../gateway/subgraph-client/client.ts';
import type { SubgraphAnswer, SubgraphRequest } from '../../gateway/subgraph-client/fetch.ts';
import { allSubgraphs, composeOrThrow, exampleSdl } from '../../harness/stack.ts';

// The executor and the shaper on hand-made plans (the planner's JSON, as @graphql-hive/router-query-planner
// writes it) over the example supergraph. The subgraph client is a stand-in that answers what each case
// gives it and records what it was sent: the executor's collaborator, not what is under test.
const supergraphSdl = composeOrThrow(
  allSubgraphs.map((name) => ({ name, url: `http://${name}.test/graphql`, sdl: exampleSdl(name) })),
);
const log = createLogger({ level: 'silent', name: 'test' });
const info = new SupergraphInfo(supergraphSdl);
const { apiSchema } = createGenerationRuntime(supergraphSdl, { client: () => assert.fail('no fetch'), log });

type Canned = { data?: unknown; errors?: GraphQLFormattedError[] } | { fail: ClassifiedFailure };
interface Sent {
  subgraph: string;
  url: string;
  operationType: string;
  query: string;
  variables: unknown;
}

/** Answers each fetch with the next canned answer for its subgraph. */
function cannedSubgraphs(answers: Record<string, Canned[]>) {
  const sent: Sent[] = [];
  const failures: string[] = [];
  const client = ({ name, url }: { name: string; url: string }): SubgraphClient =>
    ({
      settings: { name },
      fetch: async (req: SubgraphRequest): Promise<SubgraphAnswer> => {
        sent.push({
          subgraph: name,
          url,
          operationType: req.operationType,
          query: req.query,
          variables: structuredClone(req.variables),
        });
        const next = answers[name]?.shift();
        if (!next) throw new Error(`no canned answer for ${name}`);
        if ('fail' in next) return { ok: false, failure: next.fail };
        return { ok: true, status: 200, text: '', result: structuredClone(next) };
      },
      reportFailure: (failure: ClassifiedFailure) => void failures.push(`${name}: ${failure.code}`),
      // The real method over this fake's fetch and reportFailure.
      exchange: SubgraphClient.prototype.exchange,
    }) as unknown as SubgraphClient;
  return { client, sent, failures };
}

async function run(
  plan: QueryPlan,
  query: string,
  answers: Record<string, Canned[]>,
  variables: Record<string, unknown> = {},
) {
  const subgraphs = cannedSubgraphs(answers);
  const context = new RequestContext({ requestId: 'r1', method: 'POST', headers: {}, remoteAddress: '::1', log });
  const compiled = compilePlan(plan, info);
  const planRun = new PlanRun({ info, client: subgraphs.client, schema: apiSchema }, variables, context);
  if (compiled.root) await planRun.run(compiled.root);
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  const { data, errors } = compileShape(apiSchema, document, operation, variables).shape(planRun);
  return { body: errors.length ? { data, errors } : { data }, sent: subgraphs.sent, failures: subgraphs.failures };
}

const productsRoot = (operation: string) =>
  ({ kind: 'Fetch', serviceName: 'products', operationKind: 'query', operation }) as const;
const entityFetch = (serviceName: string, typeCondition: string, keys: string[], operation: string) =>
  ({
    kind: 'Fetch',
    serviceName,
    operationKind: 'query',
    operation,
    requires: [
      {
        kind: 'InlineFragment',
        typeCondition,
        selections: [{ kind: 'Field', name: '__typename' }, ...keys.map((name) => ({ kind: 'Field', name }) as const)],
      },
    ],
  }) as const;
const flatten = (path: Array<string | '@'>, node: unknown) => ({
  kind: 'Flatten',
  path: path.map((p) => (p === '@' ? '@' : { Field: p })),
  node,
});

describe('tessera executor: entity fetches', () => {
  it('batches one _entities fetch per hop, sends each distinct representation once with __typename, merges back', async () => {
    const plan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [
          productsRoot('{topProducts{__typename upc name}}'),
          flatten(
            ['topProducts', '@'],
            entityFetch(
              'reviews',
              'Product',
              ['upc'],
              '{_entities{...on Product{reviews{body author{__typename id}}}}}',
            ),
          ),
          flatten(
            ['topProducts', '@', 'reviews', '@', 'author'],
            entityFetch('accounts', 'User', ['id'], '{_entities{...on User{name}}}'),
          ),
        ],
      },
    } as QueryPlan;
    const { body, sent } = await run(plan, '{ topProducts { name reviews { body author { name } } } }', {
      products: [
        {
          data: {
            topProducts: [
              { __typename: 'Product', upc: '1', name: 'Table' },
              { __typename: 'Product', upc: '2', name: 'Couch' },
              { __typename: 'Product', upc: '1', name: 'Table' },
            ],
          },
        },
      ],
      reviews: [
        {
          data: {
            _entities: [
              {
                reviews: [
                  { body: 'a', author: { __typename: 'User', id: 'u1' } },
                  { body: 'b', author: { __typename: 'User', id: 'u2' } },
                ],
              },
              { reviews: [{ body: 'c', author: { __typename: 'User', id: 'u1' } }] },
            ],
          },
        },
      ],
      accounts: [{ data: { _entities: [{ name: 'Ada' }, { name: 'Alan' }] } }],
    });
    const table = {
      name: 'Table',
      reviews: [
        { body: 'a', author: { name: 'Ada' } },
        { body: 'b', author: { name: 'Alan' } },
      ],
    };
    assert.deepEqual(body, {
      data: { topProducts: [table, { name: 'Couch', reviews: [{ body: 'c', author: { name: 'Ada' } }] }, table] },
    });
    assert.deepEqual(
      sent.map((s) => [s.subgraph, s.url, s.operationType, s.variables]),
      [
        ['products', 'http://products.test/graphql', 'query', {}],
        [
          'reviews',
          'http://reviews.test/graphql',
          'query',
          {
            representations: [
              { __typename: 'Product', upc: '1' },
              { __typename: 'Product', upc: '2' },
            ],
          },
        ],
        [
          'accounts',
          'http://accounts.test/graphql',
          'query',
          {
            representations: [
              { __typename: 'User', id: 'u1' },
              { __typename: 'User', id: 'u2' },
            ],
          },
        ],
      ],
    );
  });

  it('@requires: representations carry the required fields; entities of another type, or without a key, are not sent', async () => {
    const plan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [
          productsRoot('{search{__typename ...on Product{sku variant price weight}}}'),
          {
            kind: 'Flatten',
            path: [{ Field: 'search' }, '@', { TypeCondition: ['Product'] }],
            node: entityFetch(
              'inventory',
              'Product',
              ['sku', 'variant', 'price', 'weight'],
              '{_entities{...on Product{shippingEstimate}}}',
            ),
          },
        ],
      },
    } as QueryPlan;
    const { body, sent } = await run(
      plan,
      '{ search(text: "x") { __typename ... on Product { shippingEstimate } ... on Category { name } } }',
      {
        products: [
          {
            data: {
              search: [
                { __typename: 'Product', sku: 's1', variant: 'v', price: 10, weight: 4 },
                { __typename: 'Category', name: 'Desks' },
                // No sku: this product cannot be represented, it gets no shippingEstimate.
                { __typename: 'Product', variant: 'v', price: 1, weight: 1 },
              ],
            },
          },
        ],
        inventory: [{ data: { _entities: [{ shippingEstimate: 2 }] } }],
      },
    );
    assert.deepEqual(sent[1]!.variables, {
      representations: [{ __typename: 'Product', sku: 's1', variant: 'v', price: 10, weight: 4 }],
    });
    assert.deepEqual(body, {
      data: {
        search: [
          { __typename: 'Product', shippingEstimate: 2 },
          { __typename: 'Category', name: 'Desks' },
          { __typename: 'Product', shippingEstimate: null },
        ],
      },
    });
  });

  it('a BatchFetch sends each alias its own representations and merges each alias back by path', async () => {
    const plan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [
          {
            kind: 'Parallel',
            nodes: [
              productsRoot('{topProducts{__typename upc}}'),
              { kind: 'Fetch', serviceName: 'reviews', operation: '{topReviews{product{__typename upc}}}' },
            ],
          },
          {
            kind: 'BatchFetch',
            serviceName: 'reviews',
            operation: '{_e0:_entities(representations:$r0){...on Product{reviewCount}}}',
            entityBatch: {
              aliases: [
                {
                  alias: '_e0',
                  representationsVariableName: 'r0',
                  paths: [
                    [{ Field: 'topProducts' }, '@'],
                    [{ Field: 'topReviews' }, '@', { Field: 'product' }],
                  ],
                  requires: entityFetch('x', 'Product', ['upc'], '').requires,
                },
              ],
            },
          },
        ],
      },
    } as QueryPlan;
    const { body, sent } = await run(plan, '{ topProducts { reviewCount } topReviews { product { reviewCount } } }', {
      products: [{ data: { topProducts: [{ __typename: 'Product', upc: '1' }] } }],
      reviews: [
        { data: { topReviews: [{ product: { __typename: 'Product', upc: '2' } }] } },
        { data: { _e0: [{ reviewCount: 3 }, { reviewCount: 5 }] } },
      ],
    });
    assert.deepEqual(sent[2]!.variables, {
      r0: [
        { __typename: 'Product', upc: '1' },
        { __typename: 'Product', upc: '2' },
      ],
    });
    assert.deepEqual(body, {
      data: { topProducts: [{ reviewCount: 3 }], topReviews: [{ product: { reviewCount: 5 } }] },
    });

    // A failed batch: one error at the first entity of the first alias; every alias's fields null.
    const failed = await run(plan, '{ topProducts { reviewCount } topReviews { product { reviewCount } } }', {
      products: [{ data: { topProducts: [{ __typename: 'Product', upc: '1' }] } }],
      reviews: [
        { data: { topReviews: [{ product: { __typename: 'Product', upc: '2' } }] } },
        { fail: classifyFailure('reviews', Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })) },
      ],
    });
    assert.deepEqual(failed.body, {
      data: { topProducts: [{ reviewCount: null }], topReviews: [{ product: { reviewCount: null } }] },
      errors: [
        {
          message: 'Subgraph "reviews" did not respond in time',
          path: ['topProducts', 0, 'reviewCount'],
          extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'reviews' },
        },
      ],
    });
  });

  it('input rewrites (ValueSetter) change the representation, output rewrites (KeyRenamer) the answer', async () => {
    const plan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [
          productsRoot('{topProducts{__typename upc}}'),
          flatten(['topProducts', '@'], {
            ...entityFetch('reviews', 'Product', ['upc'], '{_entities{...on Product{n: reviewCount}}}'),
            inputRewrites: [
              {
                ValueSetter: { path: [{ TypenameEquals: ['Product'] }, { Key: '__typename' }], setValueTo: 'Item' },
              },
            ],
            outputRewrites: [{ KeyRenamer: { path: [{ Key: 'n' }], renameKeyTo: 'reviewCount' } }],
          }),
        ],
      },
    } as QueryPlan;
    const { body, sent } = await run(plan, '{ topProducts { reviewCount } }', {
      products: [{ data: { topProducts: [{ __typename: 'Product', upc: '1' }] } }],
      reviews: [{ data: { _entities: [{ n: 4 }] } }],
    });
    assert.deepEqual(sent[1]!.variables, { representations: [{ __typename: 'Item', upc: '1' }] });
    assert.deepEqual(body, { data: { topProducts: [{ reviewCount: 4 }] } });
  });
});

describe('tessera executor: variables, conditions and operation types', () => {
  it('sends each fetch only the variables it uses; a Condition runs the branch its variable picks', async () => {
    const plan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [
          { ...productsRoot('query($n:Int){topProducts(first:$n){__typename upc name}}'), variableUsages: ['n'] },
          {
            kind: 'Condition',
            condition: 'withReviews',
            ifClause: flatten(
              ['topProducts', '@'],
              entityFetch('reviews', 'Product', ['upc'], '{_entities{...on Product{reviewCount}}}'),
            ),
            elseClause: null,
          },
        ],
      },
    } as unknown as QueryPlan;
    const query =
      'query($n: Int, $withReviews: Boolean!, $other: String) { topProducts(first: $n) { name reviewCount @include(if: $withReviews) } }';
    const answers = () => ({
      products: [{ data: { topProducts: [{ __typename: 'Product', upc: '1', name: 'Table' }] } }],
      reviews: [{ data: { _entities: [{ reviewCount: 2 }] } }],
    });
    const on = await run(plan, query, answers(), { n: 1, withReviews: true, other: 'x' });
    assert.deepEqual(on.body, { data: { topProducts: [{ name: 'Table', reviewCount: 2 }] } });
    assert.deepEqual(on.sent[0]!.variables, { n: 1 });
    assert.deepEqual(on.sent[1]!.variables, { representations: [{ __typename: 'Product', upc: '1' }] });
    const off = await run(plan, query, answers(), { n: 1, withReviews: false });
    assert.deepEqual(off.body, { data: { topProducts: [{ name: 'Table' }] } });
    assert.equal(off.sent.length, 1);
  });

  it("a mutation's root fetches are mutations, in order; its entity fetches are queries", async () => {
    const plan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [
          { kind: 'Fetch', serviceName: 'reviews', operationKind: 'mutation', operation: 'mutation{a:createReview}' },
          { kind: 'Fetch', serviceName: 'reviews', operationKind: 'mutation', operation: 'mutation{b:createReview}' },
          flatten(['a', 'author'], entityFetch('accounts', 'User', ['id'], '{_entities{...on User{name}}}')),
        ],
      },
    } as QueryPlan;
    const input = '{ productUpc: "1", authorId: "1", body: "x", rating: 1 }';
    const { body, sent } = await run(
      plan,
      `mutation { a: createReview(input: ${input}) { id author { name } } b: createReview(input: ${input}) { id } }`,
      {
        reviews: [
          { data: { a: { id: 'r1', author: { __typename: 'User', id: '1' } } } },
          { data: { b: { id: 'r2' } } },
        ],
        accounts: [{ data: { _entities: [{ name: 'Ada' }] } }],
      },
    );
    assert.deepEqual(
      sent.map((s) => [s.subgraph, s.operationType, s.query]),
      [
        ['reviews', 'mutation', 'mutation{a:createReview}'],
        ['reviews', 'mutation', 'mutation{b:createReview}'],
        ['accounts', 'query', '{_entities{...on User{name}}}'],
      ],
    );
    assert.deepEqual(body, { data: { a: { id: 'r1', author: { name: 'Ada' } }, b: { id: 'r2' } } });
  });
});

describe('tessera executor: result shaping', () => {
  it('aliases, __typename, fragments on abstract types by __typename; fields nobody asked for are not copied', async () => {
    const plan = {
      kind: 'QueryPlan',
      node: productsRoot('{__typename}'),
    } as QueryPlan;
    const { body } = await run(
      plan,
      `{
        first: product(upc: "1") { t: __typename title: name }
        catalog { __typename ...E ... on Category { id } }
      }
      fragment E on CatalogEntry { name ... on Product { upc } }`,
      {
        products: [
          {
            data: {
              first: { __typename: 'Product', title: 'Table', price: 1, internalNotes: 'secret' },
              catalog: [
                { __typename: 'Product', name: 'Table', upc: '1', id: 'ignored' },
                { __typename: 'Category', name: 'Desks', id: 'c1', upc: 'ignored' },
              ],
              // A hostile subgraph adding a root field the client did not select.
              users: [{ id: 'x' }],
            },
          },
        ],
      },
    );
    assert.deepEqual(body, {
      data: {
        first: { t: 'Product', title: 'Table' },
        catalog: [
          { __typename: 'Product', name: 'Table', upc: '1' },
          { __typename: 'Category', name: 'Desks', id: 'c1' },
        ],
      },
    });
  });

  it('a value at an abstract position without __typename (the plan needed none) keeps the fields selected on the interface', async () => {
    const plan = { kind: 'QueryPlan', node: productsRoot('{__typename}') } as QueryPlan;
    const { body } = await run(plan, '{ catalog { name ... on Product { upc } } }', {
      products: [{ data: { catalog: [{ name: 'Tables' }, { __typename: 'Product', name: 'Table', upc: '1' }] } }],
    });
    assert.deepEqual(body, { data: { catalog: [{ name: 'Tables' }, { name: 'Table', upc: '1' }] } });
  });

  it('a null in a non-null field nobody reported bubbles to the nearest nullable parent, with an error at its path', async () => {
    const plan = { kind: 'QueryPlan', node: productsRoot('{__typename}') } as QueryPlan;
    const { body } = await run(plan, '{ product(upc: "1") { upc category { id name } } }', {
      products: [{ data: { product: { upc: '1', category: { id: 'c1', name: null } } } }],
    });
    // Category.name and Product.category are non-null: product (nullable) is the nearest nullable position.
    assert.deepEqual(body, {
      data: { product: null },
      errors: [
        {
          message: 'Cannot return null for non-nullable field Category.name.',
          path: ['product', 'category', 'name'],
          extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
        },
      ],
    });
  });

  it('a null in a non-null list item bubbles through non-null lists up to data', async () => {
    const plan = { kind: 'QueryPlan', node: productsRoot('{__typename}') } as QueryPlan;
    const { body } = await run(plan, '{ topProducts { upc } }', {
      products: [{ data: { topProducts: [{ upc: '1' }, null] } }],
    });
    assert.deepEqual(body, {
      data: null,
      errors: [
        {
          message: 'Cannot return null for non-nullable array element of Query.topProducts.',
          path: ['topProducts', 1],
          extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
        },
      ],
    });
  });
});

describe('tessera executor: values the API schema hides', () => {
  it('an @inaccessible enum value from a subgraph is null with an error, never shown to the client', async () => {
    const sdl = composeOrThrow([
      {
        name: 'shop',
        url: 'http://shop.test/graphql',
        sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@inaccessible"])
          enum Status { OPEN CLOSED SECRET @inaccessible }
          type Query { status: Status statuses: [Status!] }`,
      },
    ]);
    const runtime = createGenerationRuntime(sdl, {
      client: cannedSubgraphs({ shop: [{ data: { status: 'SECRET', statuses: ['OPEN', 'SECRET'] } }] }).client,
      log,
    });
    const query = '{ status statuses }';
    const document = parse(query);
    const context = new RequestContext({ requestId: 'r1', method: 'POST', headers: {}, remoteAddress: '::1', log });
    const result = await runtime.execute({
      document,
      source: query,
      operation: document.definitions[0] as OperationDefinitionNode,
      operationName: null,
      variables: {},
      context,
    });
    const error = (path: Array<string | number>) => ({
      message:
        'Invalid value for Query.status' +
        (path.length > 1 ? 'es' : '') +
        ': an enum value the API schema does not have.',
      path,
      extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
    });
    assert.deepEqual(result, {
      data: { status: null, statuses: null },
      errors: [error(['status']), error(['statuses', 1])],
    });
  });
});

describe('tessera runtime: the API schema', () => {
  it("is the one Apollo's federation library derives from the same supergraph (inaccessible, join, link and security types removed)", () => {
    const withHidden = composeOrThrow([
      {
        name: 'a',
        url: 'http://a.test/graphql',
        sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@inaccessible", "@tag", "@interfaceObject"])
          enum Status { OPEN SECRET @inaccessible }
          type Hidden @inaccessible { id: ID! }
          type Query { status: Status hidden: Hidden @inaccessible node(id: ID!): Node }
          interface Node @key(fields: "id") { id: ID! }
          type Thing implements Node @key(fields: "id") { id: ID! name: String @tag(name: "public") }`,
      },
      {
        name: 'b',
        url: 'http://b.test/graphql',
        sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@interfaceObject"])
          type Node @key(fields: "id") @interfaceObject { id: ID! score: Int }`,
      },
    ]);
    for (const sdl of [supergraphSdl, withHidden]) {
      const apollo = Supergraph.build(sdl.replace(/,\s*for: SECURITY/g, ''))
        .apiSchema()
        .toGraphQLJSSchema();
      const ours = createGenerationRuntime(sdl, { client: () => assert.fail('no fetch'), log }).apiSchema;
      assert.equal(printSchema(lexicographicSortSchema(ours)), printSchema(lexicographicSortSchema(apollo)));
    }
  });
});

describe('tessera runtime: introspection', () => {
  const execute = async (query: string, answers: Record<string, Canned[]>) => {
    const subgraphs = cannedSubgraphs(answers);
    const runtime = createGenerationRuntime(supergraphSdl, { client: subgraphs.client, log });
    const document = parse(query);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
    const context = new RequestContext({ requestId: 'r1', method: 'POST', headers: {}, remoteAddress: '::1', log });
    const result = await runtime.execute({
      document,
      source: query,
      operation,
      operationName: null,
      variables: {},
      context,
    });
    // graphql-js answers introspection with null-prototype objects: compare what the client gets.
    return {
      result: JSON.parse(JSON.stringify(result)) as unknown,
      sent: subgraphs.sent.map((s) => `${s.subgraph} ${s.query}`),
    };
  };

  it('answers __schema and __type from the API schema, also through root fragments, and plans only the rest', async () => {
    const { result, sent } = await execute(
      `{ ...Root t: __typename }
      fragment Root on Query { __schema { queryType { name } } ... on Query { __type(name: "Review") { name } } topProducts(first: 1) { upc } }`,
      { products: [{ data: { topProducts: [{ upc: '1' }] } }] },
    );
    assert.deepEqual(result, {
      data: {
        __schema: { queryType: { name: 'Query' } },
        __type: { name: 'Review' },
        topProducts: [{ upc: '1' }],
        t: 'Query',
      },
    });
    assert.equal(sent.length, 1);
    assert.match(sent[0]!, /^products \{topProducts\(first: 1\)\{upc\}/);
    assert.doesNotMatch(sent[0]!, /__schema|__type\b/);
  });

  it('an operation of only __typename and introspection fetches nothing; federation types are not in the API schema', async () => {
    const { result, sent } = await execute(
      '{ __typename a: __type(name: "join__Graph") { name } b: __type(name: "_Entity") { name } }',
      {},
    );
    assert.deepEqual(result, { data: { __typename: 'Query', a: null, b: null } });
    assert.deepEqual(sent, []);
  });
});

describe('tessera executor: errors and partial data', () => {
  const reviewsPlan = {
    kind: 'QueryPlan',
    node: {
      kind: 'Sequence',
      nodes: [
        productsRoot('{topProducts{__typename upc name}}'),
        {
          kind: 'Parallel',
          nodes: [
            flatten(
              ['topProducts', '@'],
              entityFetch('reviews', 'Product', ['upc'], '{_entities{...on Product{reviews{body}}}}'),
            ),
            flatten(
              ['topProducts', '@'],
              entityFetch('inventory', 'Product', ['upc'], '{_entities{...on Product{inStock}}}'),
            ),
          ],
        },
      ],
    },
  } as QueryPlan;
  const query = '{ topProducts { name inStock reviews { body } } }';
  const products = () => ({
    data: {
      topProducts: [
        { __typename: 'Product', upc: '1', name: 'Table' },
        { __typename: 'Product', upc: '2', name: 'Couch' },
      ],
    },
  });

  it("a failed entity fetch nulls that subgraph's fields with one error (serviceName, the first entity's path); the rest is served", async () => {
    const { body, failures } = await run(plan(reviewsPlan), query, {
      products: [products()],
      reviews: [{ fail: classifyFailure('reviews', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })) }],
      inventory: [{ data: { _entities: [{ inStock: true }, { inStock: false }] } }],
    });
    assert.deepEqual(body, {
      data: {
        topProducts: [
          { name: 'Table', inStock: true, reviews: null },
          { name: 'Couch', inStock: false, reviews: null },
        ],
      },
      errors: [
        {
          message: 'Subgraph "reviews" is unavailable',
          path: ['topProducts', 0, 'reviews'],
          extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews' },
        },
      ],
    });
    assert.deepEqual(failures, ['reviews: SUBGRAPH_UNAVAILABLE']);
  });

  it("a subgraph's errors at _entities.N get the client's path of the N-th entity, serviceName, and a code", async () => {
    const { body } = await run(plan(reviewsPlan), query, {
      products: [products()],
      reviews: [
        {
          data: { _entities: [{ reviews: [{ body: 'ok' }] }, { reviews: null }] },
          errors: [
            { message: 'store down', path: ['_entities', 1, 'reviews'], extensions: { code: 'STORE_DOWN' } },
            { message: 'no path' },
          ],
        },
      ],
      inventory: [{ data: { _entities: [{ inStock: true }, { inStock: true }] } }],
    });
    assert.deepEqual(body, {
      data: {
        topProducts: [
          { name: 'Table', inStock: true, reviews: [{ body: 'ok' }] },
          { name: 'Couch', inStock: true, reviews: null },
        ],
      },
      errors: [
        {
          message: 'store down',
          path: ['topProducts', 1, 'reviews'],
          extensions: { code: 'STORE_DOWN', serviceName: 'reviews' },
        },
        { message: 'no path', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'reviews' } },
      ],
    });
  });

  it('a failed root fetch nulls its root fields; a non-null one takes data with it, with no second error', async () => {
    const plan = {
      kind: 'QueryPlan',
      node: {
        kind: 'Parallel',
        nodes: [
          { kind: 'Fetch', serviceName: 'accounts', operation: '{users{id} user{id}}' },
          productsRoot('{topProducts{upc}}'),
        ],
      },
    } as QueryPlan;
    const down = classifyFailure('accounts', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const error = {
      message: 'Subgraph "accounts" is unavailable',
      path: ['users'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'accounts' },
    };
    const nullable = await run(plan, '{ user(id: "1") { id } topProducts { upc } }', {
      accounts: [{ fail: down }],
      products: [{ data: { topProducts: [{ upc: '1' }] } }],
    });
    assert.deepEqual(nullable.body, { data: { user: null, topProducts: [{ upc: '1' }] }, errors: [error] });
    const nonNull = await run(plan, '{ users { id } user(id: "1") { id } topProducts { upc } }', {
      accounts: [{ fail: down }],
      products: [{ data: { topProducts: [{ upc: '1' }] } }],
    });
    assert.deepEqual(nonNull.body, { data: null, errors: [error] });
  });
});

/** The same plan object may be run twice: each run compiles from the JSON (nothing is mutated). */
function plan(p: QueryPlan): QueryPlan {
  return structuredClone(p);
}

describe('tessera runtime: abstract selections asked per possible type when the planner finds no path', () => {
  const schema = buildSchema(`
    type Query { media: [Media!]! search: [Result!]! book: Book }
    interface Media { id: ID! title: String! related: Media }
    type Book implements Media { id: ID! title: String! related: Media pages: Int! }
    type Movie implements Media { id: ID! title: String! related: Media minutes: Int! }
    type Person { name: String! }
    union Result = Book | Person
  `);
  const explode = (query: string, max = 64 * 1024) => {
    const out = explodeAbstractSelections(schema, query, max);
    return out === null ? null : print(parse(out));
  };

  it('fields on an interface move under one inline fragment per implementation, nested levels too', () => {
    assert.equal(
      explode(
        'query Q($s: Boolean!) { media { __typename title @skip(if: $s) related { id } ... on Book { pages } } }',
      ),
      print(
        parse(`query Q($s: Boolean!) { media {
          __typename
          ... on Book { pages }
          ... on Book { title @skip(if: $s) related { ... on Book { id } ... on Movie { id } } }
          ... on Movie { title @skip(if: $s) related { ... on Book { id } ... on Movie { id } } }
        } }`),
      ),
    );
  });

  it('fragment definitions on an interface are rewritten where they are defined; object-only operations are left alone', () => {
    assert.equal(
      explode('{ book { ...M } } fragment M on Media { title }'),
      print(parse('{ book { ...M } } fragment M on Media { ... on Book { title } ... on Movie { title } }')),
    );
    assert.equal(explode('{ book { title pages } }'), null);
    assert.equal(explode('{ search { __typename ... on Person { name } } }'), null);
  });

  it('gives up (null) when the result would exceed the bound', () => {
    assert.equal(explode('{ media { related { related { related { title } } } } }', 120), null);
    assert.notEqual(explode('{ media { related { related { related { title } } } } }'), null);
  });
});

describe('tessera plan compilation: subgraph operation names', () => {
  const plan = {
    kind: 'QueryPlan',
    node: {
      kind: 'Sequence',
      nodes: [
        productsRoot('{ topProducts { __typename upc } }'),
        flatten(
          ['topProducts', '@'],
          entityFetch(
            'reviews',
            'Product',
            ['upc'],
            'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { reviews { body } } } }',
          ),
        ),
      ],
    },
  } as unknown as QueryPlan;
  const fetches = (name: string | null) => {
    const out: Array<{ name: string | undefined; query: string }> = [];
    const walk = (n: ExecNode | null): void => {
      if (!n) return;
      if (n.kind === 'sequence' || n.kind === 'parallel') n.nodes.forEach(walk);
      else if (n.kind === 'root' || n.kind === 'entities')
        out.push({ name: n.fetch.operationName, query: n.fetch.query });
    };
    walk(compilePlan(plan, info, name).root);
    return out;
  };

  it('each fetch is named <operation>__<subgraph>__<position in the plan>, in the text sent too (still compact)', () => {
    assert.deepEqual(fetches('Top'), [
      { name: 'Top__products__0', query: 'query Top__products__0{ topProducts { __typename upc } }' },
      {
        name: 'Top__reviews__1',
        query:
          'query Top__reviews__1($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { reviews { body } } } }',
      },
    ]);
  });

  it('an anonymous client operation leaves the fetches anonymous, their text as planned', () => {
    assert.deepEqual(
      fetches(null).map((f) => f.name),
      [undefined, undefined],
    );
    assert.equal(fetches(null)[0]!.query, '{ topProducts { __typename upc } }');
  });
});
