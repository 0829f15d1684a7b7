import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

// The two subgraphs disagree on purpose, so the answer tells which one resolved each field.
const ids = ['p1', 'p2'];

export default defineCase({
  id: 'override',
  title: '@override, and progressive @override with its label inactive',
  spec:
    '`price @override(from: "old")` is resolved by `new` only; `stock @override(from: "old", label: "percent(0)")` ' +
    'and `sold @override(from: "old", label: "canary")` stay with `old` while their label is inactive (0 %, and a ' +
    'label nobody turned on).',
  subgraphs: {
    old: {
      sdl: `${fed2()}
        type Query { products: [Product!]! }
        type Product @key(fields: "id") { id: ID! price: Int! stock: Int! sold: Int! }`,
      resolvers: {
        Query: { products: () => ids.map((id) => ({ id })) },
        Product: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
          price: () => -1,
          stock: (p: { id: string }) => (p.id === 'p1' ? 7 : 9),
          sold: () => 3,
        },
      },
    },
    new: {
      sdl: `${fed2()}
        type Product @key(fields: "id") {
          id: ID!
          price: Int! @override(from: "old")
          stock: Int! @override(from: "old", label: "percent(0)")
          sold: Int! @override(from: "old", label: "canary")
        }`,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
          price: (p: { id: string }) => (p.id === 'p1' ? 100 : 200),
          stock: () => -1,
          sold: () => -1,
        },
      },
    },
  },
  checks: [
    {
      name: 'the overridden field comes from the new subgraph',
      query: '{ products { id price } }',
      expect: {
        data: {
          products: [
            { id: 'p1', price: 100 },
            { id: 'p2', price: 200 },
          ],
        },
      },
      fetches: { old: 1, new: 1 },
    },
    {
      name: 'inactive progressive overrides stay with the old subgraph',
      query: '{ products { stock sold } }',
      expect: {
        data: {
          products: [
            { stock: 7, sold: 3 },
            { stock: 9, sold: 3 },
          ],
        },
      },
      fetches: { old: 1, new: 0 },
    },
  ],
});
