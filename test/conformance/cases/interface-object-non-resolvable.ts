import { defineCase } from '../../../harness/conformance-case.ts';
import { fed2 } from './sdl.ts';

export default defineCase({
  id: 'interface-object-non-resolvable',
  title: '(d) a field reachable only through a non-resolvable @interfaceObject',
  spec:
    '`Node.field` lives only in `b`, on an @interfaceObject whose key is `resolvable: false`; `a` owns the `Node` ' +
    'interface but has no type implementing it. From `a.a` there is no way to `field`: the answer is an error ' +
    '(refused before execution, or `a` nulled with an error), never a silent null. From `b.b`, `b` answers itself.',
  subgraphs: {
    a: {
      sdl: `${fed2()}
        type Query { a: Node }
        interface Node @key(fields: "id") { id: ID! }`,
      // No object type implements Node here, so the subgraph cannot answer `a` with anything but an error.
      resolvers: { Query: { a: () => ({ id: 'n1' }) } },
    },
    b: {
      sdl: `${fed2('@interfaceObject')}
        type Query { b: Node }
        type Node @interfaceObject @key(fields: "id", resolvable: false) { id: ID! field: String! }`,
      resolvers: { Query: { b: () => ({ id: 'n1', field: 'foo' }) } },
    },
  },
  checks: [
    {
      name: 'the unreachable field',
      query: '{ a { field } }',
      expect: [
        { data: { a: null }, errors: [{ path: ['a'] }] },
        { data: { a: null }, errors: [{ path: ['a', 'field'] }] },
        { data: null, errors: [{ path: null }] },
        { data: undefined, status: 400, errors: [{ path: null }] },
      ],
      fetches: { b: 0 },
      apolloFails: 'plans nothing and answers { a: null } with no error',
    },
    {
      name: 'a field the owner has: its own error',
      query: '{ a { id } }',
      expect: { data: { a: null }, errors: [{ path: ['a'] }] },
      fetches: { a: 1, b: 0 },
    },
    {
      name: 'the @interfaceObject subgraph’s own root field',
      query: '{ b { id field } }',
      expect: { data: { b: { id: 'n1', field: 'foo' } } },
      fetches: { a: 0, b: 1 },
    },
  ],
});
