import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign } from '../../harness/jwks.ts';
import { troubling, withLogs } from '../../harness/logs.ts';
import { RawConnection } from '../../harness/raw-http.ts';
import { editSdl, startStack, type Stack } from '../../harness/stack.ts';

/**
 * Every kind of client input the request path reads, sent to a gateway with every policy on.
 * Each row is a request and the exact status and body it must get: a 4xx with a catalog code for
 * what is the client's fault, never a 500, and never a stack trace in the log.
 */

type Send =
  | { method?: 'GET' | 'POST'; search?: string; headers?: Record<string, string>; body?: string | Buffer }
  | { raw: string | Buffer };
interface Row {
  name: string;
  send: Send;
  status: number;
  body: unknown;
}

const deepObject = (levels: number, leaf = '1', key = 'a') => `{"${key}":`.repeat(levels) + leaf + '}'.repeat(levels);
const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const post = (body: string | Buffer, headers: Record<string, string> = {}): Send => ({ body, headers });
const json = (value: Record<string, unknown>) => post(JSON.stringify(value));
const withVars = (query: string, variables: string) =>
  post(`{"query":${JSON.stringify(query)},"variables":${variables}}`);
const err = (code: string, message: string, locations?: Array<{ line: number; column: number }>) => ({
  errors: [{ message, ...(locations ? { locations } : {}), extensions: { code } }],
});
const at = (line: number, column: number) => [{ line, column }];

const productQuery = 'query($upc: String!) { product(upc: $upc) { name } }';
const createReview = 'mutation($i: CreateReviewInput!) { createReview(input: $i) { id } }';
const validReview = { productUpc: '1', authorId: '1', body: 'ok', rating: 5 };

