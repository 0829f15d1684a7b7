import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const weights: Record<string, number> = { p1: 3, p2: 8 };

export default defineCase({
  id: 'requires-chain',
  title: '@requires chains across three subgraphs',
  spec:
    '`deliveryNote` (delivery) requires `shippingCost` (shipping), which requires `weight` (products): the plan ' +
    'resolves each requirement before the field that needs it, one batched entity fetch per subgraph per hop.',
  subgraphs: {
    products: {
      sdl: `${fed2()}
        type Query { products: [Product!]! }
        type Product @key(fields: "id") { id: ID! weight: Int! }`,
      resolvers: {
        Query: { products: () => Object.keys(weights).map((id) => ({ id })) },
        Product: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
          weight: (p: { id: string }) => weights[p.id],
        },
      },
    },
    shipping: {
      sdl: `${fed2()}
        type Product @key(fields: "id") {
          id: ID!
          weight: Int! @external
          shippingCost: Int! @requires(fields: "weight")
        }`,
      resolvers: { Product: { shippingCost: (p: { weight: number }) => p.weight * 2 } },
    },
    delivery: {
      sdl: `${fed2()}
        type Product @key(fields: "id") {
          id: ID!
          shippingCost: Int! @external
          deliveryNote: String! @requires(fields: "shippingCost")
        }`,
      resolvers: {
        Product: {
          deliveryNote: (p: { shippingCost: number }) =>
            `cost ${p.shippingCost}: ${p.shippingCost > 10 ? 'paid' : 'free'}`,
        },
      },
    },
  },
  checks: [
    {
      name: 'the end of the chain only',
      query: '{ products { id deliveryNote } }',
      expect: {
        data: {
          products: [
            { id: 'p1', deliveryNote: 'cost 6: free' },
            { id: 'p2', deliveryNote: 'cost 16: paid' },
          ],
        },
      },
      fetches: { products: 1, shipping: 1, delivery: 1 },
      representations: { shipping: 2, delivery: 2 },
    },
    {
      name: 'every link of the chain selected',
      query: '{ products { deliveryNote shippingCost weight } }',
      expect: {
        data: {
          products: [
            { deliveryNote: 'cost 6: free', shippingCost: 6, weight: 3 },
            { deliveryNote: 'cost 16: paid', shippingCost: 16, weight: 8 },
          ],
        },
      },
      fetches: { products: 1, shipping: 1, delivery: 1 },
    },
  ],
});
