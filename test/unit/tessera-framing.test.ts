import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema, parse, validate, specifiedRules, type OperationDefinitionNode } from 'graphql';
import { TesseraError } from '../../gateway/errors/tessera-error.ts';
import type { EngineRequest } from '../../gateway/engine/engine.ts';
import { coerceVariables, operationResolutionFailure } from '../../gateway/engine/prepare.ts';
import { DocumentCache, noIntrospection } from '../../gateway/engine/tessera/documents.ts';
import {
  csrfRefusal,
  mediaTypeEssence,
  readParams,
  responseContentType,
  serializeResult,
} from '../../gateway/engine/tessera/framing.ts';

const post = (body: unknown, headers: EngineRequest['headers'] = {}): EngineRequest => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  search: '',
  body,
});
const get = (search: string, headers: EngineRequest['headers'] = {}): EngineRequest => ({
  method: 'GET',
  headers,
  search,
  body: undefined,
});

/** The refusal `fn` throws, as the client sees it: code and message. */
function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TesseraError, `a TesseraError, not ${String(err)}`);
    return { code: err.code, message: err.message };
  }
  assert.fail('expected a refusal');
}

describe('tessera engine framing: the GraphQL parameters of a request', () => {
  it('reads a POST body, keeping only values of the allowed types', () => {
    assert.deepEqual(readParams(post({ query: '{ a }', operationName: 'A', variables: { x: 1 }, extensions: {} })), {
      query: '{ a }',
      operationName: 'A',
      variables: { x: 1 },
      extensions: {},
    });
    // null is "not given"; so is a falsy non-string query (answered later as a missing query).
    assert.deepEqual(readParams(post({ query: 0, operationName: null, variables: null, extensions: null })), {
      query: undefined,
      operationName: undefined,
      variables: undefined,
      extensions: undefined,
    });
  });

  const bad = (message: string) => ({ code: 'BAD_REQUEST', message });
  const rows: Array<[string, unknown, { code: string; message: string }]> = [
    ['an empty object', {}, bad('POST body missing, invalid Content-Type, or JSON object has no keys.')],
    ['a number query', { query: 5 }, bad('GraphQL queries must be strings.')],
    ['an array query', { query: ['{ a }'] }, bad('GraphQL queries must be strings.')],
    [
      'a parsed document as the query',
      { query: { kind: 'Document', definitions: [] } },
      bad(
        "GraphQL queries must be strings. It looks like you're sending the internal graphql-js representation of a parsed query in your request instead of a request in the GraphQL query language. You can convert an AST to a string using the `print` function from `graphql`, or use a client like `apollo-client` which converts the internal representation to a string for you.",
      ),
    ],
    [
      'variables as a string',
      { query: '{ a }', variables: '{}' },
      bad('`variables` in a POST body should be provided as an object, not a recursively JSON-encoded string.'),
    ],
    [
      'extensions as a string',
      { query: '{ a }', extensions: '{}' },
      bad('`extensions` in a POST body should be provided as an object, not a recursively JSON-encoded string.'),
    ],
    [
      'variables as an array',
      { query: '{ a }', variables: [] },
      bad('`variables` in a POST body must be an object if provided.'),
    ],
    [
      'extensions as a number',
      { query: '{ a }', extensions: 1 },
      bad('`extensions` in a POST body must be an object if provided.'),
    ],
    // Both wrong: extensions is reported first, as clients have always been told.
    [
      'variables and extensions both arrays',
      { query: '{ a }', variables: [], extensions: [] },
      bad('`extensions` in a POST body must be an object if provided.'),
    ],
    [
      'a number operationName',
      { query: '{ a }', operationName: 5 },
      bad('`operationName` in a POST body must be a string if provided.'),
    ],
  ];
  for (const [name, body, expected] of rows) {
    it(`refuses a POST with ${name}`, () =>
      assert.deepEqual(
        refusal(() => readParams(post(body))),
        expected,
      ));
  }

  it('reads GET parameters from the query string, JSON values parsed', () => {
    assert.deepEqual(readParams(get('?query=%7B%20a%20%7D&operationName=A&variables=%7B%22x%22%3A1%7D')), {
      query: '{ a }',
      operationName: 'A',
      variables: { x: 1 },
      extensions: undefined,
    });
    assert.deepEqual(readParams(get('')), {
      query: undefined,
      operationName: undefined,
      variables: undefined,
      extensions: undefined,
    });
    assert.deepEqual(readParams(get('?query=x', { 'content-type': 'application/json; charset=utf-8' })).query, 'x');
  });

  it('refuses GET parameters that are repeated, not JSON, or not objects, and a non-JSON content type', () => {
    assert.deepEqual(
      refusal(() => readParams(get('?query=a&query=b'))),
      bad("The 'query' search parameter may only be specified once."),
    );
    assert.deepEqual(
      refusal(() => readParams(get('?extensions=%7B'))),
      bad('The extensions search parameter contains invalid JSON.'),
    );
    assert.deepEqual(
      refusal(() => readParams(get('?variables=%5B1%5D'))),
      bad('The variables search parameter should contain a JSON-encoded object.'),
    );
    assert.deepEqual(
      refusal(() => readParams(get('?query=x', { 'content-type': 'text/plain' }))),
      {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'GET requests may not have a content-type header other than application/json.',
      },
    );
  });
});