const rows: Row[] = [
  // Variables that do not coerce: 400 BAD_USER_INPUT with graphql-js's coercion message.
  {
    name: 'variable of the wrong type',
    send: json({ query: productQuery, variables: { upc: 7 } }),
    status: 400,
    body: err(
      'BAD_USER_INPUT',
      'Variable "$upc" got invalid value 7; String cannot represent a non string value: 7',
      at(1, 7),
    ),
  },
  {
    name: 'required variable missing',
    send: json({ query: productQuery, variables: {} }),
    status: 400,
    body: err('BAD_USER_INPUT', 'Variable "$upc" of required type "String!" was not provided.', at(1, 7)),
  },
  {
    name: 'required variable null',
    send: json({ query: productQuery, variables: { upc: null } }),
    status: 400,
    body: err('BAD_USER_INPUT', 'Variable "$upc" of non-null type "String!" must not be null.', at(1, 7)),
  },
  {
    name: '10k-deep object for a scalar variable',
    send: withVars(productQuery, `{"upc":${deepObject(10_000)}}`),
    status: 400,
    body: err(
      'BAD_USER_INPUT',
      'Variable "$upc" got invalid value { a: { a: [Object] } }; String cannot represent a non string value: { a: { a: [Object] } }',
      at(1, 7),
    ),
  },
  {
    name: '10k-deep array for a scalar variable',
    send: withVars('query($n: Int) { topProducts(first: $n) { upc } }', `{"n":${deepArray(10_000)}}`),
    status: 400,
    body: err(
      'BAD_USER_INPUT',
      'Variable "$n" got invalid value [[[Array]]]; Int cannot represent non-integer value: [[[Array]]]',
      at(1, 7),
    ),
  },
  {
    name: '10k-deep object for an input-object variable',
    send: withVars(createReview, `{"i":${deepObject(10_000)}}`),
    status: 400,
    body: err('BAD_USER_INPUT', 'Variable "$i" is nested more than 128 levels deep.', at(1, 10)),
  },
  {
    name: '10k-deep value for a recursive input type',
    send: withVars('query($n: Nest) { nested(input: $n) }', `{"n":${deepObject(10_000, '{"value":1}', 'child')}}`),
    status: 400,
    body: err('BAD_USER_INPUT', 'Variable "$n" is nested more than 128 levels deep.', at(1, 7)),
  },
  {
    name: '100k-item array for a scalar variable',
    send: json({
      query: 'query($n: Int) { topProducts(first: $n) { upc } }',
      variables: { n: new Array(100_000).fill(1) },
    }),
    status: 400,
    body: err(
      'BAD_USER_INPUT',
      'Variable "$n" got invalid value [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ... 99990 more items]; Int cannot represent non-integer value: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ... 99990 more items]',
      at(1, 7),
    ),
  },
  {
    name: 'wrong type in a nested input field',
    send: json({ query: createReview, variables: { i: { ...validReview, rating: 'five' } } }),
    status: 400,
    body: err(
      'BAD_USER_INPUT',
      'Variable "$i" got invalid value "five" at "i.rating"; Int cannot represent non-integer value: "five"',
      at(1, 10),
    ),
  },
  {
    name: 'unknown nested input field',
    send: json({ query: createReview, variables: { i: { ...validReview, extra: 1 } } }),
    status: 400,
    body: err(
      'BAD_USER_INPUT',
      'Variable "$i" got invalid value { productUpc: "1", authorId: "1", body: "ok", rating: 5, extra: 1 }; Field "extra" is not defined by type "CreateReviewInput".',
      at(1, 10),
    ),
  },
  {
    name: 'Int out of 32-bit range',
    send: json({ query: 'query($n: Int) { topProducts(first: $n) { upc } }', variables: { n: 1e20 } }),
    status: 400,
    body: err(
      'BAD_USER_INPUT',
      'Variable "$n" got invalid value 100000000000000000000; Int cannot represent non 32-bit signed integer value: 100000000000000000000',
      at(1, 7),
    ),
  },
  {
    name: 'non-null variable with a default, omitted (policies see the default)',
    send: json({ query: 'query($upc: String! = "1") { product(upc: $upc) { name } }' }),
    status: 200,
    body: { data: { product: { name: 'Table' } } },
  },

  // Operations the gateway cannot execute.
  {
    name: 'a subscription',
    send: json({ query: 'subscription { topProducts { upc } }' }),
    status: 400,
    body: err(
      'SUBSCRIPTIONS_NOT_SUPPORTED',
      'Subscriptions are not supported by this gateway; send a query or a mutation.',
      at(1, 1),
    ),
  },
  {
    name: 'a named subscription picked by operationName',
    send: json({ query: 'query Q { __typename } subscription S { topProducts { upc } }', operationName: 'S' }),
    status: 400,
    body: err(
      'SUBSCRIPTIONS_NOT_SUPPORTED',
      'Subscriptions are not supported by this gateway; send a query or a mutation.',
      at(1, 24),
    ),
  },
  {
    name: 'a subscription over GET',
    send: { method: 'GET', search: `?query=${encodeURIComponent('subscription { topProducts { upc } }')}` },
    status: 405,
    body: err('METHOD_NOT_ALLOWED', 'GET requests only support query operations, not subscription operations'),
  },
  {
    name: 'operationName naming no operation',
    send: json({ query: 'query A { __typename }', operationName: 'B' }),
    status: 400,
    body: err('OPERATION_RESOLUTION_FAILURE', 'Unknown operation named "B".'),
  },
  {
    name: 'empty operationName',
    send: json({ query: 'query A { __typename }', operationName: '' }),
    status: 400,
    body: err('OPERATION_RESOLUTION_FAILURE', 'Unknown operation named "".'),
  },
  {
    name: '100k-character operationName',
    send: json({ query: '{ __typename }', operationName: 'x'.repeat(100_000) }),
    status: 400,
    body: err('OPERATION_RESOLUTION_FAILURE', `Unknown operation named "${'x'.repeat(64)}…".`),
  },
  {
    name: 'two operations and no operationName',
    send: json({ query: 'query A { __typename } query B { __typename }' }),
    status: 400,
    body: err('OPERATION_RESOLUTION_FAILURE', 'Must provide operation name if query contains multiple operations.'),
  },
  {
    name: 'operationName that is a number',
    send: json({ query: '{ __typename }', operationName: 5 }),
    status: 400,
    body: err('BAD_REQUEST', '`operationName` in a POST body must be a string if provided.'),
  },
  {
    name: 'operationName 100k levels deep',
    send: post(`{"query":"{ __typename }","operationName":${deepArray(100_000)}}`),
    status: 400,
    body: err('BAD_REQUEST', '`operationName` in a POST body must be a string if provided.'),
  },
  {
    name: 'a document with only fragments',
    send: json({ query: 'fragment F on Query { __typename }' }),
    status: 400,
    body: err('GRAPHQL_VALIDATION_FAILED', 'Fragment "F" is never used.', at(1, 1)),
  },
  {
    name: 'an anonymous and a named operation',
    send: json({ query: '{ __typename } query B { __typename }' }),
    status: 400,
    body: err('GRAPHQL_VALIDATION_FAILED', 'This anonymous operation must be the only defined operation.', at(1, 1)),
  },
  {
    name: '__typename on the query root',
    send: json({ query: '{ __typename }' }),
    status: 200,
    body: { data: { __typename: 'Query' } },
  },
  {
    name: '__typename on the mutation root',
    send: json({ query: 'mutation { __typename }' }),
    status: 200,
    body: { data: { __typename: 'Mutation' } },
  },

  // The JSON envelope.
  {
    name: 'variables as a JSON string',
    send: json({ query: '{ __typename }', variables: '{"a":1}' }),
    status: 400,
    body: err(
      'BAD_REQUEST',
      '`variables` in a POST body should be provided as an object, not a recursively JSON-encoded string.',
    ),
  },
  {
    name: 'variables as an array',
    send: json({ query: '{ __typename }', variables: [1] }),
    status: 400,
    body: err('BAD_REQUEST', '`variables` in a POST body must be an object if provided.'),
  },
  {
    name: 'variables as a number',
    send: json({ query: '{ __typename }', variables: 5 }),
    status: 400,
    body: err('BAD_REQUEST', '`variables` in a POST body must be an object if provided.'),
  },
  {
    name: 'extensions as a JSON string',
    send: json({ query: '{ __typename }', extensions: 'x' }),
    status: 400,
    body: err(
      'BAD_REQUEST',
      '`extensions` in a POST body should be provided as an object, not a recursively JSON-encoded string.',
    ),
  },
  {
    name: 'extensions as an array',
    send: json({ query: '{ __typename }', extensions: [1] }),
    status: 400,
    body: err('BAD_REQUEST', '`extensions` in a POST body must be an object if provided.'),
  },
  {
    name: 'extensions as a number',
    send: json({ query: '{ __typename }', extensions: 1 }),
    status: 400,
    body: err('BAD_REQUEST', '`extensions` in a POST body must be an object if provided.'),
  },
  {
    name: 'an automatic persisted query hash',
    send: json({
      extensions: {
        persistedQuery: { version: 1, sha256Hash: 'ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38' },
      },
    }),
    // Apollo's APQ protocol: a miss is 200, so every Apollo client resends the query text (docs/persisted-operations.md).
    status: 200,
    body: err('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound'),
  },
  {
    name: 'persistedQuery that is a string',
    send: json({ query: '{ __typename }', extensions: { persistedQuery: 'x' } }),
    status: 400,
    body: err('BAD_REQUEST', '`extensions.persistedQuery` must be an object.'),
  },
  {
    name: 'extensions 100k levels deep (unread)',
    send: post(`{"query":"{ __typename }","extensions":{"x":${deepArray(100_000)}}}`),
    status: 200,
    body: { data: { __typename: 'Query' } },
  },
  {
    name: 'query that is a number',
    send: json({ query: 5 }),
    status: 400,
    body: err('BAD_REQUEST', 'GraphQL queries must be strings.'),
  },
  {
    name: 'query that is an array',
    send: json({ query: ['{ __typename }'] }),
    status: 400,
    body: err('BAD_REQUEST', 'GraphQL queries must be strings.'),
  },
  {
    name: 'query that is an object',
    send: json({ query: { a: 1 } }),
    status: 400,
    body: err('BAD_REQUEST', 'GraphQL queries must be strings.'),
  },
  {
    name: 'query 100k levels deep',
    send: post(`{"query":${deepArray(100_000)}}`),
    status: 400,
    body: err('BAD_REQUEST', 'GraphQL queries must be strings.'),
  },
  {
    name: 'empty query',
    send: json({ query: '' }),
    status: 400,
    body: err('BAD_REQUEST', 'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.'),
  },
  {
    name: 'a body that is a 100k-deep array (JSON.parse is iterative in V8)',
    send: post(deepArray(100_000)),
    status: 400,
    body: err('BAD_REQUEST', 'Request body must be a JSON object (batching is not enabled).'),
  },
  {
    name: 'a body that is JSON null',
    send: post('null'),
    status: 400,
    body: err('BAD_REQUEST', 'Request body must be a JSON object (batching is not enabled).'),
  },
  {
    name: 'bytes that are not UTF-8',
    send: post(
      Buffer.concat([
        Buffer.from('{"query":"{ __typename }","x":"'),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}'),
      ]),
    ),
    status: 400,
    body: err('BAD_REQUEST', 'Request body is not valid UTF-8.'),
  },
  {
    name: 'a UTF-8 byte-order mark before the JSON',
    send: post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"query":"{ __typename }"}')])),
    status: 200,
    body: { data: { __typename: 'Query' } },
  },

  // GET.
  {
    name: 'GET with invalid JSON in variables',
    send: { method: 'GET', search: '?query=%7B__typename%7D&variables=%7Bnope' },
    status: 400,
    body: err('BAD_REQUEST', 'The variables search parameter contains invalid JSON.'),
  },
  {
    name: 'GET with invalid JSON in extensions',
    send: { method: 'GET', search: '?query=%7B__typename%7D&extensions=%7Bnope' },
    status: 400,
    body: err('BAD_REQUEST', 'The extensions search parameter contains invalid JSON.'),
  },
  {
    name: 'GET with variables that are an array',
    send: { method: 'GET', search: '?query=%7B__typename%7D&variables=%5B1%5D' },
    status: 400,
    body: err('BAD_REQUEST', 'The variables search parameter should contain a JSON-encoded object.'),
  },
  {
    name: 'GET with a repeated query parameter',
    send: { method: 'GET', search: '?query=%7B__typename%7D&query=%7B__typename%7D' },
    status: 400,
    body: err('BAD_REQUEST', "The 'query' search parameter may only be specified once."),
  },
  {
    name: 'GET with a repeated operationName',
    send: { method: 'GET', search: '?query=%7B__typename%7D&operationName=a&operationName=b' },
    status: 400,
    body: err('BAD_REQUEST', "The 'operationName' search parameter may only be specified once."),
  },
  {
    name: 'GET with a malformed percent-escape',
    send: { method: 'GET', search: '?query=%E0%A4%A' },
    status: 400,
    body: err('GRAPHQL_PARSE_FAILED', 'Syntax Error: Unexpected character: U+FFFD.', at(1, 1)),
  },
  {
    name: 'GET with a 20 KiB query string',
    send: { method: 'GET', search: `?query=${'%20'.repeat(7_000)}%7B__typename%7D` },
    status: 431,
    body: err('HEADERS_TOO_LARGE', 'The request line and headers exceed 16384 bytes.'),
  },

  // Headers and HTTP framing.
  {
    name: 'a 15 KiB header value',
    send: post(JSON.stringify({ query: '{ __typename }' }), { 'x-padding': 'a'.repeat(15_000) }),
    status: 200,
    body: { data: { __typename: 'Query' } },
  },
  {
    name: 'a 20 KiB header value',
    send: post(JSON.stringify({ query: '{ __typename }' }), { 'x-padding': 'a'.repeat(20_000) }),
    status: 431,
    body: err('HEADERS_TOO_LARGE', 'The request line and headers exceed 16384 bytes.'),
  },
  {
    name: 'an Accept header no GraphQL media type matches',
    send: post(JSON.stringify({ query: '{ __typename }' }), { accept: 'x'.repeat(10_000) }),
    status: 406,
    body: err(
      'NOT_ACCEPTABLE',
      "An 'accept' header was provided for this request which does not accept application/json; charset=utf-8 or application/graphql-response+json; charset=utf-8",
    ),
  },
  {
    name: 'a control character in a header value',
    send: { raw: 'POST /graphql HTTP/1.1\r\nHost: g\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\n{}' },
    status: 400,
    body: err('BAD_REQUEST', 'The request is not valid HTTP/1.1: Invalid header value char.'),
  },
  {
    name: 'a Content-Length that is not a number',
    send: {
      raw: 'POST /graphql HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
    },
    status: 400,
    body: err('BAD_REQUEST', 'The request is not valid HTTP/1.1: Invalid character in Content-Length.'),
  },
  {
    name: 'both Content-Length and Transfer-Encoding',
    send: {
      raw: 'POST /graphql HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    },
    status: 400,
    body: err(
      'BAD_REQUEST',
      "The request is not valid HTTP/1.1: Transfer-Encoding can't be present with Content-Length.",
    ),
  },
  {
    name: 'a request line that is not HTTP',
    send: { raw: 'HELLO THERE\r\n\r\n' },
    status: 400,
    body: err('BAD_REQUEST', 'The request is not valid HTTP/1.1: Invalid method encountered.'),
  },
];

