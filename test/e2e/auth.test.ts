import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { categories, products, stock, users } from '../../subgraphs/shared/dataset.ts';
import { eventually, gql, sleep } from '../../harness/http.ts';
import {
  AUDIENCE,
  b64url,
  hs256WithPublicKey,
  ISSUER,
  JwksServer,
  makeKey,
  sign,
  type SigningKey,
} from '../../harness/jwks.ts';
import { editSdl, startStack, type Stack } from '../../harness/stack.ts';

const U = users();
const C = categories();
const P = products();
const S = new Map(stock().map((s) => [`${s.sku}|${s.variant}`, s]));
const denied = (coordinate: string, path: string[]) => ({
  message: `Unauthorized field or type: ${coordinate}`,
  path,
  extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
});
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** reviews: `Review.body` is non-null and needs a scope, so a denial nulls its nearest nullable parent. */
const sdlEdits = {
  reviews: (s: string) =>
    editSdl(
      editSdl(s, '"@provides", ', '"@provides", "@requiresScopes", '),
      'type Review @key(fields: "id") {\n  id: ID!\n  body: String!',
      'type Review @key(fields: "id") {\n  id: ID!\n  body: String! @requiresScopes(scopes: [["read:reviews"]])',
    ),
  inventory: (s: string) =>
    editSdl(s, '  inStock: Boolean\n', '  inStock: Boolean @policy(policies: [["ops:flaky"]])\n'),
};

