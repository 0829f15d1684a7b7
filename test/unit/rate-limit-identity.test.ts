import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../gateway/config/load.ts';
import { anonymous, type Identity, type RequestPhase } from '../../policies/policy.ts';
import { addressKey, identityResolver, parseAddress, UnknownApiKeyError } from '../../policies/rate-limit/identity.ts';

const key = (raw: string, bits = 64) => {
  const a = parseAddress(raw);
  return a ? addressKey(a, bits) : undefined;
};

/** The request fields the resolver reads; everything else of a RequestPhase is irrelevant to it. */
const request = (remoteAddress: string, headers: Record<string, string> = {}, identity: Identity = anonymous) =>
  ({ remoteAddress, headers, identity }) as unknown as RequestPhase;

describe('rate-limit client addresses', () => {
  it('reads every spelling of an address, with or without a port, and nothing else', () => {
    const cases: Array<[string, string | undefined]> = [
      ['1.2.3.4', '1.2.3.4'],
      [' 1.2.3.4 ', '1.2.3.4'],
      ['1.2.3.4:5678', '1.2.3.4'],
      ['::ffff:1.2.3.4', '1.2.3.4'],
      ['::ffff:102:304', '1.2.3.4'],
      ['[::ffff:1.2.3.4]:443', '1.2.3.4'],
      ['::1', '::/64'],
      ['[::1]:1234', '::/64'],
      ['[::1]', '::/64'],
      ['2001:DB8:0:0:1:2:3:4', '2001:db8::/64'],
      ['2001:db8:aa:bb:1::1', '2001:db8:aa:bb::/64'],
      ['[2001:db8:aa:bb::9]:80', '2001:db8:aa:bb::/64'],
      ['fe80::1%eth0', 'fe80::/64'],
      ['unknown', undefined],
      ['', undefined],
      ['example.com:80', undefined],
      ['1.2.3.4:99999', undefined],
      ['1.2.3.4, 5.6.7.8', undefined],
    ];
    for (const [raw, expected] of cases) assert.equal(key(raw), expected, JSON.stringify(raw));
  });

  it('keys IPv6 by the configured prefix length', () => {
    assert.equal(key('2001:db8:aa:bb:cc:dd:ee:ff', 48), '2001:db8:aa::/48');
    assert.equal(key('2001:db8:aa:bbcc:cc:dd:ee:ff', 56), '2001:db8:aa:bb00::/56');
    assert.equal(key('2001:db8:aa:bb:cc:dd:ee:ff', 56), '2001:db8:aa::/56');
    assert.equal(key('2001:db8:aa:bb:cc:dd:ee:ff', 128), '2001:db8:aa:bb:cc:dd:ee:ff/128');
    assert.equal(key('2001:db8:aa:bb:cc:dd:ee:ff', 1), '::/1');
    assert.equal(key('ffff::1', 1), '8000::/1');
  });

  it("a prefix key contains exactly the addresses node's BlockList puts in that subnet (random addresses)", () => {
    let seed = 7;
    const rand16 = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xffff;
    const randomV6 = (base?: number[]) =>
      Array.from({ length: 8 }, (_, i) => (base && i < 4 && rand16() % 2 ? base[i]! : rand16()));
    for (let n = 0; n < 300; n++) {
      const bits = [16, 33, 48, 56, 64, 80, 127][n % 7]!;
      const words = randomV6();
      const other = randomV6(words);
      const a = words.map((w) => w.toString(16)).join(':');
      const b = other.map((w) => w.toString(16)).join(':');
      const k = key(a, bits)!;
      const subnet = new BlockList();
      subnet.addSubnet(k.split('/')[0]!, bits, 'ipv6');
      assert.ok(subnet.check(a, 'ipv6'), `${a} in ${k}`);
      assert.equal(key(b, bits) === k, subnet.check(b, 'ipv6'), `${b} vs ${k}`);
    }
  });
});

