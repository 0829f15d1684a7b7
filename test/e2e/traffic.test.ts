import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, gql } from '../../harness/http.ts';
import { metric } from '../../harness/metrics.ts';
import {
  allSubgraphs,
  composeOrThrow,
  exampleSdl,
  startStack,
  startSubgraphProc,
  type RunningSubgraphProc,
  type Stack,
} from '../../harness/stack.ts';
import { writeFileAtomic } from '../../supergraph/write-file-atomic.ts';

/**
 * Traffic management against real processes: extra `reviews` subgraph processes are the other
 * instances, the canary and the mirror; each counts what it received (`/_stats`).
 */

/** A distinct query text per request (an alias), so the gateway's dedupe never merges two of them. */
const reviewsQuery = (i: number) => ({ query: `{ r${i}: topReviews(first: 1) { body } }` });
const reviewsAnswer = (i: number) => ({ data: { [`r${i}`]: [{ body: 'Exactly as described.' }] } });

async function inParallel(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
}

const labelOf = (p: RunningSubgraphProc) => `127.0.0.1:${p.port}`;

describe('several instances of a subgraph', () => {
  let stack: Stack;
  let extra: RunningSubgraphProc[] = [];
  let gw: Awaited<ReturnType<Stack['startGateway']>>;
  const instances = () => [stack.subgraphs.reviews, ...extra];

  before(async () => {
    stack = await startStack({ noGateway: true });
    extra = await Promise.all([startSubgraphProc('reviews'), startSubgraphProc('reviews')]);
    gw = await stack.startGateway({
      subgraphs: {
        reviews: {
          urls: instances().map((p) => p.url),
          retry: { baseDelayMs: 1 },
          outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 1500 },
        },
      },
    });
  });
  after(async () => {
    await Promise.all(extra.map((p) => p.proc.kill()));
    await stack?.[Symbol.asyncDispose]();
  });

  it('spreads fetches over every instance, each answer exact', async () => {
    await Promise.all(instances().map((p) => p.resetStats()));
    const total = 300;
    await inParallel(total, 6, async (i) => {
      const res = await gql(gw.url, reviewsQuery(i));
      assert.deepEqual(res.body, reviewsAnswer(i));
    });
    const counts = await Promise.all(instances().map(async (p) => (await p.stats()).requests));
    assert.equal(
      counts.reduce((a, b) => a + b),
      total,
      'each fetch reached exactly one instance',
    );
    // Uniform would be 100 each; least-outstanding with random ties stays near it.
    for (const c of counts) assert.ok(c >= 60, `instance counts ${counts.join(', ')}: one starved`);
    for (const p of instances())
      assert.ok(
        (await metric(gw.metricsUrl, 'tessera_subgraph_instance_attempt_duration_seconds_count', {
          instance: labelOf(p),
          role: 'stable',
          outcome: 'success',
        })) > 0,
      );
  });

  it('a retry goes to another instance: one instance answering 503 costs the client nothing', async () => {
    const faulty = extra[0]!;
    const g = await stack.startGateway({
      subgraphs: {
        reviews: {
          urls: [stack.subgraphs.reviews.url, faulty.url],
          retry: { maxAttempts: 2, baseDelayMs: 1 },
          breaker: { enabled: false },
          outlierDetection: { enabled: false },
        },
      },
    });
    await Promise.all([stack.subgraphs.reviews.resetStats(), faulty.resetStats(), faulty.fault({ status: 503 })]);
    for (let i = 0; i < 40; i++) assert.deepEqual((await gql(g.url, reviewsQuery(i))).body, reviewsAnswer(i));
    await faulty.fault(null);
    const failedFirst = (await faulty.stats()).requests;
    // Each fetch whose first attempt met the 503 was retried on the healthy instance.
    assert.ok(failedFirst >= 5, `${failedFirst} first attempts on the failing instance`);
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 40);
    assert.equal(await metric(g.metricsUrl, 'tessera_subgraph_retries_total', { reason: 'HTTP_503' }), failedFirst);
    await g.proc.kill();
  });

  it('ejects a killed instance without client-visible errors, then readmits it when it is back', async () => {
    const victim = extra[1]!;
    const errors: unknown[] = [];
    let i = 1000;
    const load = async (n: number) =>
      inParallel(n, 4, async () => {
        const k = i++;
        const res = await gql(gw.url, reviewsQuery(k));
        if (JSON.stringify(res.body) !== JSON.stringify(reviewsAnswer(k))) errors.push(res.body);
      });
    await load(40);
    const running = load(200);
    await victim.proc.kill();
    await running;
    // Attempts to the dead instance were refused before anything was sent and retried on another.
    assert.deepEqual(errors, []);
    assert.ok(
      (await metric(gw.metricsUrl, 'tessera_subgraph_instance_ejections_total', { instance: labelOf(victim) })) >= 1,
    );
    // Without ejection a third of the 200 fetches (about 66) would try it first; ejected after 3
    // failures, it gets those, the ones in flight, and one probe per ejection period.
    const triedDead = await metric(gw.metricsUrl, 'tessera_subgraph_instance_attempt_duration_seconds_count', {
      instance: labelOf(victim),
      outcome: 'SUBGRAPH_UNAVAILABLE',
    });
    assert.ok(triedDead >= 3 && triedDead <= 20, `${triedDead} attempts on the dead instance`);
    // Back on the same port: readmitted once its ejection time is served.
    extra[1] = await startSubgraphProc('reviews', victim.port);
    await eventually(
      async () => {
        await load(20);
        return (await extra[1]!.stats()).requests > 0;
      },
      10_000,
      'the restarted instance gets traffic again',
    );
    assert.equal(await metric(gw.metricsUrl, 'tessera_subgraph_instance_ejected', { instance: labelOf(victim) }), 0);
    assert.deepEqual(errors, []);
  });
});

