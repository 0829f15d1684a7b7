import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const orders = [
  { id: 'o1', customer: { id: 'u1' } },
  { id: 'o2', customer: null },
  { id: 'o3', customer: { id: 'u2' } },
];
const users = [
  { id: 'u1', name: 'Ada', address: { id: 'a1' } },
  { id: 'u2', name: 'Bob', address: null },
];
const addresses = [{ id: 'a1', city: 'London' }];

export default defineCase({
  id: 'null-keys-chain',
  title: 'Null entities in a multi-hop chain',
  spec:
    'A null entity is not fetched: no representation is sent for it, a hop with no representation left sends no ' +
    'request, and the null stays null in the answer (no error: the fields are nullable).',
  subgraphs: {
    orders: {
      sdl: `${fed2()}
        type Query { orders: [Order!]! order(id: ID!): Order }
        type Order @key(fields: "id") { id: ID! customer: User }
        type User @key(fields: "id", resolvable: false) { id: ID! }`,
      resolvers: {
        Query: { orders: () => orders, order: (_: unknown, a: { id: string }) => orders.find((o) => o.id === a.id) },
      },
    },
    users: {
      sdl: `${fed2()}
        type User @key(fields: "id") { id: ID! name: String! address: Address }
        type Address @key(fields: "id", resolvable: false) { id: ID! }`,
      resolvers: { User: { __resolveReference: (ref: { id: string }) => users.find((u) => u.id === ref.id) ?? null } },
    },
    geo: {
      sdl: `${fed2()}
        type Address @key(fields: "id") { id: ID! city: String! }`,
      resolvers: {
        Address: { __resolveReference: (ref: { id: string }) => addresses.find((a) => a.id === ref.id) ?? null },
      },
    },
  },
  checks: [
    {
      name: 'nulls at each hop',
      query: '{ orders { id customer { name address { city } } } }',
      expect: {
        data: {
          orders: [
            { id: 'o1', customer: { name: 'Ada', address: { city: 'London' } } },
            { id: 'o2', customer: null },
            { id: 'o3', customer: { name: 'Bob', address: null } },
          ],
        },
      },
      fetches: { orders: 1, users: 1, geo: 1 },
      representations: { users: 2, geo: 1 },
    },
    {
      name: 'a null at the first hop: no further request',
      query: '{ order(id: "o2") { id customer { name address { city } } } }',
      expect: { data: { order: { id: 'o2', customer: null } } },
      fetches: { orders: 1, users: 0, geo: 0 },
    },
    {
      name: 'a null at the second hop: no request to the third subgraph',
      query: '{ order(id: "o3") { customer { name address { city } } } }',
      expect: { data: { order: { customer: { name: 'Bob', address: null } } } },
      fetches: { orders: 1, users: 1, geo: 0 },
    },
    {
      name: 'a null root entity',
      query: '{ order(id: "nope") { customer { name } } }',
      expect: { data: { order: null } },
      fetches: { orders: 1, users: 0, geo: 0 },
    },
  ],
});
