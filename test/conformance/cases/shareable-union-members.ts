import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const book = { __typename: 'Book', id: 'b1', title: 'Dune' };

export default defineCase({
  id: 'shareable-union-members',
  title: 'A union whose members differ per subgraph, behind @shareable fields',
  spec:
    'The supergraph union has every member of every subgraph (Book | Movie | Song); a subgraph is only ever sent ' +
    'fragments on the members it defines, and the answer keeps the client’s fragments for the other members.',
  subgraphs: {
    video: {
      sdl: `${fed2()}
        type Query { items: [Item!]! @shareable videoItems: [Item!]! }
        union Item = Book | Movie
        type Book @key(fields: "id") { id: ID! title: String! @shareable }
        type Movie { title: String! }`,
      resolvers: {
        Query: { items: () => [book], videoItems: () => [book, { __typename: 'Movie', title: 'Alien' }] },
      },
    },
    audio: {
      sdl: `${fed2()}
        type Query { items: [Item!]! @shareable audioItems: [Item!]! }
        union Item = Book | Song
        type Book @key(fields: "id") { id: ID! title: String! @shareable }
        type Song { title: String! }`,
      resolvers: {
        Query: { items: () => [book], audioItems: () => [{ __typename: 'Song', title: 'Blue' }, book] },
      },
    },
  },
  checks: [
    {
      name: 'each subgraph’s own field with fragments on every member',
      query: `{
        videoItems { __typename ... on Book { title } ... on Movie { title } ... on Song { title } }
        audioItems { __typename ... on Book { id } ... on Movie { title } ... on Song { title } }
      }`,
      expect: {
        data: {
          videoItems: [
            { __typename: 'Book', title: 'Dune' },
            { __typename: 'Movie', title: 'Alien' },
          ],
          audioItems: [
            { __typename: 'Song', title: 'Blue' },
            { __typename: 'Book', id: 'b1' },
          ],
        },
      },
      fetches: { video: 1, audio: 1 },
    },
    {
      name: 'the shared field with fragments on every member',
      query: '{ items { __typename ... on Movie { title } ... on Song { title } ... on Book { id title } } }',
      expect: { data: { items: [{ __typename: 'Book', id: 'b1', title: 'Dune' }] } },
    },
  ],
});
