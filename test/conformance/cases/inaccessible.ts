import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const product = { id: 'p1', name: 'Lamp', internalCode: 'X-42' };

export default defineCase({
  id: 'inaccessible',
  title: '@inaccessible: hidden from clients, usable inside the graph',
  spec:
    'An @inaccessible field, type or enum value is absent from the API schema (validation refuses it, ' +
    'introspection does not show it) yet a @requires or a key may still use it between subgraphs.',
  subgraphs: {
    catalog: {
      sdl: `${fed2()}
        type Query { product: Product! audit: AuditLog @inaccessible }
        type Product @key(fields: "id") { id: ID! name: String! internalCode: String! @inaccessible tier: Tier! }
        type AuditLog @inaccessible { entries: [String!]! }
        enum Tier { GOLD SILVER STAFF @inaccessible }`,
      resolvers: {
        Query: { product: () => product, audit: () => ({ entries: ['secret'] }) },
        Product: { __resolveReference: () => product, tier: () => 'GOLD' },
      },
    },
    labels: {
      sdl: `${fed2()}
        type Product @key(fields: "id") {
          id: ID!
          internalCode: String! @external
          label: String! @requires(fields: "internalCode")
        }`,
      resolvers: { Product: { label: (p: { internalCode: string }) => `label for ${p.internalCode}` } },
    },
  },
  checks: [
    {
      name: 'a field that requires an inaccessible one',
      query: '{ product { name tier label } }',
      expect: { data: { product: { name: 'Lamp', tier: 'GOLD', label: 'label for X-42' } } },
      fetches: { catalog: 1, labels: 1 },
    },
    {
      name: 'the inaccessible field itself is refused',
      query: '{ product { internalCode } }',
      expect: { data: undefined, status: 400, errors: [{ path: null, codes: ['GRAPHQL_VALIDATION_FAILED'] }] },
      fetches: { catalog: 0, labels: 0 },
    },
    {
      name: 'an inaccessible root field is refused',
      query: '{ audit { entries } }',
      expect: { data: undefined, status: 400, errors: [{ path: null, codes: ['GRAPHQL_VALIDATION_FAILED'] }] },
      fetches: { catalog: 0, labels: 0 },
    },
    {
      name: 'introspection shows none of it',
      query: `{
        product: __type(name: "Product") { fields { name } }
        audit: __type(name: "AuditLog") { name }
        tier: __type(name: "Tier") { enumValues { name } }
      }`,
      expect: {
        data: {
          product: { fields: [{ name: 'id' }, { name: 'name' }, { name: 'tier' }, { name: 'label' }] },
          audit: null,
          tier: { enumValues: [{ name: 'GOLD' }, { name: 'SILVER' }] },
        },
      },
      fetches: { catalog: 0, labels: 0 },
    },
  ],
});