describe('rate-limit identity', () => {
  const ip = identityResolver({
    sources: ['ip'],
    trustedProxies: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'],
    ipv6PrefixLength: 64,
    apiKeys: undefined,
  });

  it('believes X-Forwarded-For only from a trusted peer, right to left, in any spelling', () => {
    const cases: Array<[string, string | undefined, string]> = [
      ['198.51.100.7', '203.0.113.1', 'ip:198.51.100.7'], // untrusted peer: the header is ignored
      ['::ffff:127.0.0.1', '203.0.113.1', 'ip:203.0.113.1'], // a dual-stack listener's spelling of a trusted peer
      ['127.0.0.1', '203.0.113.1:5678', 'ip:203.0.113.1'],
      ['127.0.0.1', '::ffff:203.0.113.1', 'ip:203.0.113.1'],
      ['127.0.0.1', '6.6.6.6, 203.0.113.1, 10.1.1.1', 'ip:203.0.113.1'], // forged left part never reached
      ['127.0.0.1', '[2001:db8:1:2::99]:4711, 10.1.1.1', 'ip:2001:db8:1:2::/64'],
      ['127.0.0.1', '2001:db8:1:2:aaaa::1, [fd00::5]:80', 'ip:2001:db8:1:2::/64'],
      ['127.0.0.1', '10.2.2.2, 10.1.1.1', 'ip:10.2.2.2'], // only proxies: the left-most
      ['127.0.0.1', '203.0.113.1, garbage', 'ip:127.0.0.1'], // an unreadable hop stops the walk at the last trusted one
      ['127.0.0.1', '203.0.113.1, garbage, 10.1.1.1', 'ip:10.1.1.1'],
      ['not-an-address', undefined, 'ip:unknown'],
    ];
    for (const [peer, xff, expected] of cases)
      assert.equal(ip.resolve(request(peer, xff ? { 'x-forwarded-for': xff } : {})).key, expected, `${peer} / ${xff}`);
  });

  it('an unverified header never opens a budget: without apiKeys it bills the client IP', () => {
    const who = identityResolver({
      sources: [{ claim: 'sub' }, { header: 'X-Api-Key' }, 'ip'],
      trustedProxies: [],
      ipv6PrefixLength: 64,
      apiKeys: undefined,
    });
    const keys = new Set(
      Array.from({ length: 50 }, (_, i) => who.resolve(request('192.0.2.1', { 'x-api-key': `rotated-${i}` })).key),
    );
    assert.deepEqual([...keys], ['ip:192.0.2.1']);
    who.checkApiKey(request('192.0.2.1', { 'x-api-key': 'anything' })); // nothing to check against
    const alice: Identity = { subject: 'alice', authenticated: true, scopes: new Set(), claims: { sub: 'alice' } };
    assert.equal(who.resolve(request('192.0.2.1', { 'x-api-key': 'k' }, alice)).key, 'claim:sub:alice');
    // An unverified claim (anonymous identity) is not a claim.
    assert.equal(
      who.resolve(request('192.0.2.1', {}, { ...anonymous, claims: { sub: 'mallory' } })).key,
      'ip:192.0.2.1',
    );
  });

  it('with apiKeys, a known key is its own identity (with its tier) and an unknown one is refused', () => {
    const sha = (k: string) => createHash('sha256').update(k).digest('hex');
    const apiKeys = [
      { sha256: sha('key-of-acme'), name: 'acme', tier: 'pro' },
      { sha256: sha('old-key-of-acme'), name: 'acme' },
      { sha256: sha('key-of-beta'), name: 'beta' },
    ];
    const who = identityResolver({
      sources: [{ header: 'x-api-key' }, 'ip'],
      trustedProxies: [],
      ipv6PrefixLength: 64,
      apiKeys,
    });
    assert.deepEqual(who.resolve(request('192.0.2.1', { 'x-api-key': 'key-of-acme' })), {
      key: 'api-key:acme',
      apiKey: apiKeys[0],
    });
    assert.equal(who.resolve(request('192.0.2.2', { 'x-api-key': 'old-key-of-acme' })).key, 'api-key:acme');
    assert.equal(who.resolve(request('192.0.2.1', { 'x-api-key': 'key-of-beta' })).key, 'api-key:beta');
    assert.equal(who.resolve(request('192.0.2.1')).key, 'ip:192.0.2.1');
    assert.throws(
      () => who.checkApiKey(request('192.0.2.1', { 'x-api-key': 'key-of-acme ' })),
      new UnknownApiKeyError('The API key in x-api-key is not valid.'),
    );
    who.checkApiKey(request('192.0.2.1', { 'x-api-key': 'key-of-beta' }));
    who.checkApiKey(request('192.0.2.1'));
  });
});

describe('rate-limit and auth config', () => {
  const problems = (rateLimit: Record<string, unknown>) => {
    try {
      parseConfig({ supergraph: { file: 'x' }, policies: { rateLimit } }, { source: 'tessera.yaml', env: {} });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
    assert.fail('expected a ConfigError');
  };
  const hex = createHash('sha256').update('k').digest('hex');

  it('defaults: exp required, typ unchecked, refused documents cost 1, IPv6 by /64', () => {
    const c = parseConfig({
      supergraph: { file: 'x' },
      policies: {
        auth: { issuers: [{ issuer: 'i', jwksUrl: 'https://idp.example/jwks.json', audiences: ['a'] }] },
        rateLimit: {},
      },
    });
    assert.equal(c.policies.auth!.requireExp, true);
    assert.equal(c.policies.auth!.allowedTypes, undefined);
    assert.equal(c.policies.rateLimit!.refusedCost, 1);
    assert.equal(c.policies.rateLimit!.ipv6PrefixLength, 64);
    assert.equal(c.policies.rateLimit!.apiKeys, undefined);
  });

  it('refuses API keys that are not SHA-256 digests, listed twice, of an unknown tier, or with no header to read them from', () => {
    assert.deepEqual(
      problems({
        identifyBy: [{ header: 'x-api-key' }, 'ip'],
        tiers: { claim: 'plan', plans: { pro: { costPerWindow: 10 } } },
        apiKeys: [
          { sha256: 'the-key-itself', name: 'a' },
          { sha256: hex, name: 'b', tier: 'pro' },
          { sha256: hex.toUpperCase(), name: 'c', tier: 'gold' },
        ],
      }),
      [
        'policies.rateLimit.apiKeys.0.sha256: expected 64 hex digits (the SHA-256 of the key)',
        'policies.rateLimit.apiKeys.2.sha256: the same key is listed twice',
        'policies.rateLimit.apiKeys.2.tier: no plan "gold" in `tiers.plans`',
      ],
    );
    assert.deepEqual(problems({ apiKeys: [{ sha256: hex, name: 'a' }] }), [
      'policies.rateLimit.apiKeys: `apiKeys` needs a `{ header }` source in `identifyBy` to read them from',
    ]);
  });
});
