import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { users } from '../../subgraphs/shared/dataset.ts';
import { gql, type GqlResponse } from '../../harness/http.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign } from '../../harness/jwks.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const U = users();

/** Every `tessera_requests_total` series on the metrics listener, as `"operation_type outcome" → count`. */
async function requestCounts(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^tessera_requests_total\{operation_type="([^"]+)",outcome="([^"]+)"\} (\d+)$/gm))
    out[`${m[1]} ${m[2]}`] = Number(m[3]);
  return out;
}

/** What one request added to the counters (series that did not move are left out). */
async function counted(metricsUrl: string, request: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await requestCounts(metricsUrl);
  await request();
  const after = await requestCounts(metricsUrl);
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) delta[k] = v - (before[k] ?? 0);
  return delta;
}

describe('tessera_requests_total counts every /graphql request once, with the outcome the client got', () => {
  const jwks = new JwksServer();
  let stack: Stack;
  let token: (sub: string, scope?: string) => Promise<string>;

  before(async () => {
    const key = await makeKey('metrics-key');
    jwks.keys = [key];
    await jwks.start();
    token = (sub, scope = '') => sign(key, { sub, scope });
    stack = await startStack({
      config: {
        policies: {
          auth: { issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }] },
          operationLimits: { maxDepth: 3 },
          // No cost policy: each operation spends 1. Refused documents spend nothing, so only
          // admitted operations move a budget.
          rateLimit: { identifyBy: [{ claim: 'sub' }, 'ip'], costPerWindow: 2, refusedCost: 0 },
        },
      },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
    await jwks.stop();
  });

  it('a full answer is a success', async () => {
    let res: GqlResponse | undefined;
    const delta = await counted(
      stack.metricsUrl,
      async () =>
        (res = await gql(
          stack.url,
          { query: '{ users(first: 1) { name } }' },
          { authorization: `Bearer ${await token('reader')}` },
        )),
    );
    assert.deepEqual(res!.body, { data: { users: [{ name: U[0]!.name }] } });
    assert.deepEqual(delta, { 'query success': 1 });
  });

  it('an answer the authorization filter patched (denied fields nulled, errors added) is partial, not success', async () => {
    let res: GqlResponse | undefined;
    const delta = await counted(
      stack.metricsUrl,
      async () => (res = await gql(stack.url, { query: '{ users(first: 1) { name email } }' })),
    );
    assert.equal(res!.status, 200);
    assert.deepEqual(res!.body, {
      // The filter reports a denied field once per list position ('@'), as Apollo Router does.
      errors: [
        {
          message: 'Unauthorized field or type: User.email',
          path: ['users', '@', 'email'],
          extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
        },
      ],
      data: { users: [{ name: U[0]!.name, email: null }] },
    });
    assert.deepEqual(delta, { 'query partial': 1 });
  });

  it('a 401 from the auth policy (before any operation is known) is an error', async () => {
    let res: GqlResponse | undefined;
    const delta = await counted(
      stack.metricsUrl,
      async () =>
        (res = await gql(
          stack.url,
          { query: '{ users(first: 1) { name } }' },
          { authorization: 'Bearer not.a.token' },
        )),
    );
    assert.equal(res!.status, 401);
    assert.equal(res!.body.errors[0].extensions.code, 'UNAUTHENTICATED');
    assert.deepEqual(delta, { 'none error': 1 });
  });

  it('a 400 from a policy (too deep) and a 400 from the parser are errors, with the operation type when one was resolved', async () => {
    let deep: GqlResponse | undefined;
    const refused = await counted(
      stack.metricsUrl,
      async () =>
        (deep = await gql(stack.url, {
          query: '{ topProducts(first: 1) { reviews { author { reviews { body } } } } }',
        })),
    );
    assert.equal(deep!.status, 400);
    assert.equal(deep!.body.errors[0].extensions.code, 'MAX_DEPTH_EXCEEDED');
    assert.deepEqual(refused, { 'query error': 1 });

    let broken: GqlResponse | undefined;
    const unparsed = await counted(
      stack.metricsUrl,
      async () => (broken = await gql(stack.url, { query: '{ users(first: 1) { name }' })),
    );
    assert.equal(broken!.status, 400);
    assert.equal(broken!.body.errors[0].extensions.code, 'GRAPHQL_PARSE_FAILED');
    assert.deepEqual(unparsed, { 'none error': 1 });
  });

  it('a 429 from the rate limiter is an error', async () => {
    const bearer = { authorization: `Bearer ${await token('spender')}` };
    for (let i = 0; i < 2; i++)
      assert.equal((await gql(stack.url, { query: '{ users(first: 1) { name } }' }, bearer)).status, 200);
    let res: GqlResponse | undefined;
    const delta = await counted(
      stack.metricsUrl,
      async () => (res = await gql(stack.url, { query: '{ users(first: 1) { name } }' }, bearer)),
    );
    assert.equal(res!.status, 429);
    assert.equal(res!.body.errors[0].extensions.code, 'RATE_LIMITED');
    assert.deepEqual(delta, { 'query error': 1 });
  });

  it('a CSRF refusal (a GET without a preflight header) and a refused media type are errors', async () => {
    let csrf: Response | undefined;
    const refused = await counted(
      stack.metricsUrl,
      async () => (csrf = await fetch(`${stack.url}?query=${encodeURIComponent('{ users(first: 1) { name } }')}`)),
    );
    assert.equal(csrf!.status, 400);
    const body = (await csrf!.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    assert.equal(body.errors[0]!.extensions.code, 'BAD_REQUEST');
    assert.match(body.errors[0]!.message, /CSRF/);
    assert.deepEqual(refused, { 'none error': 1 });

    let form: Response | undefined;
    const unsupported = await counted(
      stack.metricsUrl,
      async () =>
        (form = await fetch(stack.url, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: '{ __typename }',
        })),
    );
    assert.equal(form!.status, 415);
    await form!.arrayBuffer();
    assert.deepEqual(unsupported, { 'none error': 1 });
  });
});
