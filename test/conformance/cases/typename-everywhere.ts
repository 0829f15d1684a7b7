import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const product = { __typename: 'Product', id: 'p1', name: 'Lamp' };
const categories = [{ id: 'c1', name: 'Lighting' }];

export default defineCase({
  id: 'typename-everywhere',
  title: '__typename on every kind of type',
  spec:
    '`__typename` answers the concrete type name: on the root types (without any subgraph request when nothing ' +
    'else is selected), aliased, on interfaces and unions, and on entities resolved by another subgraph.',
  subgraphs: {
    shop: {
      sdl: `${fed2()}
        type Query { node(id: ID!): Node search: [Result!]! }
        type Mutation { touch: Product! }
        interface Node { id: ID! }
        type Product implements Node @key(fields: "id") { id: ID! name: String! }
        union Result = Product | Category
        type Category @key(fields: "id") { id: ID! }`,
      resolvers: {
        Query: {
          node: (_: unknown, a: { id: string }) => (a.id === 'p1' ? product : null),
          search: () => [product, { __typename: 'Category', id: 'c1' }],
        },
        Mutation: { touch: () => product },
        Product: { __resolveReference: () => product },
      },
    },
    taxonomy: {
      sdl: `${fed2()}
        type Product @key(fields: "id") { id: ID! category: Category! }
        type Category @key(fields: "id") { id: ID! name: String! }`,
      resolvers: {
        Product: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, category: categories[0] }) },
        Category: { __resolveReference: (ref: { id: string }) => categories.find((c) => c.id === ref.id) ?? null },
      },
    },
  },
  checks: [
    {
      name: 'root __typename alone, aliased too: no subgraph request',
      query: '{ __typename t: __typename }',
      expect: { data: { __typename: 'Query', t: 'Query' } },
      fetches: { shop: 0, taxonomy: 0 },
    },
    {
      name: 'interfaces, unions and entities of another subgraph',
      query: `{
        __typename
        node(id: "p1") { __typename ... on Product { kind: __typename category { __typename name } } }
        search { __typename ... on Category { __typename name } }
      }`,
      expect: {
        data: {
          __typename: 'Query',
          node: { __typename: 'Product', kind: 'Product', category: { __typename: 'Category', name: 'Lighting' } },
          search: [{ __typename: 'Product' }, { __typename: 'Category', name: 'Lighting' }],
        },
      },
    },
    {
      name: 'mutation root',
      query: 'mutation { __typename touch { __typename id } }',
      expect: { data: { __typename: 'Mutation', touch: { __typename: 'Product', id: 'p1' } } },
      fetches: { shop: 1, taxonomy: 0 },
    },
  ],
});