describe('hostile and broken client input: exact 4xx answers, never a 500, no stack in the log', () => {
  let stack: Stack;
  const jwks = new JwksServer();
  let token: string;
  before(async () => {
    const key = await makeKey('k1');
    jwks.keys = [key];
    await jwks.start();
    token = await sign(key, { scope: 'catalog:internal' });
    stack = await startStack({
      // A recursive input type, so a deep value can reach graphql-js's recursive coercion.
      sdlEdits: {
        products: (sdl) =>
          editSdl(
            sdl,
            'type Query {',
            'input Nest {\n  child: Nest\n  value: Int\n}\n\ntype Query {\n  nested(input: Nest): Int',
          ),
      },
      config: {
        server: { bodyLimitBytes: 4 * 1024 * 1024 },
        policies: {
          auth: { issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }] },
          authorization: { mode: 'reject' },
          cost: { maxCost: 5000 },
          rateLimit: { costPerWindow: 1_000_000 },
        },
        log: { requests: true },
      },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
    await jwks.stop();
  });

  async function send(s: Send): Promise<{ status: number; text: string }> {
    if ('raw' in s) {
      await using conn = await RawConnection.open(Number(new URL(stack.url).port));
      await conn.write(s.raw);
      const res = await conn.response();
      assert.ok(res, 'an answer before the close');
      return { status: res.status, text: res.body };
    }
    const method = s.method ?? 'POST';
    const headers = {
      authorization: `Bearer ${token}`,
      ...(method === 'POST' ? { 'content-type': 'application/json' } : { 'apollo-require-preflight': '1' }),
      ...s.headers,
    };
    const res = await request(`${stack.url}${s.search ?? ''}`, { method, headers, body: s.body });
    return { status: res.statusCode, text: await res.body.text() };
  }

  for (const row of rows) {
    it(`${row.name} → ${row.status}`, async () => {
      const { result: res, lines } = await withLogs(stack.gateway, stack.url, () => send(row.send));
      assert.deepEqual({ status: res.status, body: JSON.parse(res.text) }, { status: row.status, body: row.body });
      // The client's mistake is not the gateway's error: no error line, no stack trace. (The
      // marker request withLogs sends afterwards also shows the gateway still serves.)
      assert.deepEqual(troubling(lines), []);
    });
  }
});
