import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

// Both subgraphs run in one process: the counter they share shows the order the gateway called them in.
let counter = 0;

export default defineCase({
  id: 'mutations-in-order',
  title: 'Root mutation fields across subgraphs run one after another, in document order',
  spec:
    'The root fields of a mutation execute serially in the order of the document, also when consecutive fields ' +
    'live in different subgraphs; each sees the effects of the ones before it.',
  subgraphs: {
    adder: {
      sdl: `${fed2()}
        type Query { count: Int! @shareable }
        type Mutation { reset: Int! add(n: Int!): Int! }`,
      resolvers: {
        Query: { count: () => counter },
        Mutation: { reset: () => (counter = 0), add: (_: unknown, { n }: { n: number }) => (counter += n) },
      },
    },
    doubler: {
      sdl: `${fed2()}
        type Query { count: Int! @shareable }
        type Mutation { double: Int! }`,
      resolvers: { Query: { count: () => counter }, Mutation: { double: () => (counter *= 2) } },
    },
  },
  checks: [
    {
      name: 'add, double, add, double',
      query: 'mutation { reset first: add(n: 1) double then: add(n: 3) again: double }',
      expect: { data: { reset: 0, first: 1, double: 2, then: 5, again: 10 } },
    },
  ],
});