describe('canary', () => {
  let stack: Stack;
  let canary: RunningSubgraphProc;

  before(async () => {
    stack = await startStack({ noGateway: true });
    canary = await startSubgraphProc('reviews');
  });
  after(async () => {
    await canary?.proc.kill();
    await stack?.[Symbol.asyncDispose]();
  });

  it('weight 20 sends 20 % (± 3 points) of 2,000 fetches to the canary, counted per role', async () => {
    const gw = await stack.startGateway({
      subgraphs: { reviews: { canary: { url: canary.url, weight: 20 } } },
    });
    await Promise.all([stack.subgraphs.reviews.resetStats(), canary.resetStats()]);
    const total = 2000;
    await inParallel(total, 8, async (i) => {
      const res = await gql(gw.url, reviewsQuery(i));
      assert.deepEqual(res.body, reviewsAnswer(i));
    });
    const onCanary = (await canary.stats()).requests;
    const onStable = (await stack.subgraphs.reviews.stats()).requests;
    assert.equal(onCanary + onStable, total);
    const share = (onCanary * 100) / total;
    console.log(`canary weight 20: ${onCanary} of ${total} fetches (${share.toFixed(1)} %)`);
    assert.ok(share >= 17 && share <= 23, `canary got ${share} %`);
    const count = (role: string) =>
      metric(gw.metricsUrl, 'tessera_subgraph_instance_attempt_duration_seconds_count', { role, outcome: 'success' });
    assert.equal(await count('canary'), onCanary);
    assert.equal(await count('stable'), onStable);
    await gw.proc.kill();
  });

  it('sticky callers (by header) never switch sides, and about weight % of callers are on the canary', async () => {
    const gw = await stack.startGateway({
      subgraphs: {
        reviews: {
          canary: { url: canary.url, weight: 30, stickyBy: { header: 'x-user-id' } },
          headers: { propagate: [{ named: 'x-user-id' }] },
        },
      },
    });
    await Promise.all([stack.subgraphs.reviews.resetStats(), canary.resetStats()]);
    const users = 100;
    await inParallel(users * 4, 8, async (i) => {
      const res = await gql(gw.url, reviewsQuery(i), { 'x-user-id': `user-${i % users}` });
      assert.deepEqual(res.body, reviewsAnswer(i));
    });
    const usersOf = async (p: RunningSubgraphProc) => {
      const seen = new Map<string, number>();
      for (const r of (await p.stats()).received) {
        const u = r.headers['x-user-id']!;
        seen.set(u, (seen.get(u) ?? 0) + 1);
      }
      return seen;
    };
    const onCanary = await usersOf(canary);
    const onStable = await usersOf(stack.subgraphs.reviews);
    const both = [...onCanary.keys()].filter((u) => onStable.has(u));
    assert.deepEqual(both, [], 'no caller was served by both sides');
    for (const n of [...onCanary.values(), ...onStable.values()])
      assert.equal(n, 4, 'every fetch of a caller on one side');
    assert.equal(onCanary.size + onStable.size, users);
    assert.ok(onCanary.size >= 15 && onCanary.size <= 45, `${onCanary.size} of ${users} callers on the canary`);
    // The subgraph sees which side the caller belongs to.
    const sides = new Set((await canary.stats()).received.map((r) => r.headers['x-tessera-canary']));
    assert.deepEqual([...sides], ['canary']);
    await gw.proc.kill();
  });

  it("an open canary circuit sends the canary's share back to the stable instance, without errors", async () => {
    const gw = await stack.startGateway({
      subgraphs: {
        reviews: {
          canary: { url: canary.url, weight: 50 },
          retry: { maxAttempts: 1 },
          breaker: { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
          outlierDetection: { enabled: false },
        },
      },
    });
    await canary.fault({ status: 503 });
    const failures: unknown[] = [];
    // Until the canary's breaker opens, about half the fetches fail (no retry allowed here).
    for (let i = 0; i < 40; i++) {
      const res = await gql(gw.url, reviewsQuery(i));
      if (res.body.errors) failures.push(res.body.errors[0].extensions.code);
    }
    assert.ok(failures.length >= 1 && failures.length < 20, `${failures.length} failures before the circuit opened`);
    assert.deepEqual(new Set(failures), new Set(['SUBGRAPH_HTTP_ERROR']));
    assert.equal(await metric(gw.metricsUrl, 'tessera_subgraph_breaker_state', { instance: labelOf(canary) }), 2);
    await Promise.all([stack.subgraphs.reviews.resetStats(), canary.resetStats()]);
    for (let i = 100; i < 140; i++) assert.deepEqual((await gql(gw.url, reviewsQuery(i))).body, reviewsAnswer(i));
    assert.equal((await canary.stats()).requests, 0);
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 40);
    assert.ok((await metric(gw.metricsUrl, 'tessera_subgraph_canary_diverted_total')) >= 10);
    await canary.fault(null);
    await gw.proc.kill();
  });
});

