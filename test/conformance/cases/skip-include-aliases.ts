import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const prices: Record<string, Record<string, number>> = { p1: { EUR: 9, USD: 10 }, p2: { EUR: 18, USD: 20 } };

export default defineCase({
  id: 'skip-include-aliases',
  title: '@skip / @include and aliases across subgraphs',
  spec:
    'A field excluded by @skip/@include is neither fetched nor answered (a subgraph with nothing left to answer is ' +
    'not asked); aliases of one field with different arguments are separate answers, also when another subgraph ' +
    'resolves them.',
  subgraphs: {
    catalog: {
      sdl: `${fed2()}
        type Query { products: [Product!]! }
        type Product @key(fields: "id") { id: ID! name: String! }`,
      resolvers: {
        Query: { products: () => Object.keys(prices).map((id) => ({ id })) },
        Product: { __resolveReference: (ref: { id: string }) => ref, name: (p: { id: string }) => `name ${p.id}` },
      },
    },
    pricing: {
      sdl: `${fed2()}
        type Product @key(fields: "id") { id: ID! price(currency: String!): Int! }`,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }) => ref,
          price: (p: { id: string }, { currency }: { currency: string }) => prices[p.id]![currency],
        },
      },
    },
  },
  checks: [
    {
      name: 'prices excluded: no request to pricing',
      query: `query ($prices: Boolean!) {
        products { id label: name price(currency: "EUR") @include(if: $prices) ... @skip(if: true) { name } }
      }`,
      variables: { prices: false },
      expect: {
        data: {
          products: [
            { id: 'p1', label: 'name p1' },
            { id: 'p2', label: 'name p2' },
          ],
        },
      },
      fetches: { catalog: 1, pricing: 0 },
    },
    {
      name: 'prices included, aliased per currency',
      query: `query ($prices: Boolean!) {
        products { eur: price(currency: "EUR") @include(if: $prices) usd: price(currency: "USD") name @skip(if: $prices) }
      }`,
      variables: { prices: true },
      expect: {
        data: {
          products: [
            { eur: 9, usd: 10 },
            { eur: 18, usd: 20 },
          ],
        },
      },
      fetches: { catalog: 1, pricing: 1 },
    },
  ],
});
