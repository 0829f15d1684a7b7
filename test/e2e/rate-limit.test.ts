import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, gql, sleep, type GqlResponse } from '../../harness/http.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign, type SigningKey } from '../../harness/jwks.ts';
import { RedisServer, redisAvailable, redisSkipMessage } from '../../harness/redis.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const hasRedis = redisAvailable();
// 5 products × (1 + 0) = 5
const five = { query: '{ topProducts { name } }' };
// 10 × (1 + 1) = 20: a whole budget of 20 in one operation
const twenty = { query: '{ topProducts(first: 10) { category { name } } }' };
// 600 × (1 + 1) = 1200 > maxCost 1000
const tooExpensive = { query: '{ topProducts(first: 600) { category { name } } }' };
// deeper than maxDepth 4
const tooDeep = { query: '{ topProducts(first: 1) { reviews(first: 1) { author { reviews(first: 1) { body } } } } }' };
const typename = { query: '{ __typename }' };

/**
 * Most budgets here are 20 units per 20 hours: one unit refills per hour, so no refill can happen
 * during a test and every `RateLimit` value is exact however slow the machine is. A refused cost-5
 * operation then waits for 5 units (18,000 s minus the time since the budget was first spent), and
 * its `RateLimit` reset is the whole budget (72,000 s minus the same): the two always differ by 54,000.
 */
const SLOW_WINDOW_MS = 72_000_000;
const slowPolicy = '"cost";q=20;w=72000';
const remaining = (r: GqlResponse) => r.headers.get('ratelimit')?.match(/^"cost";r=(\d+);t=\d+$/)?.[1];
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The exact 429 for a cost-5 operation on a spent slow budget; Retry-After and reset are checked against each other. */
function assertLimited(res: GqlResponse, cost: number, spentSinceMs: number): void {
  assert.equal(res.status, 429);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.deepEqual(res.body, {
    errors: [
      {
        message: `Rate limit exceeded: this operation costs ${cost} and the cost budget for this window is spent. Retry in ${retryAfter} s.`,
        extensions: { code: 'RATE_LIMITED', cost },
      },
    ],
  });
  assert.equal(res.headers.get('ratelimit-policy'), slowPolicy);
  const fits = cost * 3_600; // seconds until `cost` units have refilled, from the first spend
  const elapsed = Math.ceil((Date.now() - spentSinceMs) / 1000);
  assert.ok(
    retryAfter <= fits && retryAfter >= fits - elapsed,
    `Retry-After ${retryAfter}, expected ${fits - elapsed}..${fits}`,
  );
  assert.equal(res.headers.get('ratelimit'), `"cost";r=0;t=${retryAfter + 72_000 - fits}`);
}

