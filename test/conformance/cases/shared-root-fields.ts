import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

export default defineCase({
  id: 'shared-root-fields',
  title: 'Shared (@shareable) root fields',
  spec:
    'A @shareable root field may be resolved by any subgraph that defines it; a selection with a field only one of ' +
    'them has is answered by that one alone.',
  subgraphs: {
    north: {
      sdl: `${fed2()}
        type Query { shop: Shop! @shareable greeting: String! @shareable }
        type Shop @shareable { name: String! }`,
      resolvers: { Query: { shop: () => ({ name: 'Corner' }), greeting: () => 'hello' } },
    },
    south: {
      sdl: `${fed2()}
        type Query { shop: Shop! @shareable greeting: String! @shareable }
        type Shop @shareable { name: String! hours: String! }`,
      resolvers: { Query: { shop: () => ({ name: 'Corner', hours: '9-17' }), greeting: () => 'hello' } },
    },
  },
  checks: [
    {
      name: 'a field only one subgraph has: one fetch, to it',
      query: '{ shop { name hours } }',
      expect: { data: { shop: { name: 'Corner', hours: '9-17' } } },
      fetches: { north: 0, south: 1 },
    },
    {
      name: 'fields every subgraph has',
      query: '{ greeting shop { name } }',
      expect: { data: { greeting: 'hello', shop: { name: 'Corner' } } },
    },
  ],
});
