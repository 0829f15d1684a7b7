import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../gateway/config/load.ts';
import { resolveSubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { overrideOf, percentActive, progressiveOverride } from '../../gateway/features/progressive-override.ts';
import { createLogger } from '../../gateway/observability/log.ts';
import { Metrics } from '../../gateway/observability/metrics.ts';
import type { OperationPhase } from '../../gateway/pipeline/plugin.ts';
import { RequestContext } from '../../gateway/pipeline/request-context.ts';
import { subgraphRequest, type ClientScope, type SubgraphRequest } from '../../gateway/subgraph-client/fetch.ts';
import { canarySide, instanceLabels } from '../../gateway/subgraph-client/traffic/instances.ts';
import { OutlierState } from '../../gateway/subgraph-client/traffic/outlier.ts';
import { onCanary, stickyBucket } from '../../gateway/subgraph-client/traffic/sticky.ts';

const problems = (subgraphs: unknown, extra: Record<string, unknown> = {}) => {
  try {
    parseConfig({ supergraph: { file: 'x' }, subgraphs, ...extra }, { source: 'tessera.yaml', env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('traffic config', () => {
  it('takes several instances as `urls` or a list `url`, the first being `url`', () => {
    const config = parseConfig({
      supergraph: { file: 'x' },
      subgraphs: {
        reviews: { urls: ['http://r1:4003/graphql', 'http://r2:4003/graphql'] },
        products: { url: ['http://p1/graphql', 'http://p2/graphql'], balance: 'power-of-two' },
      },
    });
    const reviews = resolveSubgraphSettings(config, 'reviews', 'http://localhost:4003/graphql');
    assert.equal(reviews.url, 'http://r1:4003/graphql');
    assert.deepEqual(reviews.instances, ['http://r1:4003/graphql', 'http://r2:4003/graphql']);
    const products = resolveSubgraphSettings(config, 'products', 'http://localhost/graphql');
    assert.deepEqual(products.instances, ['http://p1/graphql', 'http://p2/graphql']);
    assert.equal(products.balance, 'power-of-two');
    assert.deepEqual(resolveSubgraphSettings(config, 'accounts', 'http://a/graphql').instances, ['http://a/graphql']);
  });

  it('refuses at the door what cannot be routed, each with its key', () => {
    assert.deepEqual(
      problems({
        all: { urls: ['http://a/graphql'], canary: { url: 'http://c/graphql', weight: 5 } },
        reviews: {
          url: 'http://r1/graphql',
          urls: ['http://r1/graphql', 'http://r2/graphql', 'http://r1/graphql/'],
          canary: { url: 'http://r2/graphql', weight: 101 },
          mirror: { url: 'ftp://m/graphql', ratio: 2 },
        },
        products: {
          urls: ['http://p1/graphql', 'http://p2/graphql'],
          canary: { url: 'http://p3/graphql', weight: 10, stickyBy: { cookie: 'x' } },
        },
        inventory: {
          url: ['http://i1/graphql', 'not a url'],
          canary: { url: 'http://i2/graphql', weight: 10 },
          mirror: { url: 'http://i2/graphql' },
        },
      }),
      [
        'subgraphs.reviews.canary.weight: Too big: expected number to be <=100',
        'subgraphs.reviews.mirror.url: Invalid URL',
        'subgraphs.reviews.mirror.ratio: Too big: expected number to be <=1',
        'subgraphs.products.canary.stickyBy: Invalid input',
        'subgraphs.inventory.url.1: Invalid URL',
      ],
    );
    // The rules between keys run once every value parses.
    assert.deepEqual(
      problems({
        all: { urls: ['http://a/graphql'], canary: { url: 'http://c/graphql', weight: 5 } },
        reviews: {
          url: 'http://r1/graphql',
          urls: ['http://r1/graphql', 'http://r2/graphql', 'http://r1/graphql/'],
          canary: { url: 'http://r2/graphql', weight: 10 },
        },
        inventory: {
          url: ['http://i1/graphql', 'http://i3/graphql'],
          canary: { url: 'http://i2/graphql', weight: 10 },
          mirror: { url: 'http://i2/graphql' },
        },
      }),
      [
        'subgraphs.all.urls: `urls` can only be set per subgraph, not under `all`',
        'subgraphs.all.canary: `canary` can only be set per subgraph, not under `all`',
        'subgraphs.reviews.urls: set `url` or `urls`, not both',
        'subgraphs.reviews.urls.2: the same instance as entry 0',
        'subgraphs.reviews.canary.url: the same as instance 1: a canary must be a different deployment',
        'subgraphs.inventory.mirror.url: the same as the canary: mirror a deployment that takes no real traffic',
      ],
    );
  });

  it('refuses override labels that are not labels, and rules that are neither header nor claim', () => {
    assert.deepEqual(
      problems(
        {},
        { progressiveOverride: { labels: { 'bad label': [{ header: 'x-beta' }], beta: [{ cookie: 'b' }] } } },
      ),
      [
        'progressiveOverride.labels.bad label: not allowed as a name here: a label as written in `@override(label:)`',
        'progressiveOverride.labels.beta.0: Invalid input',
      ],
    );
  });
});

describe('outlier ejection', () => {
  const settings = {
    enabled: true,
    consecutiveFailures: 3,
    errorRatePercent: 50,
    minRequests: 10,
    windowMs: 10_000,
    baseEjectionMs: 1000,
    maxEjectionMs: 2500,
    maxEjectedPercent: 50,
  };

  it('ejects after N failures in a row, with a growing, capped backoff and probation after readmission', () => {
    const o = new OutlierState(settings);
    assert.equal(o.failure(1), null);
    assert.equal(o.failure(2), null);
    o.success(3);
    assert.equal(o.failure(4), null);
    assert.equal(o.failure(5), null);
    assert.equal(o.failure(6), 'consecutive');
    assert.equal(o.eject(6), 1000);
    assert.equal(o.isEjected(1005), true);
    assert.equal(o.isEjected(1006), false);
    // One failure right after readmission ejects again, for twice as long.
    assert.equal(o.failure(1007), 'probation');
    assert.equal(o.eject(1007), 2000);
    assert.equal(o.isEjected(3007), false);
    assert.equal(o.failure(3008), 'probation');
    assert.equal(o.eject(3008), 2500, 'capped at maxEjectionMs');
    assert.equal(o.isEjected(5508), false);
    // A success ends probation: failures count from zero again.
    o.success(5509);
    assert.equal(o.failure(5510), null);
  });

  it('ejects on the error rate once enough attempts were seen', () => {
    const o = new OutlierState({ ...settings, consecutiveFailures: 100 });
    let reason = null;
    for (let i = 0; i < 10 && !reason; i++) {
      o.success(i * 10);
      reason = o.failure(i * 10 + 5);
    }
    assert.equal(reason, 'error_rate');
  });

  it('never ejects when disabled', () => {
    const o = new OutlierState({ ...settings, enabled: false });
    for (let i = 0; i < 20; i++) assert.equal(o.failure(i), null);
  });
});

describe('canary stickiness', () => {
  it('keeps every caller on the canary when the weight grows (consistent hashing)', () => {
    const users = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
    const at = (w: number) => new Set(users.filter((u) => onCanary(w, stickyBucket('reviews', u))));
    const five = at(5);
    const fifty = at(50);
    assert.deepEqual(
      [...five].filter((u) => !fifty.has(u)),
      [],
    );
    assert.ok(five.size > 200 && five.size < 300, `${five.size} of 5000 at 5 %`);
    assert.ok(fifty.size > 2350 && fifty.size < 2650, `${fifty.size} of 5000 at 50 %`);
    assert.equal(at(0).size, 0);
    assert.equal(at(100).size, 5000);
  });

  it("sets the caller's side before dedupe, and never keeps a client-sent side", async () => {
    const seen: Array<Record<string, string>> = [];
    const layer = canarySide(
      async (r: SubgraphRequest) => {
        seen.push({ ...r.headers });
        return { ok: true, status: 200, text: '{}' };
      },
      {
        settings: {
          name: 'reviews',
          canary: { url: 'http://c/graphql', weight: 50, stickyBy: { header: 'x-user-id' } },
        },
      } as unknown as ClientScope,
    );
    const send = async (incoming: Record<string, string>) => {
      const r = subgraphRequest({
        operationType: 'query',
        query: '{ a }',
        operationName: undefined,
        variables: undefined,
        document: undefined,
        schema: undefined,
        requestId: undefined,
        log: undefined,
        incomingHeaders: incoming,
        context: null,
      });
      r.headers = { 'x-tessera-canary': 'canary' }; // as a broad propagation rule would copy it
      await layer(r);
    };
    const users = Array.from({ length: 50 }, (_, i) => `u${i}`);
    for (const u of users) await send({ 'x-user-id': u });
    await send({});
    const sides = seen.map((h) => h['x-tessera-canary']);
    assert.deepEqual(
      sides.slice(0, 50),
      users.map((u) => (stickyBucket('reviews', u) < 5000 ? 'canary' : 'stable')),
    );
    assert.ok(sides.includes('stable') && sides.includes('canary'));
    assert.equal(sides[50], undefined, 'no key: no side, the client-sent one removed');
  });

  it('labels instances by host, with the path when hosts repeat', () => {
    assert.deepEqual(instanceLabels(['http://a:1/graphql', 'http://b:1/graphql']), ['a:1', 'b:1']);
    assert.deepEqual(instanceLabels(['http://a:1/v1/graphql', 'http://a:1/v2/graphql', 'http://b/graphql']), [
      'a:1/v1/graphql',
      'a:1/v2/graphql',
      'b',
    ]);
  });
});

describe('progressive override decision', () => {
  const metrics = new Metrics();
  const log = createLogger({ level: 'silent', name: 'test' });
  const plugin = progressiveOverride(
    {
      labels: {
        beta: [
          { header: 'x-beta', equals: 'on' },
          { claim: 'groups', equals: 'beta' },
        ],
        staff: [{ claim: 'staff' }],
      },
    },
    metrics,
  );
  const decide = (headers: Record<string, string>, claims: Record<string, unknown> = {}) => {
    const ctx = new RequestContext({ requestId: 'r', method: 'POST', headers, remoteAddress: '127.0.0.1', log });
    ctx.identity = { subject: 's', authenticated: true, scopes: new Set(), claims };
    void plugin.onOperation?.(ctx as unknown as OperationPhase);
    return { decision: overrideOf(ctx) };
  };

  it('switches custom labels on from a header value or a verified claim', () => {
    assert.deepEqual([...decide({ 'x-beta': 'on' }).decision.labels], ['beta']);
    assert.deepEqual([...decide({ 'x-beta': 'off' }).decision.labels], []);
    assert.deepEqual([...decide({}, { groups: ['a', 'beta'], staff: true }).decision.labels], ['beta', 'staff']);
    assert.deepEqual([...decide({}, { staff: false }).decision.labels], []);
  });

  it('draws once per request; percent(N) is active below N', () => {
    const draws = Array.from({ length: 2000 }, () => decide({}).decision.percentage);
    assert.ok(draws.every((d) => d >= 0 && d < 100));
    const half = draws.filter((d) => percentActive('percent(50)', { labels: new Set(), percentage: d })).length;
    assert.ok(half > 900 && half < 1100, `${half} of 2000 active at percent(50)`);
    assert.equal(percentActive('percent(0)', { labels: new Set(), percentage: 0 }), false);
    assert.equal(percentActive('percent(100)', { labels: new Set(), percentage: 99.99 }), true);
    assert.equal(percentActive('beta', { labels: new Set(), percentage: 1 }), null);
    // Without the plugin (no labels configured) the first read draws, and later reads agree.
    const ctx = new RequestContext({ requestId: 'r', method: 'GET', headers: {}, remoteAddress: '', log });
    const first = overrideOf(ctx);
    assert.deepEqual(first.labels, new Set());
    assert.ok(first.percentage >= 0 && first.percentage < 100);
    assert.equal(overrideOf(ctx), first);
  });
});
