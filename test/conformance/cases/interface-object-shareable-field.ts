import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const media = [
  { __typename: 'Book', id: 'm1', title: 'Dune', pages: 412, rating: 5 },
  { __typename: 'Movie', id: 'm2', title: 'Alien', minutes: 117, rating: 4 },
];
const find = (ref: { id: string }) => media.find((m) => m.id === ref.id) ?? null;

export default defineCase({
  id: 'interface-object-shareable-field',
  title: 'A field on a non-resolvable @interfaceObject and on the concrete types of another subgraph',
  spec:
    'An @interfaceObject whose key is `resolvable: false` is no way into its subgraph: `Media.rating` must be ' +
    'resolved through the concrete types in `reviews`; the @interfaceObject subgraph answers only from its own root ' +
    'field, and reaches the interface owner for the real `__typename` and its fields.',
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
    reviews: {
      sdl: `${fed2()}
        type Book @key(fields: "id") { id: ID! rating: Int @shareable }
        type Movie @key(fields: "id") { id: ID! rating: Int @shareable }`,
      resolvers: { Book: { __resolveReference: find }, Movie: { __resolveReference: find } },
    },
    ratings: {
      sdl: `${fed2('@interfaceObject')}
        type Query { topRated: [Media!]! }
        type Media @interfaceObject @key(fields: "id", resolvable: false) { id: ID! rating: Int @shareable }`,
      resolvers: {
        // Its own copy of the ratings; never asked through `_entities` (the key is not resolvable).
        Query: { topRated: () => [{ id: 'm2', rating: 4 }] },
        Media: { __resolveReference: () => null },
      },
    },
  },
  checks: [
    {
      name: 'rating on the interface, from the interface owner’s list',
      query: '{ media { title rating } }',
      expect: {
        data: {
          media: [
            { title: 'Dune', rating: 5 },
            { title: 'Alien', rating: 4 },
          ],
        },
      },
      fetches: { catalog: 1, reviews: 1, ratings: 0 },
    },
    {
      name: 'from the @interfaceObject subgraph’s root to the owner',
      query: '{ topRated { __typename id rating title ... on Movie { minutes } } }',
      expect: { data: { topRated: [{ __typename: 'Movie', id: 'm2', rating: 4, title: 'Alien', minutes: 117 }] } },
    },
  ],
});
