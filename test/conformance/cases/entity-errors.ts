import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const ids = ['p1', 'p2', 'p3'];
const broken = (p: { id: string }) => {
  if (p.id === 'p2') throw new Error('rating store unavailable for p2');
  return `${p.id} ok`;
};

export default defineCase({
  id: 'entity-errors',
  title: 'Errors inside an entity fetch, at the client’s paths',
  spec:
    'An error a subgraph reports for one entity is a field error at that field’s path in the client’s operation ' +
    '(list index included); a nullable field becomes null, a non-null one nulls its nearest nullable parent ' +
    '(GraphQL’s null propagation across subgraphs); the other entities of the same batch keep their data.',
  subgraphs: {
    products: {
      sdl: `${fed2()}
        type Query { products: [Product] }
        type Product @key(fields: "id") { id: ID! name: String! }`,
      resolvers: {
        Query: { products: () => ids.map((id) => ({ id })) },
        Product: { __resolveReference: (ref: { id: string }) => ref, name: (p: { id: string }) => `name ${p.id}` },
      },
    },
    ratings: {
      sdl: `${fed2()}
        type Product @key(fields: "id") { id: ID! rating: String strictRating: String! }`,
      resolvers: {
        Product: { __resolveReference: (ref: { id: string }) => ref, rating: broken, strictRating: broken },
      },
    },
  },
  checks: [
    {
      name: 'a nullable field that fails for one entity',
      query: '{ products { id rating } }',
      expect: {
        data: {
          products: [
            { id: 'p1', rating: 'p1 ok' },
            { id: 'p2', rating: null },
            { id: 'p3', rating: 'p3 ok' },
          ],
        },
        errors: [{ path: ['products', 1, 'rating'] }],
      },
      fetches: { products: 1, ratings: 1 },
    },
    {
      name: 'a non-null field that fails: the entity becomes null',
      query: '{ products { name strictRating } }',
      expect: {
        data: {
          products: [{ name: 'name p1', strictRating: 'p1 ok' }, null, { name: 'name p3', strictRating: 'p3 ok' }],
        },
        errors: [{ path: ['products', 1, 'strictRating'] }],
      },
      fetches: { products: 1, ratings: 1 },
    },
  ],
});