describe('tessera engine framing: CSRF prevention', () => {
  it('lets through a request with a non-simple content type, or a non-empty preflight header', () => {
    assert.equal(csrfRefusal({ 'content-type': 'application/json' }), null);
    assert.equal(csrfRefusal({ 'content-type': 'not a media type' }), null, 'a browser cannot send it unpreflighted');
    assert.equal(csrfRefusal({ 'apollo-require-preflight': '1' }), null);
    assert.equal(csrfRefusal({ 'x-apollo-operation-name': 'Q', 'content-type': 'text/plain' }), null);
  });

  it('refuses what a page on any origin could send without a preflight', () => {
    for (const headers of [
      {},
      { 'content-type': 'text/plain;charset=UTF-8' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'apollo-require-preflight': '' },
    ]) {
      const err = csrfRefusal(headers);
      assert.ok(err, JSON.stringify(headers));
      assert.equal(err.code, 'BAD_REQUEST');
      assert.equal(
        err.message,
        "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value for one of the following headers: x-apollo-operation-name, apollo-require-preflight\n",
      );
    }
  });

  it('reads the essence of a media type', () => {
    assert.equal(mediaTypeEssence(' Text/Plain ; charset=utf-8'), 'text/plain');
    assert.equal(mediaTypeEssence('application/json'), 'application/json');
    assert.equal(mediaTypeEssence('json'), null);
    assert.equal(mediaTypeEssence('/json'), null);
    assert.equal(mediaTypeEssence('a b/c'), null);
  });
});

describe('tessera engine framing: the response media type', () => {
  const json = 'application/json; charset=utf-8';
  const graphql = 'application/graphql-response+json; charset=utf-8';
  const rows: Array<[string | undefined, string | null]> = [
    [undefined, json],
    ['', json],
    ['*/*', json],
    ['application/*', json],
    ['application/graphql-response+json', graphql],
    ['application/graphql-response+json, application/json;q=0.9', graphql],
    ['application/json;q=0.5, application/graphql-response+json', graphql],
    ['application/graphql-response+json;q=0.1, */*', json],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', json],
    ['application/json; charset=utf-8', json],
    ['application/json; callbackSpec=1.0', 'application/json; callbackSpec=1.0; charset=utf-8'],
    ['application/json;q=0', null],
    ['text/html', null],
    ['application/json; charset=latin1', null],
    ['x'.repeat(10_000), null],
  ];
  for (const [accept, expected] of rows) {
    it(`Accept ${JSON.stringify(accept?.slice(0, 60))} → ${String(expected)}`, () =>
      assert.equal(responseContentType(accept), expected));
  }

  it('serialises errors before data, then extensions, as one line', () => {
    assert.equal(
      serializeResult({ data: { a: 1 }, extensions: { cost: 2 }, errors: [{ message: 'm' }] }),
      '{"errors":[{"message":"m"}],"data":{"a":1},"extensions":{"cost":2}}\n',
    );
    assert.equal(serializeResult({ data: null }), '{"data":null}\n');
  });
});

