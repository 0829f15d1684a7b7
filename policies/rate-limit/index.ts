import { createHash } from 'node:crypto';
import { tesseraError } from '../../gateway/errors/tessera-error.ts';
import type { OperationPhase, Policy, PolicyModule } from '../policy.ts';
import { estimatedCost } from '../slots.ts';
import { rateLimitConfigSchema, type RateLimitConfig } from './config.ts';
import { identityResolver, UnknownApiKeyError, type BilledIdentity } from './identity.ts';
import { MemoryStore } from './memory-store.ts';
import { RedisStore } from './redis-store.ts';
import type { LimitRequest, LimitResult, RateLimitStore } from './store.ts';

/**
 * Cost-based rate limits per identity: each operation spends its estimated cost (at least 1) from
 * the caller's budget for the window, and optionally one request from a request budget. Budgets
 * live in Redis when configured (shared by every replica), else in memory.
 */
export const rateLimitPolicy: PolicyModule<RateLimitConfig> = {
  key: 'rateLimit',
  configSchema: rateLimitConfigSchema,
  create(config, deps) {
    const useRedis = config.store === 'redis' || (config.store === 'auto' && deps.redis !== null);
    if (useRedis && !deps.redis) throw new Error('store is `redis` but no top-level `redis` is configured');
    const store: RateLimitStore = useRedis ? new RedisStore(deps.redis!) : new MemoryStore();
    const who = identityResolver({
      sources: config.identifyBy,
      trustedProxies: config.trustedProxies,
      ipv6PrefixLength: config.ipv6PrefixLength,
      apiKeys: config.apiKeys,
    });
    const windowSec = Math.ceil(config.windowMs / 1000);
    const decisions = deps.metrics.counter(
      'tessera_rate_limit_decisions_total',
      'Rate-limit decisions by outcome (allowed, limited, refused_charged, unknown_api_key, store_error).',
      ['outcome'],
    );
    let healthy = true;
    deps.log.info(
      {
        store: useRedis ? 'redis' : 'memory',
        failureMode: config.failureMode,
        apiKeys: config.apiKeys?.length ?? null,
      },
      'rate limits enabled',
    );
    if (!config.apiKeys && config.identifyBy.some((s) => typeof s === 'object' && 'header' in s)) {
      deps.log.warn(
        'rate limits: `identifyBy` names a header but no `apiKeys` are configured, so such callers are billed by client IP (an unverified header cannot open a budget of its own)',
      );
    }

    // Per tier, once: the budgets and the RateLimit-Policy header every response of that tier carries.
    const tierOf = (tier: string, b: { costPerWindow: number; requestsPerWindow?: number | undefined }) => ({
      tier,
      costPerWindow: b.costPerWindow,
      requestsPerWindow: b.requestsPerWindow,
      policyHeader: [
        `"cost";q=${b.costPerWindow};w=${windowSec}`,
        ...(b.requestsPerWindow ? [`"requests";q=${b.requestsPerWindow};w=${windowSec}`] : []),
      ].join(', '),
    });
    const defaultTier = tierOf('default', config);
    const plans = new Map(Object.entries(config.tiers?.plans ?? {}).map(([name, b]) => [name, tierOf(name, b)]));
    const budgetFor = (identity: BilledIdentity, claims: Readonly<Record<string, unknown>>) => {
      const plan = identity.apiKey ? identity.apiKey.tier : config.tiers ? claims[config.tiers.claim] : undefined;
      return (typeof plan === 'string' ? plans.get(plan) : undefined) ?? defaultTier;
    };

    /**
     * Resolves the budget and tries to spend `cost`: null when the store failed (failureMode applies),
     * `results: null` when `cost` exceeds the whole budget (nothing spent, it can never fit).
     */
    const spend = async (op: OperationPhase, cost: number) => {
      const identity = who.resolve(op);
      const budget = budgetFor(identity, op.identity.claims);
      // One hash tag per identity: both keys land in the same Redis Cluster slot.
      const base = `rl:{${budget.tier}:${createHash('sha256').update(identity.key).digest('base64url').slice(0, 22)}}`;
      const limits: LimitRequest[] = [
        { key: `${base}:cost`, amount: cost, limit: budget.costPerWindow, windowMs: config.windowMs },
      ];
      if (budget.requestsPerWindow)
        limits.push({ key: `${base}:requests`, amount: 1, limit: budget.requestsPerWindow, windowMs: config.windowMs });
      op.setResponseHeader('ratelimit-policy', budget.policyHeader);
      if (cost > budget.costPerWindow) return { budget, results: null };
      let results: LimitResult[];
      try {
        results = await store.consume(limits);
      } catch (err) {
        decisions.inc({ outcome: 'store_error' });
        if (healthy) {
          healthy = false;
          op.log.warn(
            { err: (err as Error).message, failureMode: config.failureMode },
            `rate-limit store unavailable; ${config.failureMode === 'open' ? 'admitting requests unmetered' : 'refusing requests'} until it recovers`,
          );
        }
        return null;
      }
      if (!healthy) {
        healthy = true;
        op.log.info('rate-limit store recovered; limits apply again');
      }
      op.setResponseHeader(
        'ratelimit',
        results
          .map((r, i) => `"${i === 0 ? 'cost' : 'requests'}";r=${r.remaining};t=${Math.ceil(r.resetMs / 1000)}`)
          .join(', '),
      );
      return { budget, results };
    };

    const policy: Policy = {
      name: 'rate-limit',
      async onOperation(op) {
        const cost = Math.max(1, op.get(estimatedCost) ?? 1);
        const spent = await spend(op, cost);
        if (spent === null) {
          if (config.failureMode === 'closed') {
            throw tesseraError('RATE_LIMIT_UNAVAILABLE', 'Rate limits cannot be checked right now; retry shortly.', {
              headers: { 'retry-after': '1' },
            });
          }
          return;
        }
        const { budget, results } = spent;
        if (results === null) {
          decisions.inc({ outcome: 'limited' });
          throw tesseraError(
            'RATE_LIMITED',
            `Operation cost ${cost} exceeds the whole budget of ${budget.costPerWindow} per ${windowSec} s; it can never be admitted.`,
            { headers: { 'retry-after': String(windowSec) } },
          );
        }
        if (results.every((r) => r.allowed)) {
          decisions.inc({ outcome: 'allowed' });
          return;
        }
        decisions.inc({ outcome: 'limited' });
        const retryAfter = Math.max(1, Math.ceil(Math.max(...results.map((r) => r.retryAfterMs)) / 1000));
        const exhausted = results[0]!.allowed ? 'request' : 'cost';
        throw tesseraError(
          'RATE_LIMITED',
          `Rate limit exceeded: this operation costs ${cost} and the ${exhausted} budget for this window is spent. Retry in ${retryAfter} s.`,
          {
            headers: { 'retry-after': String(retryAfter) },
            extensions: { cost },
          },
        );
      },
      // An earlier policy refused the operation. Its refusal is what the client gets, whatever the
      // budget says (an over-budget caller learns what is wrong with the document, with `RateLimit`
      // showing r=0); the budget pays `refusedCost` when it has room, so repeating refused documents
      // keeps it drained and the caller's next admissible operation gets 429.
      async onRefused(op) {
        if (config.refusedCost === 0) return;
        const spent = await spend(op, config.refusedCost);
        if (spent?.results?.every((r) => r.allowed)) decisions.inc({ outcome: 'refused_charged' });
      },
      close: () => store.close(),
    };
    if (config.apiKeys) {
      // Before parsing: a request with a key nobody issued costs a hash and a map lookup.
      policy.onRequest = (req) => {
        try {
          who.checkApiKey(req);
        } catch (err) {
          if (!(err instanceof UnknownApiKeyError)) throw err;
          decisions.inc({ outcome: 'unknown_api_key' });
          req.log.info({ requestId: req.requestId }, 'unknown API key refused');
          throw tesseraError('UNAUTHENTICATED', err.message);
        }
      };
    }
    return policy;
  },
};
