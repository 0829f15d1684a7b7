import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const prices: Record<string, Record<string, number>> = { USD: { p1: 100 }, EUR: { p1: 90 } };

export default defineCase({
  id: 'requires-two-currencies',
  title: '(b) two fields requiring price(currency: "USD") and price(currency: "EUR")',
  spec:
    'Each @requires field set is resolved with its own arguments: the entity representation sent for `usShipping` ' +
    'carries the USD price, the one sent for `euShipping` the EUR price.',
  subgraphs: {
    products: {
      sdl: `${fed2()}
        type Query { product(id: ID!): Product }
        type Product @key(fields: "id") { id: ID! price(currency: String!): Int! }`,
      resolvers: {
        Query: { product: (_: unknown, { id }: { id: string }) => (id === 'p1' ? { id } : null) },
        Product: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
          price: (p: { id: string }, { currency }: { currency: string }) => prices[currency]![p.id]!,
        },
      },
    },
    shipping: {
      sdl: `${fed2()}
        type Product @key(fields: "id") {
          id: ID!
          price(currency: String!): Int! @external
          usShipping: String! @requires(fields: "price(currency: \\"USD\\")")
          euShipping: String! @requires(fields: "price(currency: \\"EUR\\")")
        }`,
      resolvers: {
        Product: {
          usShipping: (p: { price: number }) => `free over 50 USD; price ${p.price}`,
          euShipping: (p: { price: number }) => `free over 50 EUR; price ${p.price}`,
        },
      },
    },
  },
  checks: [
    {
      name: 'both requiring fields',
      query: '{ product(id: "p1") { usShipping euShipping } }',
      expect: {
        data: { product: { usShipping: 'free over 50 USD; price 100', euShipping: 'free over 50 EUR; price 90' } },
      },
      apolloFails: 'merges price(currency: "USD") and price(currency: "EUR") into one field',
    },
    {
      name: 'both requiring fields and the client selecting price(currency: "USD")',
      query: '{ product(id: "p1") { euShipping price(currency: "USD") usShipping } }',
      expect: {
        data: {
          product: { euShipping: 'free over 50 EUR; price 90', price: 100, usShipping: 'free over 50 USD; price 100' },
        },
      },
      apolloFails: 'merges price(currency: "USD") and price(currency: "EUR") into one field',
    },
    {
      name: 'one requiring field',
      query: '{ product(id: "p1") { euShipping } }',
      expect: { data: { product: { euShipping: 'free over 50 EUR; price 90' } } },
    },
  ],
});
