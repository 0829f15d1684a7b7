import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, gql } from '../../harness/http.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign, type SigningKey } from '../../harness/jwks.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const me = { query: '{ me { id } }' };
/** `me` resolves from the x-user-id header that the verified `sub` becomes. */
const issuerOf = (jwksUrl: string) => ({
  issuers: [{ issuer: ISSUER, jwksUrl, audiences: [AUDIENCE] }],
  forwardClaims: [{ claim: 'sub', header: 'x-user-id' }],
});
const refused = (reason: string) => ({
  errors: [{ message: `Invalid token: ${reason}.`, extensions: { code: 'UNAUTHENTICATED' } }],
});

describe('JWT strictness: exp, iat, typ, and keys the issuer removed', () => {
  const idp = new JwksServer();
  let keyA: SigningKey;
  let stack: Stack;
  let strict: string;

  before(async () => {
    keyA = await makeKey('key-a');
    idp.keys = [keyA];
    await idp.start();
    stack = await startStack({ noGateway: true });
    strict = (
      await stack.startGateway({
        policies: { auth: { ...issuerOf(idp.url), clockToleranceSec: 30, allowedTypes: ['JWT', 'at+jwt'] } },
      })
    ).url;
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
    await idp.stop();
  });

  it('refuses a token without exp, one issued in the future and one of a type not allowed with 401 and the reason', async () => {
    const now = Math.floor(Date.now() / 1000);
    const catalogue: Array<[string, string, string]> = [
      ['no exp', await sign(keyA, { exp: undefined }), 'token has no expiry (exp)'],
      ['iat an hour ahead', await sign(keyA, { iat: now + 3600 }), 'token issued in the future (iat)'],
      ['iat beyond the 30 s tolerance', await sign(keyA, { iat: now + 90 }), 'token issued in the future (iat)'],
      ['iat not a number', await sign(keyA, { iat: 'yesterday' as unknown as number }), 'claim "iat" is not a number'],
      ['refresh token', await sign(keyA, {}, { typ: 'refresh+jwt' }), 'token type (typ) "refresh+jwt" is not accepted'],
      [
        'refresh token, full media type',
        await sign(keyA, {}, { typ: 'application/refresh+jwt' }),
        'token type (typ) "application/refresh+jwt" is not accepted',
      ],
      [
        'an ID token type',
        await sign(keyA, {}, { typ: 'id_token+jwt' }),
        'token type (typ) "id_token+jwt" is not accepted',
      ],
      ['no typ', await sign(keyA, {}, { typ: undefined }), 'token has no type (typ)'],
    ];
    for (const [name, token, reason] of catalogue) {
      const res = await gql(strict, me, bearer(token));
      assert.equal(res.status, 401, name);
      assert.deepEqual(res.body, refused(reason), name);
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer error="invalid_token", error_description="${reason.replaceAll('"', "'")}"`,
        name,
      );
    }
  });

  it('accepts the allowed types in any spelling, and an iat within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const accepted: Array<[string, string]> = [
      ['JWT', await sign(keyA, { sub: '1' }, { typ: 'JWT' })],
      ['jwt', await sign(keyA, { sub: '2' }, { typ: 'jwt' })],
      ['at+jwt', await sign(keyA, { sub: '3' }, { typ: 'at+jwt' })],
      ['application/at+jwt', await sign(keyA, { sub: '4' }, { typ: 'application/at+jwt' })],
      ['Application/AT+JWT', await sign(keyA, { sub: '5' }, { typ: 'Application/AT+JWT' })],
      ['iat 10 s ahead (skew)', await sign(keyA, { sub: '6', iat: now + 10 })],
    ];
    for (const [i, [name, token]] of accepted.entries()) {
      const res = await gql(strict, me, bearer(token));
      assert.deepEqual(res.body, { data: { me: { id: String(i + 1) } } }, name);
    }
  });

  it('without requireExp and allowedTypes, a token without exp and any typ are accepted', async () => {
    const lax = await stack.startGateway({ policies: { auth: { ...issuerOf(idp.url), requireExp: false } } });
    const res = await gql(lax.url, me, bearer(await sign(keyA, { sub: '7', exp: undefined }, { typ: 'refresh+jwt' })));
    assert.deepEqual(res.body, { data: { me: { id: '7' } } });
    // A future iat is refused whatever the other settings.
    const future = await gql(lax.url, me, bearer(await sign(keyA, { iat: Math.floor(Date.now() / 1000) + 3600 })));
    assert.deepEqual(future.body, refused('token issued in the future (iat)'));
    await lax.proc.kill();
  });

  it('a key the issuer removed stops verifying after one JWKS refresh; until then its cached token is served', async () => {
    const rotating = new JwksServer();
    const keyB = await makeKey('key-b');
    rotating.keys = [keyA, keyB];
    await rotating.start();
    try {
      const g = await stack.startGateway({
        policies: { auth: { ...issuerOf(rotating.url), jwks: { maxAgeMs: 1_000, cooldownMs: 0 } } },
      });
      await g.proc.waitForLog('JWKS fetched');
      // From here every JWKS fetch waits: the gateway can only serve from what it already has.
      let release!: () => void;
      rotating.gate = new Promise((r) => (release = r));
      const token = await sign(keyB, { sub: '8' });
      assert.deepEqual((await gql(g.url, me, bearer(token))).body, { data: { me: { id: '8' } } });
      rotating.keys = [keyA];
      assert.deepEqual(
        (await gql(g.url, me, bearer(token))).body,
        { data: { me: { id: '8' } } },
        'served until a refresh brings the new key set',
      );

      rotating.gate = null;
      release();
      // The next refresh: due once the keys are older than maxAgeMs, started by any token (cached ones too).
      const changed = await eventually(
        async () => {
          await gql(g.url, me, bearer(token));
          return g.proc
            .logs()
            .find((l) => l['msg'] === 'JWKS fetched' && l['changed'] === true && l['reason'] !== 'start-up');
        },
        10_000,
        'a JWKS refresh that sees the removed key',
      );
      assert.equal(changed['keys'], 1);
      const res = await gql(g.url, me, bearer(token));
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, refused('no key of the issuer matches the token (kid)'));
      // Tokens of the key that stayed are not affected.
      assert.deepEqual((await gql(g.url, me, bearer(await sign(keyA, { sub: '9' })))).body, {
        data: { me: { id: '9' } },
      });
      await g.proc.kill();
    } finally {
      await rotating.stop();
    }
  });
});
