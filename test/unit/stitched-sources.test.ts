import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildSchema, graphql } from 'graphql';
import { pino } from 'pino';
import { parseConfig } from '../../gateway/config/load.ts';
import { resolveSubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { Metrics } from '../../gateway/observability/metrics.ts';
import {
  resolveMerge,
  stitchedSourcesOf,
  supergraphDescriptorLine,
  type MergedTypeSpec,
} from '../../gateway/stitched-sources/descriptor.ts';
import { SubgraphClient } from '../../gateway/subgraph-client/client.ts';
import { subgraphRequest } from '../../gateway/subgraph-client/fetch.ts';
import { StitchedSourceError, stitchedSubgraphSdl } from '../../supergraph/stitched-source.ts';

const serviceSdl = `type Query {
  itemsByIds(ids: [ID!]!, locale: String): [Item]!
  variant(sku: String!, size: Size!): Variant
  owner(id: ID!): Owner
}

enum Size { S M L }

type Item {
  id: ID!
  title: String!
  owner: Owner!
}

type Variant implements Node {
  sku: String!
  size: Size!
  stock: Int!
}

interface Node { sku: String! }

type Owner {
  id: ID!
}
`;

describe('stitchedSubgraphSdl: a plain service as a federation subgraph', () => {
  it('inserts @key and the configured directives in place, appends the @link and the descriptor', () => {
    const merge: Record<string, MergedTypeSpec> = {
      Item: { selectionSet: '{ id }', fieldName: 'itemsByIds', argsFromKeys: 'ids' },
      Variant: { selectionSet: '{ sku size }', fieldName: 'variant', args: { sku: 'sku', size: 'size' } },
      Owner: { selectionSet: '{ id }' },
    };
    const sdl = stitchedSubgraphSdl('items', serviceSdl, {
      merge,
      directives: { 'Item.title': ['@cost(weight: 2)', '@shareable'], 'Query.itemsByIds': ['@inaccessible'] },
    });
    const lines = sdl.split('\n');
    const descriptor = lines.at(-2)!;
    assert.equal(
      lines.slice(0, -2).join('\n'),
      `type Query {
  itemsByIds(ids: [ID!]!, locale: String): [Item]! @inaccessible
  variant(sku: String!, size: Size!): Variant
  owner(id: ID!): Owner
}

enum Size { S M L }

type Item @key(fields: "id") {
  id: ID!
  title: String! @cost(weight: 2) @shareable
  owner: Owner!
}

type Variant implements Node @key(fields: "sku size") {
  sku: String!
  size: Size!
  stock: Int!
}

interface Node { sku: String! }

type Owner @key(fields: "id", resolvable: false) {
  id: ID!
}

extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@shareable", "@inaccessible"])`,
    );
    // The line the supergraph carries decodes to the service's own SDL and the merge config.
    const line = supergraphDescriptorLine('items', `${sdl}`)!;
    assert.equal(line, descriptor.replace('stitched-source v1', 'stitched-source items v1'));
    assert.deepEqual(
      stitchedSourcesOf(`type Query { a: Int }\n\n${line}\n`),
      new Map([['items', { v: 1, sdl: serviceSdl, merge }]]),
    );
  });

  it('every problem of a merge config, each naming its key', () => {
    const cases: Array<[MergedTypeSpec & { type?: string }, string]> = [
      [{ type: 'Size', selectionSet: '{ id }' }, 'merge.Size: the service has no object type "Size"'],
      [{ selectionSet: 'id {', fieldName: 'itemsByIds' }, 'merge.Item.selectionSet: "id {" is not a selection set'],
      [
        { selectionSet: '{ owner { id } }' },
        'merge.Item.selectionSet: "{ owner { id } }" must list fields of Item without aliases, arguments or sub-selections',
      ],
      [{ selectionSet: '{ id }', fieldName: 'owner' }, 'merge.Item.fieldName: Query.owner returns Owner, not Item'],
      [
        { selectionSet: '{ id }', fieldName: 'itemsByIds', argsFromKeys: true },
        'merge.Item.argsFromKeys: Query.itemsByIds has 2 arguments; name the one that takes the keys',
      ],
      [
        { selectionSet: '{ id }', fieldName: 'itemsByIds', argsFromKeys: 'locale' },
        'merge.Item.argsFromKeys: argument "locale" of Query.itemsByIds is String, not a list',
      ],
      [
        { selectionSet: '{ id }', fieldName: 'itemsByIds', argsFromKeys: 'ids', key: 'title' },
        'merge.Item.key: "title" is not one of the key fields (id)',
      ],
      [
        { selectionSet: '{ id }', fieldName: 'itemsByIds' },
        'merge.Item.args: Query.itemsByIds has 2 arguments; say which key field each gets',
      ],
      [{ selectionSet: '{ id }', argsFromKeys: 'ids' }, 'merge.Item: argsFromKeys, args and key need fieldName'],
    ];
    const schema = buildSchema(serviceSdl);
    for (const [{ type, ...spec }, problem] of cases)
      assert.deepEqual(resolveMerge(schema, { [type ?? 'Item']: spec }), { merged: [], problems: [problem] });
    assert.throws(
      () =>
        stitchedSubgraphSdl('items', `${serviceSdl}\nextend type Query { _service: Int }`, {
          merge: {},
          directives: {},
        }),
      (err: unknown) =>
        err instanceof StitchedSourceError &&
        err.source === 'items' &&
        err.message ===
          'subgraph "items" (kind graphql): the service has `_entities`/`_service`: it speaks federation, join it as a federation subgraph',
    );
  });
});

describe('the stitching adapter at the bottom of a subgraph client, against a real service on loopback', () => {
  const received: Array<{ query: string; variables: unknown }> = [];
  const schema = buildSchema(serviceSdl);
  const rootValue = {
    itemsByIds: ({ ids }: { ids: string[] }) => ids.map((id) => (id === 'x' ? null : { id, title: `Item ${id}` })),
    variant: ({ sku, size }: { sku: string; size: string }) => ({ sku, size, stock: sku.length * 10 + size.length }),
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => {
      const { query, variables } = JSON.parse(body) as { query: string; variables: Record<string, unknown> };
      received.push({ query, variables });
      void graphql({ schema, source: query, rootValue, variableValues: variables }).then((r) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(r));
      });
    });
  });
  let client: SubgraphClient;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const settings = resolveSubgraphSettings(parseConfig({ supergraph: { file: 's.graphql' } }), 'items', url);
    const merge: Record<string, MergedTypeSpec> = {
      Item: { selectionSet: '{ id }', fieldName: 'itemsByIds', argsFromKeys: 'ids' },
      Variant: { selectionSet: '{ sku size }', fieldName: 'variant', args: { sku: 'sku', size: 'size' } },
    };
    client = new SubgraphClient(settings, {
      log: pino({ level: 'silent' }),
      metrics: new Metrics(),
      stitched: { v: 1, sdl: serviceSdl, merge },
    });
  });
  after(async () => {
    await client.close();
    server.close();
  });
  const fetch = (query: string, variables?: Record<string, unknown>) =>
    client.fetch(
      subgraphRequest({
        operationType: 'query',
        query,
        operationName: undefined,
        variables,
        document: undefined,
        schema: undefined,
        requestId: 'req-1',
        log: undefined,
        incomingHeaders: undefined,
        context: null,
      }),
    );

  it('_entities of two types: batched keys in one call, compound keys one call each, in one request', async () => {
    received.length = 0;
    const answer = await fetch(
      'query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Item { title } ... on Variant { stock } } }',
      {
        r: [
          { __typename: 'Item', id: '1' },
          { __typename: 'Variant', sku: 'ab', size: 'M' },
          { __typename: 'Item', id: 'x' },
          { __typename: 'Item', id: '2' },
          { __typename: 'Variant', sku: 'abc', size: 'L' },
        ],
      },
    );
    assert.ok(answer.ok);
    assert.deepEqual(JSON.parse(answer.text), {
      data: {
        _entities: [
          { __typename: 'Item', title: 'Item 1' },
          { __typename: 'Variant', stock: 21 },
          null,
          { __typename: 'Item', title: 'Item 2' },
          { __typename: 'Variant', stock: 31 },
        ],
      },
      // The service has no item "x": stitch resolves its fields to null, and the non-null title nulls the entity.
      errors: [
        {
          message: 'Cannot return null for non-nullable field Item.title.',
          locations: [{ line: 1, column: 81 }],
          path: ['_entities', 2, 'title'],
        },
      ],
    });
    assert.equal(received.length, 1, 'stitch batches the three calls into one request');
    assert.match(received[0]!.query, /itemsByIds\(ids: \$\w+\)/);
    assert.equal(received[0]!.query.match(/variant\(/g)?.length, 2);
    assert.deepEqual(
      Object.values(received[0]!.variables as Record<string, unknown>).filter((v) => Array.isArray(v)),
      [['1', 'x', '2']],
    );
  });

  it('root fields are delegated as they are', async () => {
    received.length = 0;
    const root = await fetch('{ variant(sku: "s", size: S) { stock } }');
    assert.ok(root.ok);
    assert.deepEqual(JSON.parse(root.text), { data: { variant: { stock: 11 } } });
    assert.equal(received.length, 1);
  });
});
