import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, gql, sleep } from '../harness/http.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign, type SigningKey } from '../harness/jwks.ts';
import { RedisServer, redisAvailable, redisSkipMessage } from '../harness/redis.ts';
import { startStack, type Stack } from '../harness/stack.ts';

const hasRedis = redisAvailable();
// 5 products × (1 + 0) = 5
const five = { query: '{ topProducts { name } }' };

describe('cost-based rate limits shared through a real Redis', { skip: hasRedis ? false : redisSkipMessage }, () => {
  const jwks = new JwksServer();
  const redis = new RedisServer();
  let key: SigningKey;
  let stack: Stack;
  let a: { url: string; proc: Stack['gateway'] };
  let b: { url: string; proc: Stack['gateway'] };
  let token: (claims: Record<string, unknown>) => Promise<Record<string, string>>;

  const gatewayConfig = (rateLimit: Record<string, unknown>) => ({
    redis: { url: redis.url },
    policies: {
      auth: { issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }] },
      cost: { maxCost: 1000 },
      rateLimit: { identifyBy: [{ claim: 'sub' }, { header: 'x-api-key' }, 'ip'], ...rateLimit },
    },
  });

  before(async () => {
    key = await makeKey('rl');
    jwks.keys = [key];
    await jwks.start();
    await redis.start();
    token = async (claims) => ({ authorization: `Bearer ${await sign(key, claims)}` });
    stack = await startStack({ noGateway: true });
    // A 6 s window over 20 units refills one unit per 300 ms: a cost-5 request needs 1.5 s of refill.
    const config = gatewayConfig({ windowMs: 6_000, costPerWindow: 20, tiers: { claim: 'plan', plans: { pro: { costPerWindow: 40 } } } });
    [a, b] = await Promise.all([stack.startGateway(config), stack.startGateway(config)]);
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
    await redis.kill();
    await jwks.stop();
  });

  it('two gateways share one budget: spending half through each exhausts it; 429 with Retry-After and RateLimit headers; admitted again later', async () => {
    const alice = await token({ sub: 'alice' });
    const remaining: string[] = [];
    for (const url of [a.url, a.url, b.url, b.url]) {
      const res = await gql(url, five, alice);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit-policy'), '"cost";q=20;w=6');
      remaining.push(res.headers.get('ratelimit')!.split(';')[1]!);
    }
    assert.deepEqual(remaining, ['r=15', 'r=10', 'r=5', 'r=0']);
    for (const url of [a.url, b.url]) {
      const limited = await gql(url, five, alice);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.data, undefined);
      assert.equal(limited.body.errors[0].extensions.code, 'RATE_LIMITED');
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
      assert.equal(limited.headers.get('ratelimit-policy'), '"cost";q=20;w=6');
      assert.match(limited.headers.get('ratelimit') ?? '', /^"cost";r=0;t=[56]$/);
    }
    const limited = await gql(a.url, five, alice);
    await sleep(Number(limited.headers.get('retry-after')) * 1000);
    const again = await gql(b.url, five, alice);
    assert.equal(again.status, 200);
  });

  it('identities are isolated, tiers pick the budget, and the API-key and IP fallbacks work', async () => {
    const carol = await gql(a.url, five, await token({ sub: 'carol' }));
    assert.equal(carol.headers.get('ratelimit')?.split(';')[1], 'r=15');
    const pro = await gql(a.url, five, await token({ sub: 'bob', plan: 'pro' }));
    assert.equal(pro.headers.get('ratelimit-policy'), '"cost";q=40;w=6');
    assert.equal(pro.headers.get('ratelimit')?.split(';')[1], 'r=35');

    const statuses = async (headers: Record<string, string>) => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push((await gql(b.url, five, headers)).status);
      return out;
    };
    assert.deepEqual(await statuses({ 'x-api-key': 'key-1' }), [200, 200, 200, 200, 429]);
    assert.deepEqual(await statuses({ 'x-api-key': 'key-2' }), [200, 200, 200, 200, 429]);
    // Anonymous, no key: the client IP. A forged X-Forwarded-For from an untrusted peer changes nothing.
    const ip = [];
    for (let i = 0; i < 5; i++) ip.push((await gql(b.url, five, { 'x-forwarded-for': `203.0.113.${i}` })).status);
    assert.deepEqual(ip, [200, 200, 200, 200, 429]);

    // Every key: one hash tag per identity (Redis Cluster safe) and a TTL.
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('*');
      assert.ok(keys.length >= 5, `keys: ${keys.join(', ')}`);
      for (const k of keys) {
        assert.match(k, /^tessera:rl:\{(default|pro):[\w-]{22}\}:cost$/);
        const ttl = await client.pttl(k);
        assert.ok(ttl > 0 && ttl <= 6_001, `${k} has TTL ${ttl}`);
      }
    } finally {
      client.disconnect();
    }
  });

  it('admits exactly N of 200 parallel requests against a budget of N, across two replicas', async () => {
    const config = gatewayConfig({ windowMs: 600_000, costPerWindow: 50, trustedProxies: ['127.0.0.1/32', '10.0.0.0/8'] });
    const [c, d] = await Promise.all([stack.startGateway(config), stack.startGateway({ ...config, policies: { ...config.policies, rateLimit: { ...config.policies.rateLimit, failureMode: 'closed' } } })]);
    const headers = await token({ sub: 'dave' });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => gql(i % 2 ? c.url : d.url, { query: '{ __typename }' }, headers)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 50);
    assert.equal(statuses.filter((s) => s === 429).length, 150);

    // Behind a trusted proxy, X-Forwarded-For names the client: two clients, two budgets (cost 30 each).
    const thirty = { query: '{ topProducts(first: 15) { category { name } } }' }; // 15 × (1 + 1)
    const xff = async (client: string) => (await gql(c.url, thirty, { 'x-forwarded-for': `${client}, 10.0.0.1` })).status;
    assert.deepEqual([await xff('198.51.100.1'), await xff('198.51.100.1'), await xff('198.51.100.2')], [200, 429, 200]);

    // Redis killed mid-run: fail-open keeps serving (one warning), fail-closed answers 503.
    await redis.kill();
    const open = [];
    for (let i = 0; i < 5; i++) open.push(await gql(a.url, five, await token({ sub: 'erin' })));
    assert.deepEqual(open.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(open[4]!.headers.get('ratelimit'), null, 'no budget was metered');
    await sleep(100);
    assert.equal(a.proc.logs().filter((l) => String(l['msg']).startsWith('rate-limit store unavailable')).length, 1, 'logged once, not per request');
    const closed = await gql(d.url, five, headers);
    assert.equal(closed.status, 503);
    assert.equal(closed.body.errors[0].extensions.code, 'RATE_LIMIT_UNAVAILABLE');
    assert.equal(closed.headers.get('retry-after'), '1');

    // Redis back on the same port: limits apply again without restarting any gateway.
    await redis.start();
    await eventually(async () => (await gql(a.url, five, await token({ sub: 'frank' }))).headers.get('ratelimit') !== null, 10_000, 'metering to resume');
    const frank = await token({ sub: 'frank-2' });
    const after = [];
    for (let i = 0; i < 5; i++) after.push((await gql(a.url, five, frank)).status);
    assert.deepEqual(after, [200, 200, 200, 200, 429]);
    await a.proc.waitForLog('rate-limit store recovered; limits apply again');
    const closedBack = await eventually(async () => {
      const r = await gql(d.url, { query: '{ __typename }' }, await token({ sub: 'gina' }));
      return r.status === 200 && r;
    }, 10_000, 'the fail-closed gateway to recover');
    assert.equal(closedBack.status, 200);
  });
});