describe('tessera engine: document cache and operation checks', () => {
  it('keeps the most recently used documents within its count and text limits', () => {
    const cache = new DocumentCache({ maxEntries: 2, maxChars: 100 });
    const a = parse('{ a }');
    const b = parse('{ b }');
    cache.set('{ a }', a);
    cache.set('{ b }', b);
    assert.equal(cache.get('{ a }'), a, 'the same DocumentNode for the same text');
    cache.set('{ c }', parse('{ c }'));
    assert.equal(cache.get('{ b }'), undefined, 'the least recently used went first');
    assert.equal(cache.get('{ a }'), a);
    const long = `{ ${'x '.repeat(48)}}`; // 99 characters
    cache.set(long, parse(long));
    assert.equal(cache.size, 1, 'the text limit evicts too');
    cache.set('x'.repeat(101), parse('{ d }'));
    assert.equal(cache.get('x'.repeat(101)), undefined, 'a text over the whole limit is not kept');
  });

  const schema = buildSchema('type Query { a(n: Int, b: B): Int } input B { c: B, d: Int }');
  it('refuses __schema and __type (not __typename) when introspection is off', () => {
    const errors = validate(
      schema,
      parse('{ __typename __schema { queryType { name } } t: __type(name: "Q") { name } }'),
      [...specifiedRules, noIntrospection],
    );
    assert.deepEqual(
      errors.map((e) => [e.extensions['validationErrorCode'], e.locations]),
      [
        ['INTROSPECTION_DISABLED', [{ line: 1, column: 14 }]],
        ['INTROSPECTION_DISABLED', [{ line: 1, column: 46 }]],
      ],
    );
  });

  it('coerces variables once, with defaults, and refuses what does not coerce', () => {
    const op = (q: string) => parse(q).definitions[0] as OperationDefinitionNode;
    assert.deepEqual(coerceVariables(schema, op('query($n: Int = 3) { a(n: $n) }'), {}), { n: 3 });
    assert.deepEqual(coerceVariables(schema, op('{ a }'), { extra: 1 }), {});
    assert.throws(
      () => coerceVariables(schema, op('query($n: Int) { a(n: $n) }'), { n: 'x' }),
      (e: TesseraError) =>
        e.code === 'BAD_USER_INPUT' &&
        e.message === 'Variable "$n" got invalid value "x"; Int cannot represent non-integer value: "x"',
    );
    const deep = JSON.parse(`${'{"c":'.repeat(200)}{}${'}'.repeat(200)}`) as unknown;
    assert.throws(
      () => coerceVariables(schema, op('query($b: B) { a }'), { b: deep }),
      (e: TesseraError) => e.message === 'Variable "$b" is nested more than 128 levels deep.',
    );
  });

  it('says why no operation was chosen', () => {
    const two = parse('query A { a } query B { a }');
    assert.equal(
      operationResolutionFailure(two, undefined).message,
      'Must provide operation name if query contains multiple operations.',
    );
    assert.equal(operationResolutionFailure(two, 'C').message, 'Unknown operation named "C".');
    assert.equal(
      operationResolutionFailure(two, 'x'.repeat(100)).message,
      `Unknown operation named "${'x'.repeat(64)}…".`,
    );
    assert.equal(
      operationResolutionFailure(parse('fragment F on Query { a }'), undefined).message,
      'The document has no operation to execute.',
    );
  });
});