describe('cost-based rate limits shared through a real Redis', { skip: hasRedis ? false : redisSkipMessage }, () => {
  const jwks = new JwksServer();
  const redis = new RedisServer();
  let key: SigningKey;
  let stack: Stack;
  type Gateway = Awaited<ReturnType<Stack['startGateway']>>;
  /** Slow budgets: `open` and `closed` failure modes, no API keys (a header bills the client IP). */
  let open: Gateway;
  let closed: Gateway;
  /** Slow budgets with verified API keys. */
  let keyed: Gateway;
  /** Fast budgets (20 per 6 s), two replicas: what refills is admitted again. */
  let fastA: Gateway;
  let fastB: Gateway;
  let token: (claims: Record<string, unknown>) => Promise<Record<string, string>>;

  const gatewayConfig = (rateLimit: Record<string, unknown>) => ({
    // A 1 s Redis deadline leaves the SIGSTOP test a 500 ms margin for a loaded CI machine,
    // while the old behaviour (waiting behind an earlier stalled call) would take ~2 s.
    redis: { url: redis.url, commandTimeoutMs: 1_000 },
    policies: {
      auth: { issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }] },
      operationLimits: { maxDepth: 4 },
      cost: { maxCost: 1000 },
      rateLimit: {
        identifyBy: [{ claim: 'sub' }, { header: 'x-api-key' }, 'ip'],
        trustedProxies: ['127.0.0.1'],
        ...rateLimit,
      },
    },
  });

  before(async () => {
    key = await makeKey('rl');
    jwks.keys = [key];
    await jwks.start();
    await redis.start();
    token = async (claims) => ({ authorization: `Bearer ${await sign(key, claims)}` });
    stack = await startStack({ noGateway: true });
    const slow = {
      windowMs: SLOW_WINDOW_MS,
      costPerWindow: 20,
      tiers: { claim: 'plan', plans: { pro: { costPerWindow: 40 } } },
      refusedCost: 5,
    };
    const apiKeys = [
      { sha256: sha256('acme-secret-1'), name: 'acme', tier: 'pro' },
      { sha256: sha256('beta-secret-1').toUpperCase(), name: 'beta' },
    ];
    [open, closed, keyed, fastA, fastB] = await Promise.all([
      stack.startGateway(gatewayConfig({ ...slow, failureMode: 'open' })),
      stack.startGateway(gatewayConfig({ ...slow, failureMode: 'closed' })),
      stack.startGateway(gatewayConfig({ ...slow, apiKeys })),
      stack.startGateway(gatewayConfig({ windowMs: 6_000, costPerWindow: 20 })),
      stack.startGateway(gatewayConfig({ windowMs: 6_000, costPerWindow: 20 })),
    ]);
  });
  after(async () => {
    redis.resume();
    await stack?.[Symbol.asyncDispose]();
    await redis.kill();
    await jwks.stop();
  });

  it('two gateways share one budget: spending a quarter at a time through each exhausts it; 429 with Retry-After and RateLimit headers', async () => {
    const alice = await token({ sub: 'alice' });
    const t0 = Date.now();
    const seen: Array<string | undefined> = [];
    for (const g of [open, open, closed, closed]) {
      const res = await gql(g.url, five, alice);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit-policy'), slowPolicy);
      seen.push(remaining(res));
    }
    assert.deepEqual(seen, ['15', '10', '5', '0']);
    for (const g of [open, closed]) assertLimited(await gql(g.url, five, alice), 5, t0);
  });

  it('what refills is admitted again, on either replica, after Retry-After', async () => {
    const bob = await token({ sub: 'bob' });
    // Each admitted `twenty` spends the whole budget, so the next one is refused unless a whole
    // 6 s window passed in between (then it spends it all again): a 429 comes, at any speed.
    let limited: GqlResponse | undefined;
    for (let i = 0; i < 5 && !limited; i++) {
      const res = await gql((i % 2 ? fastB : fastA).url, twenty, bob);
      if (res.status === 429) limited = res;
      else assert.deepEqual([res.status, remaining(res)], [200, '0']);
    }
    assert.ok(limited, 'a 429 within five tries');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 6, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers.get('ratelimit-policy'), '"cost";q=20;w=6');
    await sleep(retryAfter * 1000);
    const again = await gql(fastB.url, twenty, bob);
    assert.equal(again.status, 200);
    assert.equal(remaining(again), '0');
  });

  it('identities are isolated and tiers pick the budget; keys are one hash tag per identity, with a TTL', async () => {
    const carol = await gql(open.url, five, await token({ sub: 'carol' }));
    assert.equal(remaining(carol), '15');
    const pro = await gql(open.url, five, await token({ sub: 'bob-pro', plan: 'pro' }));
    assert.equal(pro.headers.get('ratelimit-policy'), '"cost";q=40;w=72000');
    assert.equal(remaining(pro), '35');

    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('*');
      assert.ok(keys.length >= 3, `keys: ${keys.join(', ')}`);
      for (const k of keys) {
        assert.match(k, /^tessera:rl:\{(default|pro):[\w-]{22}\}:cost$/);
        const ttl = await client.pttl(k);
        assert.ok(ttl > 0 && ttl <= SLOW_WINDOW_MS + 1, `${k} has TTL ${ttl}`);
      }
    } finally {
      client.disconnect();
    }
  });

  it("rotating unverified API keys never get more than the client IP's one budget", async () => {
    const from = { 'x-forwarded-for': '198.51.100.10' };
    const t0 = Date.now();
    const results: GqlResponse[] = [];
    for (let i = 0; i < 6; i++)
      results.push(await gql(open.url, five, { ...from, 'x-api-key': `rotated-${i}-${Math.random()}` }));
    assert.deepEqual(
      results.map((r) => [r.status, remaining(r)]),
      [
        [200, '15'],
        [200, '10'],
        [200, '5'],
        [200, '0'],
        [429, '0'],
        [429, '0'],
      ],
    );
    assertLimited(results[5]!, 5, t0);
    assertLimited(await gql(open.url, five, from), 5, t0); // no key at all: the same budget
    assert.ok(
      open.proc
        .logs()
        .some((l) =>
          String(l['msg']).startsWith('rate limits: `identifyBy` names a header but no `apiKeys` are configured'),
        ),
    );
  });

  it('verified API keys get their own budget (and tier); an unknown key is refused with 401', async () => {
    const acme = { 'x-api-key': 'acme-secret-1' };
    const first = await gql(keyed.url, five, { ...acme, 'x-forwarded-for': '198.51.100.21' });
    assert.equal(first.headers.get('ratelimit-policy'), '"cost";q=40;w=72000');
    assert.equal(remaining(first), '35');
    // The key is the identity, wherever it comes from.
    assert.equal(remaining(await gql(keyed.url, five, { ...acme, 'x-forwarded-for': '198.51.100.22' })), '30');
    const beta = await gql(keyed.url, five, { 'x-api-key': 'beta-secret-1', 'x-forwarded-for': '198.51.100.21' });
    assert.equal(beta.headers.get('ratelimit-policy'), slowPolicy);
    assert.equal(remaining(beta), '15');
    // No key: the client IP, untouched by the keys it sent before.
    assert.equal(remaining(await gql(keyed.url, five, { 'x-forwarded-for': '198.51.100.21' })), '15');

    const unknown: Array<[string, Record<string, string>]> = [
      ['a key never issued', { 'x-api-key': 'acme-secret-2' }],
      ['a known key in other case', { 'x-api-key': 'ACME-SECRET-1' }],
      ['an unknown key next to a valid token', { 'x-api-key': 'forged', ...(await token({ sub: 'dora' })) }],
    ];
    for (const [name, headers] of unknown) {
      const bad = await gql(keyed.url, five, headers);
      assert.equal(bad.status, 401, name);
      assert.deepEqual(
        bad.body,
        { errors: [{ message: 'The API key in x-api-key is not valid.', extensions: { code: 'UNAUTHENTICATED' } }] },
        name,
      );
      assert.equal(bad.headers.get('ratelimit'), null, `${name}: refused before any budget is looked at`);
    }
  });

  it('IPv6 clients share one budget per /64; IPv4-mapped and port spellings are the same client', async () => {
    const via = (xff: string) => gql(open.url, five, { 'x-forwarded-for': xff });
    let t0 = Date.now();
    const sameNet = [];
    for (const xff of [
      '2001:db8:1:2::1',
      '[2001:db8:1:2::2]:4711',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:db8:1:2:a::b, 127.0.0.1',
      '2001:db8:1:2::5',
    ])
      sameNet.push(await via(xff));
    assert.deepEqual(
      sameNet.map((r) => [r.status, remaining(r)]),
      [
        [200, '15'],
        [200, '10'],
        [200, '5'],
        [200, '0'],
        [429, '0'],
      ],
    );
    assertLimited(sameNet[4]!, 5, t0);
    const nextNet = await via('2001:db8:1:3::1');
    assert.deepEqual([nextNet.status, remaining(nextNet)], [200, '15']);

    t0 = Date.now();
    const v4 = [];
    for (const xff of [
      '198.51.100.20',
      '::ffff:198.51.100.20',
      '198.51.100.20:5555',
      '[::ffff:198.51.100.20]:80',
      '::ffff:c633:6414',
    ])
      v4.push(await via(xff));
    assert.deepEqual(
      v4.map((r) => [r.status, remaining(r)]),
      [
        [200, '15'],
        [200, '10'],
        [200, '5'],
        [200, '0'],
        [429, '0'],
      ],
    );
    assertLimited(v4[4]!, 5, t0);
  });

  it('refused documents spend refusedCost: repeated until the budget is gone, the next admissible operation gets 429', async () => {
    const from = { 'x-forwarded-for': '198.51.100.40' };
    const t0 = Date.now();
    const expensive = {
      errors: [
        {
          message: 'Operation estimated cost 1200 exceeds the maximum of 1000.',
          extensions: { code: 'COST_ESTIMATED_TOO_EXPENSIVE', cost: { estimated: 1200, max: 1000 } },
        },
      ],
    };
    const refusals = [];
    for (const doc of [tooExpensive, tooDeep, tooExpensive, tooDeep, tooExpensive])
      refusals.push(await gql(open.url, doc, from));
    // The refusal is what the client gets, also once the budget is spent (the last one): RateLimit shows it.
    assert.deepEqual(
      refusals.map((r) => [r.status, r.body.errors[0].extensions.code, remaining(r)]),
      [
        [400, 'COST_ESTIMATED_TOO_EXPENSIVE', '15'],
        [400, 'MAX_DEPTH_EXCEEDED', '10'],
        [400, 'COST_ESTIMATED_TOO_EXPENSIVE', '5'],
        [400, 'MAX_DEPTH_EXCEEDED', '0'],
        [400, 'COST_ESTIMATED_TOO_EXPENSIVE', '0'],
      ],
    );
    assert.deepEqual(refusals[4]!.body, expensive);
    for (const r of refusals) assert.equal(r.headers.get('ratelimit-policy'), slowPolicy);
    assert.equal(refusals[4]!.headers.get('retry-after'), null);
    assertLimited(await gql(open.url, five, from), 5, t0);
  });

  it('admits exactly N of 200 parallel requests against a budget of N, across two replicas', async () => {
    const headers = await token({ sub: 'dave' });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => gql(i % 2 ? open.url : closed.url, typename, headers)),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 20);
    assert.equal(statuses.filter((s) => s === 429).length, 180);
  });

  it('a hung Redis (SIGSTOP) costs each request at most redis.commandTimeoutMs, then failureMode applies', async () => {
    // Both gateways run with commandTimeoutMs 1000. Requests arrive every 25 ms, so most find an
    // earlier Redis call still pending: before the deadline was the request's own, those waited
    // for the earlier call's timeout and then their own (up to 2 × 1000 ms).
    const headers = await token({ sub: 'erin' });
    const warned = (g: Gateway) =>
      g.proc.logs().filter((l) => String(l['msg']).startsWith('rate-limit store unavailable')).length;
    const warnedBefore = [warned(open), warned(closed)];
    redis.pause();
    const sent: Array<Promise<{ mode: string; res: GqlResponse; ms: number }>> = [];
    try {
      for (let i = 0; i < 40; i++) {
        for (const [mode, g] of [
          ['open', open],
          ['closed', closed],
        ] as const) {
          const t = performance.now();
          sent.push(gql(g.url, typename, headers).then((res) => ({ mode, res, ms: performance.now() - t })));
        }
        await sleep(25);
      }
      const results = await Promise.all(sent);
      const slowest = Math.max(...results.map((r) => r.ms));
      assert.ok(
        slowest < 1_500,
        `the slowest request took ${Math.round(slowest)} ms; the deadline is 1000 ms from the request's own call`,
      );
      for (const { mode, res } of results) {
        if (mode === 'open') {
          assert.deepEqual(
            [res.status, res.body, res.headers.get('ratelimit')],
            [200, { data: { __typename: 'Query' } }, null],
          );
        } else {
          assert.deepEqual(
            [res.status, res.body, res.headers.get('retry-after')],
            [
              503,
              {
                errors: [
                  {
                    message: 'Rate limits cannot be checked right now; retry shortly.',
                    extensions: { code: 'RATE_LIMIT_UNAVAILABLE' },
                  },
                ],
              },
              '1',
            ],
          );
        }
      }
    } finally {
      redis.resume();
    }
    await sleep(100);
    assert.deepEqual(
      [warned(open), warned(closed)],
      [warnedBefore[0]! + 1, warnedBefore[1]! + 1],
      'one warning per outage, not per request',
    );
    const metered = await eventually(
      async () => {
        const r = await gql(open.url, typename, await token({ sub: 'erin-after' }));
        return r.headers.get('ratelimit') !== null && r;
      },
      10_000,
      'metering to resume',
    );
    assert.equal(remaining(metered), '19');
    await eventually(
      async () => (await gql(closed.url, typename, await token({ sub: 'erin-after-2' }))).status === 200,
      10_000,
      'the fail-closed gateway to recover',
    );
  });

  it('Redis killed and restarted: fail-open serves unmetered, fail-closed answers 503, both recover without a restart', async () => {
    const warnedBefore = open.proc
      .logs()
      .filter((l) => String(l['msg']).startsWith('rate-limit store unavailable')).length;
    await redis.kill();
    const served = [];
    for (let i = 0; i < 5; i++) served.push(await gql(open.url, five, await token({ sub: 'frank' })));
    assert.deepEqual(
      served.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(served[4]!.headers.get('ratelimit'), null, 'no budget was metered');
    await sleep(100);
    assert.equal(
      open.proc.logs().filter((l) => String(l['msg']).startsWith('rate-limit store unavailable')).length,
      warnedBefore + 1,
      'logged once, not per request',
    );
    const refused = await gql(closed.url, five, await token({ sub: 'frank' }));
    assert.equal(refused.status, 503);
    assert.deepEqual(refused.body, {
      errors: [
        {
          message: 'Rate limits cannot be checked right now; retry shortly.',
          extensions: { code: 'RATE_LIMIT_UNAVAILABLE' },
        },
      ],
    });
    assert.equal(refused.headers.get('retry-after'), '1');

    // Redis back on the same port (empty): limits apply again without restarting any gateway.
    await redis.start();
    await eventually(
      async () => (await gql(open.url, five, await token({ sub: 'gina' }))).headers.get('ratelimit') !== null,
      10_000,
      'metering to resume',
    );
    const hank = await token({ sub: 'hank' });
    const t0 = Date.now();
    const afterRestart = [];
    for (let i = 0; i < 5; i++) afterRestart.push(await gql(open.url, five, hank));
    assert.deepEqual(
      afterRestart.map((r) => [r.status, remaining(r)]),
      [
        [200, '15'],
        [200, '10'],
        [200, '5'],
        [200, '0'],
        [429, '0'],
      ],
    );
    assertLimited(afterRestart[4]!, 5, t0);
    const back = await eventually(
      async () => {
        const r = await gql(closed.url, typename, await token({ sub: 'ivy' }));
        return r.status === 200 && r;
      },
      10_000,
      'the fail-closed gateway to recover',
    );
    assert.deepEqual(back.body, { data: { __typename: 'Query' } });
  });
});
