import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

const words = ['apple', 'banana', 'blueberry', 'cherry'];
const list = (_: unknown, { sort, filter }: { sort: string; filter?: { prefix?: string } }) => {
  const hits = words.filter((w) => !filter?.prefix || w.startsWith(filter.prefix));
  return sort === 'DESC' ? hits.reverse() : hits;
};

export default defineCase({
  id: 'enum-input-intersection',
  title: 'Enums and input types merged across subgraphs',
  spec:
    'An enum used only as input gets the values every subgraph has (intersection: Sort = ASC | DESC); an enum used ' +
    'only as output gets all of them (union: Status = OPEN | CLOSED | ARCHIVED); an input type gets the fields ' +
    'every subgraph has (Filter = { prefix }). A client using what was dropped is refused at validation.',
  subgraphs: {
    left: {
      sdl: `${fed2()}
        type Query { leftList(sort: Sort!, filter: Filter): [String!]! leftStatus: Status! }
        enum Sort { ASC DESC RELEVANCE }
        enum Status { OPEN CLOSED }
        input Filter { prefix: String minLength: Int }`,
      resolvers: { Query: { leftList: list, leftStatus: () => 'CLOSED' } },
    },
    right: {
      sdl: `${fed2()}
        type Query { rightList(sort: Sort!, filter: Filter): [String!]! rightStatus: Status! }
        enum Sort { ASC DESC }
        enum Status { OPEN ARCHIVED }
        input Filter { prefix: String }`,
      resolvers: { Query: { rightList: list, rightStatus: () => 'ARCHIVED' } },
    },
  },
  checks: [
    {
      name: 'shared enum values and input fields, output enum values of each subgraph',
      query: `query ($f: Filter) {
        leftList(sort: DESC, filter: { prefix: "b" }) rightList(sort: ASC, filter: $f) leftStatus rightStatus
      }`,
      variables: { f: { prefix: 'c' } },
      expect: {
        data: {
          leftList: ['blueberry', 'banana'],
          rightList: ['cherry'],
          leftStatus: 'CLOSED',
          rightStatus: 'ARCHIVED',
        },
      },
      fetches: { left: 1, right: 1 },
    },
    {
      name: 'an enum value only one subgraph accepts',
      query: '{ leftList(sort: RELEVANCE) }',
      expect: { data: undefined, status: 400, errors: [{ path: null, codes: ['GRAPHQL_VALIDATION_FAILED'] }] },
      fetches: { left: 0, right: 0 },
    },
    {
      name: 'an input field only one subgraph accepts',
      query: '{ leftList(sort: ASC, filter: { minLength: 6 }) }',
      expect: { data: undefined, status: 400, errors: [{ path: null, codes: ['GRAPHQL_VALIDATION_FAILED'] }] },
      fetches: { left: 0, right: 0 },
    },
  ],
});
