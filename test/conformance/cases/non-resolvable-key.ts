import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const items = [
  { id: 'i1', sku: 'S-1', name: 'Hammer', location: { aisle: 3, bin: 7 } },
  { id: 'i2', sku: 'S-2', name: 'Wrench', location: { aisle: 4, bin: 1 } },
];

export default defineCase({
  id: 'non-resolvable-key',
  title: '(c) entity fetch through a key the target declares resolvable: false',
  spec:
    '`shelves` resolves `Item` only by its compound key `id location { aisle bin }`; its `id` key is ' +
    '`resolvable: false`. To come back to `shelves` for `label` (which @requires `name` from `stores`), the plan ' +
    'must send the compound key, never an `id`-only representation (which `shelves` cannot resolve: a silent null).',
  subgraphs: {
    stores: {
      sdl: `${fed2()}
        type Item @key(fields: "id") { id: ID! name: String! }`,
      resolvers: { Item: { __resolveReference: (ref: { id: string }) => items.find((i) => i.id === ref.id) ?? null } },
    },
    shelves: {
      sdl: `${fed2()}
        type Query { shelf: Shelf! }
        type Shelf { items: [Item!]! }
        type Item @key(fields: "id", resolvable: false) @key(fields: "id location { aisle bin }") {
          id: ID!
          location: Location!
          name: String! @external
          label: String! @requires(fields: "name")
        }
        type Location { aisle: Int! bin: Int! }`,
      resolvers: {
        Query: { shelf: () => ({ items: items.map(({ id, location }) => ({ id, location })) }) },
        Item: {
          // Found by the whole compound key only: an `id` alone names no shelf position here.
          __resolveReference: (ref: { id: string; location?: { aisle: number; bin: number }; name: string }) => {
            const item = items.find((i) => i.id === ref.id);
            if (!item || ref.location?.aisle !== item.location.aisle || ref.location.bin !== item.location.bin)
              return null;
            return { ...ref, location: item.location };
          },
          label: (i: { name: string; location: { aisle: number; bin: number } }) =>
            `${i.name} @ ${i.location.aisle}/${i.location.bin}`,
        },
      },
    },
  },
  checks: [
    {
      name: 'back to the subgraph through its resolvable compound key',
      query: '{ shelf { items { id name label } } }',
      expect: {
        data: {
          shelf: {
            items: [
              { id: 'i1', name: 'Hammer', label: 'Hammer @ 3/7' },
              { id: 'i2', name: 'Wrench', label: 'Wrench @ 4/1' },
            ],
          },
        },
      },
      fetches: { shelves: 2, stores: 1 },
      apolloFails: 'returns to shelves through its resolvable: false `id` key (no location in the representation)',
    },
    {
      name: 'no requirement: one subgraph answers',
      query: '{ shelf { items { id location { aisle } } } }',
      expect: {
        data: {
          shelf: {
            items: [
              { id: 'i1', location: { aisle: 3 } },
              { id: 'i2', location: { aisle: 4 } },
            ],
          },
        },
      },
      fetches: { shelves: 1, stores: 0 },
    },
  ],
});
