import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const media = [
  { __typename: 'Book', id: 'm1', title: 'Dune', pages: 412 },
  { __typename: 'Movie', id: 'm2', title: 'Alien', minutes: 117 },
];
const find = (ref: { id: string }) => media.find((m) => m.id === ref.id) ?? null;
const ratings: Record<string, number> = { m1: 5, m2: 4 };

export default defineCase({
  id: 'interface-object',
  title: '@interfaceObject: fields for every implementation, with @requires, reached indirectly',
  spec:
    '`ratings` sees `Media` as one object type (@interfaceObject) and adds `rating` and `shout` (which @requires ' +
    '`title`) to every implementation; from its own root field, the real `__typename` and the implementations’ ' +
    'fields come from `catalog`, and a field a third subgraph adds to `Book` is reached through both.',
  subgraphs: {
    catalog: {
      sdl: `${fed2()}
        type Query { media: [Media!]! }
        interface Media @key(fields: "id") { id: ID! title: String! }
        type Book implements Media @key(fields: "id") { id: ID! title: String! pages: Int! }
        type Movie implements Media @key(fields: "id") { id: ID! title: String! minutes: Int! }`,
      resolvers: {
        Query: { media: () => media },
        Media: { __resolveReference: find },
        Book: { __resolveReference: find },
        Movie: { __resolveReference: find },
      },
    },
    ratings: {
      sdl: `${fed2('@interfaceObject')}
        type Query { topRated: [Media!]! }
        type Media @interfaceObject @key(fields: "id") {
          id: ID!
          rating: Int!
          title: String! @external
          shout: String! @requires(fields: "title")
        }`,
      resolvers: {
        Query: { topRated: () => [{ id: 'm1' }] },
        Media: {
          __resolveReference: (ref: { id: string; title?: string }) => ref,
          rating: (m: { id: string }) => ratings[m.id],
          shout: (m: { title: string }) => `${m.title.toUpperCase()}!`,
        },
      },
    },
    isbn: {
      sdl: `${fed2()}
        type Book @key(fields: "id") { id: ID! isbn: String! }`,
      resolvers: { Book: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, isbn: `isbn-${ref.id}` }) } },
    },
  },
  checks: [
    {
      name: 'fields added by the @interfaceObject, on the interface owner’s list',
      query: '{ media { __typename title rating ... on Book { pages } ... on Movie { minutes } } }',
      expect: {
        data: {
          media: [
            { __typename: 'Book', title: 'Dune', rating: 5, pages: 412 },
            { __typename: 'Movie', title: 'Alien', rating: 4, minutes: 117 },
          ],
        },
      },
      fetches: { catalog: 1, ratings: 1, isbn: 0 },
    },
    {
      name: '@requires on the @interfaceObject',
      query: '{ media { id shout } }',
      expect: {
        data: {
          media: [
            { id: 'm1', shout: 'DUNE!' },
            { id: 'm2', shout: 'ALIEN!' },
          ],
        },
      },
    },
    {
      name: 'from the @interfaceObject’s root: the real type and its fields from the owner',
      query: '{ topRated { __typename id rating ... on Book { title pages } } }',
      expect: { data: { topRated: [{ __typename: 'Book', id: 'm1', rating: 5, title: 'Dune', pages: 412 }] } },
    },
    {
      name: 'indirectly: from the @interfaceObject through the owner to a third subgraph',
      query: '{ topRated { rating ... on Book { isbn } } }',
      expect: { data: { topRated: [{ rating: 5, isbn: 'isbn-m1' }] } },
      fetches: { isbn: 1 },
    },
  ],
});
