import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { differences, type Check, type Outcome } from '../../harness/conformance.ts';

// The conformance suite's oracle: if it let a wrong answer through, every case built on it would pass for nothing.
const check: Check = {
  name: 'x',
  query: '{ a }',
  expect: { data: { a: 1, b: [{ c: 2 }] }, errors: [{ path: ['b', 0, 'c'], codes: ['X'] }] },
  fetches: { s: 1 },
  representations: { s: 2 },
};
const right: Outcome = {
  status: 200,
  data: { a: 1, b: [{ c: 2 }] },
  errors: [{ path: ['b', 0, 'c'], code: 'X', message: 'any wording' }],
};
const reps = [
  { __typename: 'T', id: '1' },
  { __typename: 'T', id: '2' },
];
const received = { s: [{ query: '{ _entities }', variables: { representations: reps } }] };

describe('conformance differences', () => {
  it('finds none in the answer the spec gives, whatever the error message', () => {
    assert.deepEqual(differences(check, right, received), []);
  });

  it('counts representations under any variable name', () => {
    const split = { s: [{ query: 'q', variables: { __batch_reps_0: [reps[0]], __batch_reps_1: [reps[1]] } }] };
    assert.deepEqual(differences(check, right, split), []);
  });

  it('reports wrong data, key order included', () => {
    assert.equal(differences(check, { ...right, data: { a: 1, b: [{ c: 3 }] } }, received).length, 1);
    assert.equal(differences(check, { ...right, data: { b: [{ c: 2 }], a: 1 } }, received).length, 1);
  });

  it('reports a missing error, one at another path, one with a code outside the class, and an extra one', () => {
    assert.deepEqual(differences(check, { ...right, errors: [] }, received), [
      'missing error at ["b",0,"c"] with code in X',
    ]);
    assert.equal(
      differences(check, { ...right, errors: [{ ...right.errors![0]!, path: ['b', 1, 'c'] }] }, received).length,
      2,
    );
    assert.equal(differences(check, { ...right, errors: [{ ...right.errors![0]!, code: 'Y' }] }, received).length, 2);
    const extra = { path: null, code: null, message: 'boom' };
    assert.deepEqual(differences(check, { ...right, errors: [...right.errors!, extra] }, received), [
      'unexpected error at null (null): boom',
    ]);
  });

  it('reports another status, request count or representation count', () => {
    assert.deepEqual(differences(check, { ...right, status: 500 }, received), ['HTTP status 500, expected 200']);
    assert.equal(differences(check, right, { s: [...received.s, ...received.s] }).length, 2);
    assert.equal(differences(check, right, { s: [] }).length, 2);
  });
});

describe('conformance differences with several allowed answers', () => {
  const either: Check = {
    name: 'y',
    query: '{ a { f } }',
    expect: [
      { data: { a: null }, errors: [{ path: ['a'] }] },
      { data: undefined, status: 400, errors: [{ path: null }] },
    ],
  };

  it('accepts any one of them', () => {
    assert.deepEqual(
      differences(either, { status: 200, data: { a: null }, errors: [{ path: ['a'], code: 'E', message: 'm' }] }, null),
      [],
    );
    assert.deepEqual(
      differences(either, { status: 400, data: undefined, errors: [{ path: null, code: 'E', message: 'm' }] }, null),
      [],
    );
  });

  it('refuses a silent null and a 500, naming what each allowed answer lacks', () => {
    const silent = differences(either, { status: 200, data: { a: null } }, null);
    assert.ok(silent.length > 0 && silent.every((d) => /^\(answer [12] of 2\)/.test(d)), silent.join('\n'));
    assert.notDeepEqual(
      differences(
        either,
        { status: 500, data: undefined, errors: [{ path: null, code: 'INTERNAL_SERVER_ERROR', message: 'm' }] },
        null,
      ),
      [],
    );
  });
});
