import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const products = [
  { upc: 'u1', id: 'p1', name: 'Table', price: 300 },
  { upc: 'u2', id: 'p2', name: 'Chair', price: 80 },
];
const byUpc = (ref: { upc?: string }) => products.find((p) => p.upc === ref.upc) ?? null;

export default defineCase({
  id: 'non-resolvable-key-routes',
  title: 'A resolvable: false key beside a resolvable one, reached through a third subgraph',
  spec:
    'A key declared `resolvable: false` is no way into that subgraph: the plan must enter `pricing` through its ' +
    'resolvable `id` key (fetching `id` from `ids` first when the client path only has `upc`), never send it a ' +
    '`upc` representation (which `pricing` does not resolve: a silent null).',
  subgraphs: {
    catalog: {
      sdl: `${fed2()}
        type Query { products: [Product!]! }
        type Product @key(fields: "upc") { upc: String! name: String! }`,
      resolvers: {
        Query: { products: () => products.map((p) => ({ upc: p.upc, name: p.name })) },
        Product: { __resolveReference: byUpc },
      },
    },
    ids: {
      sdl: `${fed2()}
        type Product @key(fields: "upc") { upc: String! id: ID! @shareable }`,
      resolvers: { Product: { __resolveReference: byUpc } },
    },
    pricing: {
      sdl: `${fed2()}
        type Product @key(fields: "upc", resolvable: false) @key(fields: "id") {
          id: ID! @shareable
          upc: String! @shareable
          price: Int!
        }`,
      resolvers: {
        // Only the `id` key resolves here: a `upc` representation gets null, as a real subgraph would answer.
        Product: { __resolveReference: (ref: { id?: string }) => products.find((p) => p.id === ref.id) ?? null },
      },
    },
  },
  checks: [
    {
      name: 'price needs the id key, found through another subgraph',
      query: '{ products { name price } }',
      expect: {
        data: {
          products: [
            { name: 'Table', price: 300 },
            { name: 'Chair', price: 80 },
          ],
        },
      },
      fetches: { catalog: 1, ids: 1, pricing: 1 },
    },
    {
      name: 'key fields and price together',
      query: '{ products { upc id price } }',
      expect: {
        data: {
          products: [
            { upc: 'u1', id: 'p1', price: 300 },
            { upc: 'u2', id: 'p2', price: 80 },
          ],
        },
      },
      fetches: { catalog: 1, pricing: 1 },
    },
  ],
});
