import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const users = [{ id: 'u1', name: 'Ada', profile: { city: 'London', bio: 'Analyst' } }];
const reviews = [
  { id: 'r1', body: 'Great', author: users[0] },
  { id: 'r2', body: 'Fine', author: users[0] },
];

export default defineCase({
  id: 'provides-nested',
  title: '@provides with a nested selection',
  spec:
    '`Review.author @provides(fields: "name profile { city }")`: those fields come with the review, no fetch to ' +
    '`accounts`; a field outside the provided set (`profile { bio }`) is fetched from `accounts`.',
  subgraphs: {
    accounts: {
      sdl: `${fed2()}
        type User @key(fields: "id") { id: ID! name: String! @shareable profile: Profile! @shareable }
        type Profile @shareable { city: String! bio: String! }`,
      resolvers: { User: { __resolveReference: (ref: { id: string }) => users.find((u) => u.id === ref.id) ?? null } },
    },
    reviews: {
      sdl: `${fed2()}
        type Query { reviews: [Review!]! }
        type Review { id: ID! body: String! author: User! @provides(fields: "name profile { city }") }
        type User @key(fields: "id") { id: ID! name: String! @external profile: Profile! @external }
        type Profile @shareable { city: String! }`,
      resolvers: {
        // Provided values are the owner's values (the @provides contract): only `city` is known here.
        Query: {
          reviews: () =>
            reviews.map((r) => ({
              ...r,
              author: { id: r.author!.id, name: r.author!.name, profile: { city: r.author!.profile.city } },
            })),
        },
      },
    },
  },
  checks: [
    {
      name: 'only provided fields: no fetch to accounts',
      query: '{ reviews { body author { name profile { city } } } }',
      expect: {
        data: {
          reviews: [
            { body: 'Great', author: { name: 'Ada', profile: { city: 'London' } } },
            { body: 'Fine', author: { name: 'Ada', profile: { city: 'London' } } },
          ],
        },
      },
      fetches: { reviews: 1, accounts: 0 },
    },
    {
      name: 'a field outside the provided set',
      query: '{ reviews { id author { id profile { city bio } } } }',
      expect: {
        data: {
          reviews: [
            { id: 'r1', author: { id: 'u1', profile: { city: 'London', bio: 'Analyst' } } },
            { id: 'r2', author: { id: 'u1', profile: { city: 'London', bio: 'Analyst' } } },
          ],
        },
      },
      fetches: { reviews: 1, accounts: 1 },
    },
  ],
});
