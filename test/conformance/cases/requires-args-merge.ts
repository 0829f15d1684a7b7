import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

// Post p1 has five comments; `summary` (analytics) is computed from the comments it is given.
const comments = ['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => ({ id, body: `body of ${id}` }));

export default defineCase({
  id: 'requires-args-merge',
  title: '(a) @requires comments(limit: 3) while the client selects comments(limit: 1)',
  spec:
    'A @requires field set is resolved with its own arguments; a client selection of the same field with other ' +
    'arguments is a different field and keeps its own arguments (the two are aliased, never merged).',
  subgraphs: {
    posts: {
      sdl: `${fed2()}
        type Query { post(id: ID!): Post }
        type Post @key(fields: "id") { id: ID! comments(limit: Int!): [Comment!]! }
        type Comment @key(fields: "id") { id: ID! body: String! }`,
      resolvers: {
        Query: { post: (_: unknown, { id }: { id: string }) => (id === 'p1' ? { id } : null) },
        Post: {
          __resolveReference: (ref: { id: string }) => (ref.id === 'p1' ? { id: ref.id } : null),
          comments: (_: unknown, { limit }: { limit: number }) => comments.slice(0, limit),
        },
        Comment: { __resolveReference: (ref: { id: string }) => comments.find((c) => c.id === ref.id) ?? null },
      },
    },
    analytics: {
      sdl: `${fed2()}
        type Post @key(fields: "id") {
          id: ID!
          comments(limit: Int!): [Comment!]! @external
          summary: String! @requires(fields: "comments(limit: 3) { id }")
        }
        type Comment @key(fields: "id", resolvable: false) { id: ID! }`,
      resolvers: {
        Post: {
          summary: (post: { comments?: Array<{ id: string }> }) =>
            `${post.comments?.length ?? 0} comments: ${(post.comments ?? []).map((c) => c.id).join(',')}`,
        },
      },
    },
  },
  checks: [
    {
      name: 'client limit 1, requires limit 3',
      query: '{ post(id: "p1") { id comments(limit: 1) { id body } summary } }',
      expect: {
        data: { post: { id: 'p1', comments: [{ id: 'c1', body: 'body of c1' }], summary: '3 comments: c1,c2,c3' } },
      },
      apolloFails: 'merges comments(limit: 1) and comments(limit: 3) into one field',
    },
    {
      name: 'client limit 5 after the requiring field',
      query: '{ post(id: "p1") { summary comments(limit: 5) { id } } }',
      expect: {
        data: {
          post: {
            summary: '3 comments: c1,c2,c3',
            comments: [{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }, { id: 'c4' }, { id: 'c5' }],
          },
        },
      },
      apolloFails: 'merges comments(limit: 5) and comments(limit: 3) into one field',
    },
    {
      name: 'requires alone',
      query: '{ post(id: "p1") { summary } }',
      expect: { data: { post: { summary: '3 comments: c1,c2,c3' } } },
      fetches: { posts: 1, analytics: 1 },
    },
  ],
});
