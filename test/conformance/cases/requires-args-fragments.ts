import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const listings = [
  { id: 'l1', item: { __typename: 'Book', isbn: '978-0', pages: 412 }, prices: { EUR: 20, USD: 22 } },
  { id: 'l2', item: { __typename: 'Film', minutes: 117 }, prices: { EUR: 15, USD: 16 } },
];
type Listing = (typeof listings)[number];
const byId = (ref: { id: string }) => listings.find((l) => l.id === ref.id) ?? null;

export default defineCase({
  id: 'requires-args-fragments',
  title: '@requires with arguments and with inline fragments on a union',
  spec:
    'A @requires field set may select a field with arguments and fragments on an abstract type; the representation ' +
    'carries exactly those values (the EUR price, `pages` for a Book, `minutes` for a Film).',
  subgraphs: {
    catalog: {
      sdl: `${fed2()}
        type Query { listings: [Listing!]! }
        type Listing @key(fields: "id") { id: ID! item: Item! price(currency: String!): Int! }
        union Item = Book | Film
        type Book @shareable { isbn: String! pages: Int! }
        type Film @shareable { minutes: Int! }`,
      resolvers: {
        Query: { listings: () => listings },
        Listing: {
          __resolveReference: byId,
          price: (l: Listing, { currency }: { currency: 'EUR' | 'USD' }) => l.prices[currency],
        },
      },
    },
    summary: {
      sdl: `${fed2()}
        type Listing @key(fields: "id") {
          id: ID!
          item: Item! @external
          price(currency: String!): Int! @external
          blurb: String! @requires(fields: "item { ... on Book { pages } ... on Film { minutes } } price(currency: \\"EUR\\")")
        }
        union Item = Book | Film
        type Book @shareable { pages: Int! }
        type Film @shareable { minutes: Int! }`,
      resolvers: {
        Listing: {
          blurb: (l: { item: { pages?: number; minutes?: number }; price: number }) =>
            l.item.pages !== undefined
              ? `${l.item.pages} pages, ${l.price} EUR`
              : `${l.item.minutes} minutes, ${l.price} EUR`,
        },
      },
    },
  },
  checks: [
    {
      name: 'blurb from the required union fragments and the EUR price',
      query: '{ listings { id blurb } }',
      expect: {
        data: {
          listings: [
            { id: 'l1', blurb: '412 pages, 20 EUR' },
            { id: 'l2', blurb: '117 minutes, 15 EUR' },
          ],
        },
      },
      fetches: { catalog: 1, summary: 1 },
    },
    {
      name: 'blurb beside the client’s own USD price and item fields',
      query: '{ listings { price(currency: "USD") item { ... on Book { isbn } } blurb } }',
      expect: {
        data: {
          listings: [
            { price: 22, item: { isbn: '978-0' }, blurb: '412 pages, 20 EUR' },
            { price: 16, item: {}, blurb: '117 minutes, 15 EUR' },
          ],
        },
      },
      apolloFails: 'merges price(currency: "USD") and the required price(currency: "EUR") into one field',
    },
  ],
});
