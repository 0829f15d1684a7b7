import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const products = [
  { upc: 'u1', name: 'Table', weight: 10 },
  { upc: 'u2', name: 'Chair', weight: 4 },
];
const byUpc = (ref: { upc: string }) => products.find((p) => p.upc === ref.upc) ?? null;

export default defineCase({
  id: 'federation-1',
  title: 'Federation 1 SDL subgraphs beside a Federation 2 one',
  spec:
    'Federation 1 subgraphs (`extend type … @key`, `@external` key fields, `@requires`) compose with Federation 2 ' +
    'ones and are queried the same way.',
  subgraphs: {
    products: {
      sdl: `
        type Query { topProducts: [Product] }
        type Product @key(fields: "upc") { upc: String! name: String weight: Int }`,
      resolvers: { Query: { topProducts: () => products }, Product: { __resolveReference: byUpc } },
    },
    reviews: {
      sdl: `
        extend type Product @key(fields: "upc") {
          upc: String! @external
          weight: Int @external
          reviews: [Review]
          shippingEstimate: Int @requires(fields: "weight")
        }
        type Review { body: String! }`,
      resolvers: {
        Product: {
          reviews: (p: { upc: string }) => (p.upc === 'u1' ? [{ body: 'Sturdy' }] : []),
          shippingEstimate: (p: { weight: number }) => p.weight / 2,
        },
      },
    },
    stock: {
      sdl: `${fed2()}
        type Product @key(fields: "upc") { upc: String! inStock: Boolean! }`,
      resolvers: {
        Product: { __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc, inStock: ref.upc === 'u1' }) },
      },
    },
  },
  checks: [
    {
      name: 'fields of every subgraph, a Federation 1 @requires among them',
      query: '{ topProducts { upc name reviews { body } shippingEstimate inStock } }',
      expect: {
        data: {
          topProducts: [
            { upc: 'u1', name: 'Table', reviews: [{ body: 'Sturdy' }], shippingEstimate: 5, inStock: true },
            { upc: 'u2', name: 'Chair', reviews: [], shippingEstimate: 2, inStock: false },
          ],
        },
      },
      fetches: { products: 1, reviews: 1, stock: 1 },
    },
  ],
});
