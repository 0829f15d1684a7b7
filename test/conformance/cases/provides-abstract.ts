import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const items = [
  { __typename: 'Book', id: 'b1', title: 'Dune', year: 1965 },
  { __typename: 'Movie', id: 'm1', title: 'Alien', year: 1979 },
];
const find = (ref: { id: string }) => items.find((i) => i.id === ref.id) ?? null;
const provided = () => items.map(({ __typename, id, title }) => ({ __typename, id, title }));

export default defineCase({
  id: 'provides-abstract',
  title: '@provides on a union and on an interface',
  spec:
    '`feed: [FeedItem] @provides(fields: "... on Book { title } ... on Movie { title }")` and `picks: [Titled] ' +
    '@provides(fields: "... on Book { title } ... on Movie { title }")`: the provided titles come from `feed`, no fetch to `catalog`; other fields are ' +
    'fetched from `catalog` per concrete type.',
  subgraphs: {
    catalog: {
      sdl: `${fed2()}
        interface Titled { title: String! }
        type Book implements Titled @key(fields: "id") { id: ID! title: String! @shareable year: Int! }
        type Movie implements Titled @key(fields: "id") { id: ID! title: String! @shareable year: Int! }`,
      resolvers: { Book: { __resolveReference: find }, Movie: { __resolveReference: find } },
    },
    feed: {
      sdl: `${fed2()}
        type Query {
          feed: [FeedItem!]! @provides(fields: "... on Book { title } ... on Movie { title }")
          picks: [Titled!]! @provides(fields: "... on Book { title } ... on Movie { title }")
        }
        union FeedItem = Book | Movie
        interface Titled { title: String! }
        type Book implements Titled @key(fields: "id") { id: ID! title: String! @external }
        type Movie implements Titled @key(fields: "id") { id: ID! title: String! @external }`,
      resolvers: { Query: { feed: provided, picks: provided } },
    },
  },
  checks: [
    {
      name: 'union: provided titles only',
      query: '{ feed { __typename ... on Book { title } ... on Movie { title } } }',
      expect: {
        data: {
          feed: [
            { __typename: 'Book', title: 'Dune' },
            { __typename: 'Movie', title: 'Alien' },
          ],
        },
      },
      fetches: { feed: 1, catalog: 0 },
    },
    {
      name: 'interface: provided titles only',
      query: '{ picks { title } }',
      expect: { data: { picks: [{ title: 'Dune' }, { title: 'Alien' }] } },
      fetches: { feed: 1, catalog: 0 },
    },
    {
      name: 'union: a field that is not provided',
      query: '{ feed { ... on Book { title year } ... on Movie { title } } }',
      expect: { data: { feed: [{ title: 'Dune', year: 1965 }, { title: 'Alien' }] } },
      fetches: { feed: 1, catalog: 1 },
      representations: { catalog: 1 },
    },
    {
      name: 'interface: a field that is not provided',
      query: '{ picks { title ... on Movie { year } } }',
      expect: { data: { picks: [{ title: 'Dune' }, { title: 'Alien', year: 1979 }] } },
      fetches: { feed: 1, catalog: 1 },
      representations: { catalog: 1 },
    },
  ],
});
