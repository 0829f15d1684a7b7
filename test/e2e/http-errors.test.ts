import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson, gql } from '../../harness/http.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

interface Case {
  name: string;
  request: () => Promise<Response>;
  status: number;
  code: string;
  message: RegExp;
  headers?: Record<string, string>;
}

describe('bad requests get the spec status and a clear error, and the gateway keeps serving', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { server: { bodyLimitBytes: 64 * 1024 } } });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  const post = (body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(stack.url, { method: 'POST', headers, body });
  const preflight = { 'apollo-require-preflight': 'true' };
  const cases: Case[] = [
    {
      name: 'malformed JSON body',
      request: () => post('{"query": "{ topProducts { name }"'),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^Request body is not valid JSON\.$/,
    },
    {
      name: 'a JSON array body (batching is off)',
      request: () => post('[{"query":"{ __typename }"}]'),
      status: 400,
      code: 'BAD_REQUEST',
      message: /batching is not enabled/,
    },
    {
      name: 'invalid GraphQL syntax',
      request: () => post(JSON.stringify({ query: '{ topProducts { name }' })),
      status: 400,
      code: 'GRAPHQL_PARSE_FAILED',
      message: /^Syntax Error: Expected Name, found <EOF>\.$/,
    },
    {
      name: 'unknown field',
      request: () => post(JSON.stringify({ query: '{ topProducts { colour } }' })),
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: /^Cannot query field "colour" on type "Product"\.$/,
    },
    {
      name: 'wrong variable type',
      request: () =>
        post(JSON.stringify({ query: 'query($upc: String!) { product(upc: $upc) { name } }', variables: { upc: 7 } })),
      status: 400,
      code: 'BAD_USER_INPUT',
      message: /^Variable "\$upc" got invalid value 7; String cannot represent a non string value: 7$/,
    },
    {
      name: 'missing query',
      request: () => post(JSON.stringify({ variables: {} })),
      status: 400,
      code: 'BAD_REQUEST',
      message: /must contain a non-empty `query`/,
    },
    {
      name: 'mutation over GET',
      request: () =>
        fetch(
          `${stack.url}?query=${encodeURIComponent('mutation { createReview(input: {productUpc: "1", authorId: "1", body: "x", rating: 5}) { id } }')}`,
          { headers: preflight },
        ),
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      message: /^GET requests only support query operations, not mutation operations$/,
      headers: { allow: 'POST' },
    },
    {
      name: 'unsupported method',
      request: () => fetch(stack.url, { method: 'PUT', body: '{}' }),
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      message: /^PUT is not supported/,
      headers: { allow: 'GET, POST' },
    },
    {
      name: 'oversized body',
      request: () => post(JSON.stringify({ query: `{ __typename }${' '.repeat(70 * 1024)}` })),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: /^Request body exceeds the limit of 65536 bytes\.$/,
    },
    {
      name: 'unsupported content type',
      request: () => post('query=%7B__typename%7D', { 'content-type': 'application/x-www-form-urlencoded' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: /^POST bodies must be application\/json, not application\/x-www-form-urlencoded\.$/,
    },
    {
      name: 'missing content type',
      request: () => post(new TextEncoder().encode('{"query":"{ __typename }"}'), {}),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: /not missing/,
    },
    {
      name: 'unknown path',
      request: () => fetch(`${stack.base}/graphq`),
      status: 404,
      code: 'NOT_FOUND',
      message: /^No endpoint at \/graphq\./,
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const res = await c.request();
      const body = (await res.json()) as {
        data?: unknown;
        errors: Array<{ message: string; extensions: { code: string } }>;
      };
      assert.equal(res.status, c.status);
      assert.equal(body.data, undefined, 'a request-level error carries no data');
      assert.equal(body.errors.length, 1);
      assert.equal(body.errors[0]!.extensions.code, c.code);
      assert.match(body.errors[0]!.message, c.message);
      assert.ok(res.headers.get('x-request-id'), 'every response carries a request id');
      for (const [k, v] of Object.entries(c.headers ?? {})) assert.equal(res.headers.get(k), v);
      // …and the gateway still serves the next request.
      const ok = await gql(stack.url, { query: '{ topProducts(first: 1) { upc } }' });
      assert.deepEqual(ok.body, { data: { topProducts: [{ upc: '1' }] } });
    });
  }

  it('serves queries over GET and answers in application/graphql-response+json when asked', async () => {
    const res = await fetch(`${stack.url}?query=${encodeURIComponent('{ topProducts(first: 1) { name } }')}`, {
      headers: { ...preflight, accept: 'application/graphql-response+json' },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/graphql-response\+json/);
    assert.deepEqual(await res.json(), { data: { topProducts: [{ name: 'Table' }] } });
    const bad = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: '{nope',
    });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /^application\/graphql-response\+json/);
  });

  it('keeps a caller-supplied request id and echoes it', async () => {
    const res = await gql(stack.url, { query: '{ __typename }' }, { 'x-request-id': 'trace-abc.123' });
    assert.equal(res.headers.get('x-request-id'), 'trace-abc.123');
    const unsafe = await gql(stack.url, { query: '{ __typename }' }, { 'x-request-id': 'has spaces and "quotes"' });
    assert.notEqual(unsafe.headers.get('x-request-id'), 'has spaces and "quotes"');
  });

  it('answers the probes', async () => {
    assert.deepEqual(await getJson(`${stack.base}/health`).then((r) => [r.status, r.body]), [200, { status: 'ok' }]);
    assert.deepEqual(await getJson(`${stack.base}/ready`).then((r) => [r.status, r.body]), [
      200,
      { status: 'ready', supergraphGeneration: 1 },
    ]);
  });
});