describe('mirror', () => {
  let stack: Stack;
  let mirror: RunningSubgraphProc;
  let gw: Awaited<ReturnType<Stack['startGateway']>>;
  const mutation = (n: number) => ({
    query: 'mutation Add($input: CreateReviewInput!) { createReview(input: $input) { body } }',
    variables: { input: { productUpc: '3', authorId: '2', body: `Mirrored? ${n}`, rating: 3 } },
  });

  before(async () => {
    stack = await startStack({ noGateway: true });
    mirror = await startSubgraphProc('reviews');
    gw = await stack.startGateway({
      subgraphs: { reviews: { mirror: { url: mirror.url, timeoutMs: 3000, maxConcurrency: 4 } } },
    });
  });
  after(async () => {
    await mirror?.proc.kill();
    await stack?.[Symbol.asyncDispose]();
  });

  /** What the primary instance holds now, asked directly (mutations change it; the mirror never sees them). */
  const truth = async (i: number) => {
    const direct = await gql(stack.subgraphs.reviews.url, { query: '{ topReviews(first: 1) { body } }' });
    return { data: { [`r${i}`]: direct.body.data.topReviews } };
  };

  it('gets a copy of every query and never a mutation; the answers are compared', async () => {
    await Promise.all([stack.subgraphs.reviews.resetStats(), mirror.resetStats()]);
    for (let i = 0; i < 10; i++) assert.deepEqual((await gql(gw.url, reviewsQuery(i))).body, reviewsAnswer(i));
    await eventually(async () => (await mirror.stats()).requests === 10, 5000, 'ten copies');
    assert.equal(await metric(gw.metricsUrl, 'tessera_subgraph_mirror_requests_total', { outcome: 'same' }), 10);
    for (let i = 0; i < 5; i++)
      assert.deepEqual((await gql(gw.url, mutation(i))).body, { data: { createReview: { body: `Mirrored? ${i}` } } });
    // The primary has the new reviews, the mirror (which got no mutation) has not: a difference.
    const after = await truth(10);
    assert.notDeepEqual(after, reviewsAnswer(10));
    assert.deepEqual((await gql(gw.url, reviewsQuery(10))).body, after);
    await eventually(
      async () =>
        (await metric(gw.metricsUrl, 'tessera_subgraph_mirror_requests_total', { outcome: 'different' })) === 1,
      5000,
      'one different answer',
    );
    const received = (await mirror.stats()).received;
    assert.equal(received.length, 11);
    assert.deepEqual(
      received.map((r) => r.query.includes('createReview')),
      Array(11).fill(false),
    );
    assert.deepEqual(
      received.map((r) => r.headers['x-tessera-mirror']),
      Array(11).fill('1'),
    );
    // 11 queries and 5 mutations through the gateway, 1 direct query (`truth`).
    assert.equal((await stack.subgraphs.reviews.stats()).requests, 17);
  });

  it('a hanging mirror changes nothing for the client: copies time out, extra ones are dropped', async () => {
    await mirror.fault({ hang: true });
    const before = await metric(gw.metricsUrl, 'tessera_subgraph_mirror_requests_total', { outcome: 'failed' });
    for (let i = 0; i < 12; i++) assert.deepEqual((await gql(gw.url, reviewsQuery(i))).body, await truth(i));
    // 4 in flight at most (they hang for the mirror's 3 s timeout): the other 8 were dropped.
    assert.equal(await metric(gw.metricsUrl, 'tessera_subgraph_mirror_requests_total', { outcome: 'dropped' }), 8);
    await eventually(
      async () =>
        (await metric(gw.metricsUrl, 'tessera_subgraph_mirror_requests_total', { outcome: 'failed' })) - before === 4,
      8000,
      'four timed-out copies',
    );
    await mirror.fault(null);
  });

  it('a dead mirror changes nothing for the client', async () => {
    await mirror.proc.kill();
    const before = await metric(gw.metricsUrl, 'tessera_subgraph_mirror_requests_total', { outcome: 'failed' });
    for (let i = 0; i < 3; i++) {
      assert.deepEqual((await gql(gw.url, reviewsQuery(i))).body, await truth(i));
      await eventually(
        async () =>
          (await metric(gw.metricsUrl, 'tessera_subgraph_mirror_requests_total', { outcome: 'failed' })) ===
          before + i + 1,
        5000,
        'copy failed',
      );
    }
  });
});