describe('edge authentication and authorization', () => {
  const jwks = new JwksServer();
  let keyA: SigningKey;
  let stack: Stack;
  let authConfig: Record<string, any>;

  before(async () => {
    keyA = await makeKey('key-a');
    jwks.keys = [keyA];
    await jwks.start();
    authConfig = {
      issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }],
      maxTokenBytes: 4096,
      jwks: { cooldownMs: 1500 },
      forwardClaims: [{ claim: 'sub', header: 'x-user-id' }],
    };
    stack = await startStack({ sdlEdits, noGateway: true });
    const policyModule = join(stack.dir, 'policies.ts');
    writeFileSync(
      policyModule,
      `export default {
        'inventory:staff': async ({ identity }) => { await new Promise((r) => setTimeout(r, 5)); return identity.claims.role === 'staff'; },
        'ops:flaky': async () => { throw new Error('policy backend unreachable'); },
      };\n`,
    );
    const g = await stack.startGateway({
      policies: { auth: authConfig, authorization: { policyModule } },
      // A client-sent x-user-id would reach subgraphs through this rule; the auth policy must override it.
      subgraphs: { all: { headers: { propagate: [{ named: 'x-user-id' }] } } },
    });
    Object.assign(stack, { url: g.url, base: g.base, gateway: g.proc });
    for (const s of Object.values(stack.subgraphs))
      await fetch(`${s.url.replace(/\/graphql$/, '')}/_stats/recording`, {
        method: 'POST',
        body: JSON.stringify({ on: true }),
      });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
    await jwks.stop();
  });
  const reset = () => Promise.all(Object.values(stack.subgraphs).map((s) => s.resetStats()));

  it("serves guarded fields to a valid token and forwards the verified subject, not the client's header", async () => {
    await reset();
    const token = await sign(keyA, { sub: '3', scope: 'read:email read:profile read:pii' });
    const res = await gql(
      stack.url,
      { query: '{ me { id name email birthDate } }' },
      { ...bearer(token), 'x-user-id': '7' },
    );
    const u = U[2]!;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { data: { me: { id: '3', name: u.name, email: u.email, birthDate: u.birthDate } } });
    const received = (await stack.subgraphs.accounts.stats()).received;
    assert.equal(received.length, 1);
    assert.equal(received[0]!.headers['x-user-id'], '3');
    assert.equal(
      received[0]!.headers['authorization'],
      undefined,
      'the Authorization header is not forwarded unless configured',
    );
  });

  it('refuses every kind of bad token with 401 UNAUTHENTICATED and a reason, and keeps serving', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await sign(keyA, { scope: 'read:email' });
    const [h, , s] = valid.split('.');
    const unknownKey = await makeKey('key-unknown');
    const catalogue: Array<[string, string, string]> = [
      ['expired', await sign(keyA, { exp: now - 3600, iat: now - 7200 }), 'token expired'],
      ['not yet valid', await sign(keyA, { nbf: now + 3600 }), 'not yet valid (nbf)'],
      [
        'wrong issuer',
        await sign(keyA, { iss: 'https://evil.example' }),
        'issuer "https://evil.example" is not accepted',
      ],
      ['wrong audience', await sign(keyA, { aud: 'someone-else' }), 'audience not accepted (aud)'],
      [
        'alg none',
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: '1', exp: now + 600 })}.`,
        'algorithm "none" is not allowed',
      ],
      [
        'HS256 with the RSA public key as secret',
        hs256WithPublicKey(keyA, { iss: ISSUER, aud: AUDIENCE, sub: '1', exp: now + 600 }),
        'algorithm "HS256" is not allowed',
      ],
      [
        'tampered payload',
        `${h}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: '1', scope: 'admin', exp: now + 600 })}.${s}`,
        'signature verification failed',
      ],
      ['unknown signing key', await sign(unknownKey, {}), 'no key of the issuer matches the token (kid)'],
      ['not three parts', 'abc.def', 'expected three dot-separated parts'],
      ['bad base64', '!!!.@@@.###', 'not base64url-encoded JSON'],
      ['non-JSON', `${b64url('not json')}.${b64url('{}')}.c2ln`, 'not base64url-encoded JSON'],
      ['too large', await sign(keyA, { pad: 'x'.repeat(5000) }), 'token is larger than 4096 bytes'],
      [
        'crit with an unknown extension',
        await sign(
          keyA,
          {},
          { crit: ['urn:example:hint'], 'urn:example:hint': true },
          { crit: { 'urn:example:hint': true } },
        ),
        'unsupported feature',
      ],
    ];
    await reset();
    for (const [name, token, reason] of catalogue) {
      const res = await gql(stack.url, { query: '{ users(first: 1) { id } }' }, bearer(token));
      assert.equal(res.status, 401, name);
      assert.equal(res.body.data, undefined, name);
      assert.equal(res.body.errors.length, 1, name);
      assert.equal(res.body.errors[0].extensions.code, 'UNAUTHENTICATED', name);
      assert.ok(
        res.body.errors[0].message.includes(reason),
        `${name}: "${res.body.errors[0].message}" should say "${reason}"`,
      );
      assert.ok(!res.text.includes(token.split('.')[1] || token), `${name}: the token is not echoed`);
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /^Bearer error="invalid_token", error_description="/,
        name,
      );
    }
    for (const s of Object.values(stack.subgraphs))
      assert.equal((await s.stats()).requests, 0, `${s.name} received nothing`);
    const ok = await gql(stack.url, { query: '{ users(first: 1) { id email } }' }, bearer(valid));
    assert.deepEqual(ok.body, { data: { users: [{ id: '1', email: U[0]!.email }] } });
  });

  it('accepts a rotated key after one JWKS refetch, and a flood of random kids costs at most one fetch per cooldown', async () => {
    await sleep(1600); // past the cooldown of the last fetch
    const rotated = await makeKey('key-rotated');
    jwks.keys = [keyA, rotated];
    const before = jwks.fetches;
    const res = await gql(stack.url, { query: '{ me { id } }' }, bearer(await sign(rotated, { sub: '5' })));
    assert.deepEqual(res.body, { data: { me: { id: '5' } } });
    assert.equal(jwks.fetches, before + 1, 'exactly one refetch picked up the new key');

    const flood = await Promise.all(
      Array.from({ length: 100 }, async (_, i) =>
        gql(
          stack.url,
          { query: '{ users(first: 1) { id } }' },
          bearer(await sign({ ...keyA, kid: `random-${i}-${Math.random()}` })),
        ),
      ),
    );
    for (const r of flood) {
      assert.equal(r.status, 401);
      assert.match(r.body.errors[0].message, /no key of the issuer matches the token/);
    }
    assert.ok(
      jwks.fetches - before <= 2,
      `a flood of unknown kids fetched the JWKS ${jwks.fetches - before - 1} more times`,
    );
  });

  it('enforces OR-of-AND scopes', async () => {
    const q = { query: '{ users(first: 2) { id email birthDate } }' };
    const adminOnly = await gql(stack.url, q, bearer(await sign(keyA, { scope: 'admin read:profile read:pii' })));
    assert.deepEqual(adminOnly.body, {
      data: { users: U.slice(0, 2).map((u) => ({ id: u.id, email: u.email, birthDate: u.birthDate })) },
    });

    const halfOfAnd = await gql(stack.url, q, bearer(await sign(keyA, { scope: 'read:email read:profile' })));
    assert.equal(halfOfAnd.status, 200);
    assert.deepEqual(halfOfAnd.body, {
      errors: [denied('User.birthDate', ['users', '@', 'birthDate'])],
      data: { users: U.slice(0, 2).map((u) => ({ id: u.id, email: u.email, birthDate: null })) },
    });
  });

  it('filters through fragments and aliases: exact nulls and paths, and the subgraph never sees the field', async () => {
    await reset();
    const res = await gql(stack.url, {
      query:
        'query People { users(first: 2) { ...Person } } fragment Person on User { id contact: email ... on User { name } }',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      errors: [denied('User.email', ['users', '@', 'contact'])],
      data: { users: U.slice(0, 2).map((u) => ({ id: u.id, contact: null, name: u.name })) },
    });
    // The nulls put back keep the query's key order.
    assert.deepEqual(Object.keys(res.body.data.users[0]!), ['id', 'contact', 'name']);
    const received = (await stack.subgraphs.accounts.stats()).received;
    assert.equal(received.length, 1);
    assert.doesNotMatch(received[0]!.query, /email/);
    const root = await gql(stack.url, { query: '{ me { id } users(first: 1) { id } }' });
    assert.deepEqual(Object.keys(root.body.data), ['me', 'users']);
  });

  it("applies every implementation's requirements to an interface field, and a fragment's own type", async () => {
    const first = C.length + 1; // all categories and the first product
    const token = bearer(await sign(keyA, { scope: 'catalog:admin' }));
    const viaInterface = await gql(stack.url, { query: `{ catalog(first: ${first}) { name internalNotes } }` }, token);
    assert.deepEqual(viaInterface.body, {
      errors: [denied('CatalogEntry.internalNotes', ['catalog', '@', 'internalNotes'])],
      data: {
        catalog: [...C.map((c) => ({ name: c.name, internalNotes: null })), { name: P[0]!.name, internalNotes: null }],
      },
    });
    // catalog:admin satisfies Category's OR, not Product's requirement: only the products lose the field.
    const viaFragments = await gql(
      stack.url,
      {
        query: `{ catalog(first: ${first}) { name ... on Category { internalNotes } ... on Product { upc internalNotes } } }`,
      },
      token,
    );
    assert.deepEqual(viaFragments.body, {
      errors: [denied('Product.internalNotes', ['catalog', '@', 'internalNotes'])],
      data: {
        catalog: [
          ...C.map((c) => ({ name: c.name, internalNotes: `Category ${c.id}: review assortment quarterly.` })),
          { name: P[0]!.name, upc: P[0]!.upc, internalNotes: null },
        ],
      },
    });
    const internal = await gql(
      stack.url,
      { query: `{ catalog(first: 2) { name internalNotes } }` },
      bearer(await sign(keyA, { scope: 'catalog:internal' })),
    );
    assert.equal(internal.body.errors, undefined);
  });

  it('nulls the nearest nullable parent of a denied non-null field, and skips what @skip removes', async () => {
    await reset();
    const res = await gql(stack.url, { query: '{ topProducts(first: 2) { name reviews(first: 1) { rating body } } }' });
    assert.deepEqual(res.body, {
      errors: [denied('Review.body', ['topProducts', '@', 'reviews', '@', 'body'])],
      data: { topProducts: P.slice(0, 2).map((p) => ({ name: p.name, reviews: null })) },
    });
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 0, 'reviews was never asked for the removed field');

    const skipped = await gql(stack.url, {
      query: 'query($s: Boolean!) { users(first: 1) { id email @skip(if: $s) } }',
      variables: { s: true },
    });
    assert.deepEqual(skipped.body, { data: { users: [{ id: '1' }] } });
  });

  it('runs async @policy functions by claim; a policy that throws denies its field and is logged, not a 500', async () => {
    const q = { query: '{ topProducts(first: 2) { upc quantity } }' };
    const staff = await gql(stack.url, q, bearer(await sign(keyA, { role: 'staff' })));
    assert.deepEqual(staff.body, {
      data: {
        topProducts: P.slice(0, 2).map((p) => ({ upc: p.upc, quantity: S.get(`${p.sku}|${p.variant}`)!.quantity })),
      },
    });
    const guest = await gql(stack.url, q, bearer(await sign(keyA, { role: 'guest' })));
    assert.deepEqual(guest.body, {
      errors: [denied('Product.quantity', ['topProducts', '@', 'quantity'])],
      data: { topProducts: P.slice(0, 2).map((p) => ({ upc: p.upc, quantity: null })) },
    });

    const flaky = await gql(
      stack.url,
      { query: '{ topProducts(first: 1) { upc inStock } }' },
      bearer(await sign(keyA, { role: 'staff' })),
    );
    assert.equal(flaky.status, 200);
    assert.deepEqual(flaky.body, {
      errors: [denied('Product.inStock', ['topProducts', '@', 'inStock'])],
      data: { topProducts: [{ upc: P[0]!.upc, inStock: null }] },
    });
    const line = await stack.gateway.waitForLog('@policy function threw; the fields that need it are denied', 2000);
    assert.equal(line['policy'], 'ops:flaky');
    assert.match(String(line['err']), /policy backend unreachable/);
  });

  it('reject mode refuses the whole operation (401 anonymous, 403 with a token); introspection can require a token', async () => {
    const g = await stack.startGateway({
      policies: {
        auth: authConfig,
        authorization: {
          mode: 'reject',
          introspection: 'authenticated',
          policies: {
            'inventory:staff': { claim: 'role', oneOf: ['staff'] },
            'ops:flaky': { claim: 'role', oneOf: ['ops'] },
          },
        },
      },
    });
    await reset();
    const anon = await gql(g.url, { query: '{ users(first: 1) { id email } }' });
    assert.equal(anon.status, 401);
    assert.equal(anon.body.errors[0].extensions.code, 'UNAUTHENTICATED');
    assert.deepEqual(anon.body.errors[0].extensions.unauthorizedPaths, ['users.@.email']);
    const partial = await gql(
      g.url,
      { query: '{ users(first: 1) { id email birthDate } }' },
      bearer(await sign(keyA, { scope: 'read:email' })),
    );
    assert.equal(partial.status, 403);
    assert.deepEqual(partial.body, {
      errors: [
        {
          message: 'The operation selects fields the caller may not see: users.@.birthDate.',
          extensions: { code: 'FORBIDDEN', unauthorizedPaths: ['users.@.birthDate'] },
        },
      ],
    });
    assert.equal((await stack.subgraphs.accounts.stats()).requests, 0);
    const allowed = await gql(
      g.url,
      { query: '{ users(first: 1) { id email } }' },
      bearer(await sign(keyA, { scope: 'read:email' })),
    );
    assert.deepEqual(allowed.body, { data: { users: [{ id: '1', email: U[0]!.email }] } });

    const introspect = { query: '{ __schema { queryType { name } } }' };
    const anonIntro = await gql(g.url, introspect);
    assert.equal(anonIntro.status, 401);
    assert.equal(anonIntro.body.errors[0].message, 'Introspection requires an authenticated caller.');
    const tokenIntro = await gql(g.url, introspect, bearer(await sign(keyA)));
    assert.deepEqual(tokenIntro.body, { data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('can require a token, read it from a cookie, and forward all verified claims as JSON', async () => {
    const g = await stack.startGateway({
      policies: {
        auth: { ...authConfig, required: true, token: { cookie: 'tessera_session' }, forwardClaimsAsJson: 'x-claims' },
      },
    });
    const none = await gql(g.url, { query: '{ users(first: 1) { id } }' }, bearer(await sign(keyA))); // a bearer header is not the configured source
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(none.body, {
      errors: [{ message: 'This gateway requires a bearer token.', extensions: { code: 'UNAUTHENTICATED' } }],
    });
    await reset();
    const token = await sign(keyA, { sub: '6', scope: 'read:email' });
    const ok = await gql(
      g.url,
      { query: '{ me { id email } }' },
      { cookie: `theme=dark; tessera_session=${token}`, 'x-claims': '{"sub":"1","scope":"admin"}' },
    );
    assert.deepEqual(ok.body, { data: { me: { id: '6', email: U[5]!.email } } });
    const claims = JSON.parse((await stack.subgraphs.accounts.stats()).received[0]!.headers['x-claims']!);
    assert.equal(claims.sub, '6');
    assert.equal(claims.scope, 'read:email');
    await g.proc.kill();
  });

  it('survives a JWKS outage at start-up and later: 503 AUTH_UNAVAILABLE, anonymous traffic served, recovery without restart', async () => {
    const idp = new JwksServer();
    idp.keys = [keyA];
    await idp.start();
    await idp.stop(); // a known port with nothing listening
    const g = await stack.startGateway({
      policies: {
        auth: {
          ...authConfig,
          issuers: [{ issuer: ISSUER, jwksUrl: idp.url, audiences: [AUDIENCE] }],
          jwks: { cooldownMs: 300 },
        },
      },
    });
    await g.proc.waitForLog('JWKS fetch failed');
    await sleep(350);
    const down = await gql(g.url, { query: '{ me { id } }' }, bearer(await sign(keyA, { sub: '2' })));
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('retry-after'), '5');
    assert.equal(down.body.errors[0].extensions.code, 'AUTH_UNAVAILABLE');
    const anon = await gql(g.url, { query: '{ users(first: 1) { id } }' });
    assert.deepEqual(anon.body, { data: { users: [{ id: '1' }] } });

    await idp.start(idp.port);
    try {
      const back = await eventually(
        async () => {
          const r = await gql(g.url, { query: '{ me { id } }' }, bearer(await sign(keyA, { sub: '2' })));
          return r.status === 200 && r.body;
        },
        5000,
        'the JWKS to be fetched again',
      );
      assert.deepEqual(back, { data: { me: { id: '2' } } });
    } finally {
      await idp.stop();
    }
    // Down again: the cached keys keep verifying new tokens.
    const stale = await gql(g.url, { query: '{ me { id } }' }, bearer(await sign(keyA, { sub: '4' })));
    assert.deepEqual(stale.body, { data: { me: { id: '4' } } });
    await g.proc.kill();
  });
});