// Under each engine (the gateways take the run's TESSERA_ENGINE): both plan with the request's labels.
describe('progressive override', () => {
  let stack: Stack;
  let next: RunningSubgraphProc;
  /** A second reviews process, composed as subgraph `reviewsnext` that takes two fields over by label. */
  const nextSdl = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@override"])
type Product @key(fields: "upc") {
  upc: String!
  reviewCount: Int @override(from: "reviews", label: "percent(50)")
  averageRating: Float @override(from: "reviews", label: "beta")
}`;
  // Two entity fetches for reviewCount in one request (one per root field).
  const query = '{ topProducts(first: 2) { upc reviewCount } product(upc: "3") { reviewCount } }';

  before(async () => {
    stack = await startStack({ noGateway: true });
    next = await startSubgraphProc('reviews');
    writeFileAtomic(
      stack.supergraphFile,
      composeOrThrow([
        ...allSubgraphs.map((n) => ({ name: n, url: stack.subgraphs[n].url, sdl: exampleSdl(n) })),
        { name: 'reviewsnext', url: next.url, sdl: nextSdl },
      ]),
    );
  });
  after(async () => {
    await next?.proc.kill();
    await stack?.[Symbol.asyncDispose]();
  });

  /** Request ids whose fetches reached a process (the transport sends `x-request-id`). */
  const requestIds = async (p: RunningSubgraphProc) =>
    (await p.stats()).received.filter((r) => r.query.includes('reviewCount')).map((r) => r.headers['x-request-id']!);

  it('percent(50) sends about half of the requests to the new subgraph, every fetch of a request on one side', async () => {
    const gw = await stack.startGateway();
    await Promise.all([stack.subgraphs.reviews.resetStats(), next.resetStats()]);
    const expected = (await gql(gw.url, { query })).body;
    assert.deepEqual(expected, {
      data: {
        topProducts: [
          { upc: '1', reviewCount: expected.data.topProducts[0].reviewCount },
          { upc: '2', reviewCount: expected.data.topProducts[1].reviewCount },
        ],
        product: { reviewCount: expected.data.product.reviewCount },
      },
    });
    const total = 200;
    for (let i = 0; i < total; i++)
      assert.deepEqual((await gql(gw.url, { query }, { 'x-request-id': `req-${i}` })).body, expected);
    const onNew = await requestIds(next);
    const onOld = await requestIds(stack.subgraphs.reviews);
    const newIds = new Set(onNew.filter((id) => id.startsWith('req-')));
    const oldIds = new Set(onOld.filter((id) => id.startsWith('req-')));
    assert.deepEqual(
      [...newIds].filter((id) => oldIds.has(id)),
      [],
      'no request had fetches on both sides',
    );
    assert.equal(newIds.size + oldIds.size, total);
    // Both root fields' entity fetches of a request went to the side its draw chose: as many per request on either side.
    const perRequest = new Map<string, number>();
    for (const id of [...onNew, ...onOld]) if (id.startsWith('req-')) perRequest.set(id, (perRequest.get(id) ?? 0) + 1);
    assert.deepEqual(new Set(perRequest.values()), new Set([Math.max(...perRequest.values())]));
    const share = (newIds.size * 100) / total;
    console.log(`percent(50): ${newIds.size} of ${total} requests served by the new subgraph (${share} %)`);
    assert.ok(share >= 38 && share <= 62, `${share} % on the new subgraph`);
    await gw.proc.kill();
  });

  it('a custom label switched on by a header moves its field for that request only', async () => {
    const gw = await stack.startGateway({
      progressiveOverride: { labels: { beta: [{ header: 'x-beta', equals: 'on' }] } },
    });
    const q = '{ product(upc: "1") { averageRating } }';
    await Promise.all([stack.subgraphs.reviews.resetStats(), next.resetStats()]);
    const plain = (await gql(gw.url, { query: q })).body;
    for (let i = 0; i < 10; i++) assert.deepEqual((await gql(gw.url, { query: q }, { 'x-beta': 'on' })).body, plain);
    for (let i = 0; i < 10; i++) assert.deepEqual((await gql(gw.url, { query: q }, { 'x-beta': 'off' })).body, plain);
    const rating = (p: RunningSubgraphProc) =>
      p.stats().then((s) => s.received.filter((r) => r.query.includes('averageRating')).length);
    assert.equal(await rating(next), 10);
    assert.equal(await rating(stack.subgraphs.reviews), 11);
    assert.equal(await metric(gw.metricsUrl, 'tessera_override_label_requests_total', { label: 'beta' }), 10);
    await gw.proc.kill();
  });
});
