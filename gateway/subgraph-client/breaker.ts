import CircuitBreaker from 'opossum';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';

const STATE = { close: 0, halfOpen: 1, open: 2 } as const;

/**
 * One opossum breaker per subgraph. It wraps a single attempt; timeouts are the client's own
 * (undici + deadline), so opossum's timer is off. While open, `fire` rejects at once with
 * code EOPENBREAKER and no request is made.
 */
export function createBreaker<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
  settings: SubgraphSettings,
  deps: { log: Logger; metrics: Metrics },
): CircuitBreaker<A, R> | null {
  const b = settings.breaker;
  if (!b.enabled) return null;
  const breaker = new CircuitBreaker<A, R>(action, {
    timeout: false,
    errorThresholdPercentage: b.errorThresholdPercentage,
    volumeThreshold: b.volumeThreshold,
    rollingCountTimeout: b.rollingWindowMs,
    rollingCountBuckets: 10,
    resetTimeout: b.resetTimeoutMs,
    enableSnapshots: false,
    name: settings.name,
    // An answer over the size cap is about the query (it asked for too much), not the subgraph's
    // health: counting it would let one oversized query shape open the circuit for every field.
    errorFilter: (err: unknown) => (err as { failure?: { code?: string } })?.failure?.code === 'SUBGRAPH_RESPONSE_TOO_LARGE',
  });
  const subgraph = settings.name;
  deps.metrics.breakerState.set({ subgraph }, STATE.close);
  for (const state of ['open', 'halfOpen', 'close'] as const) {
    breaker.on(state as 'open', () => {
      deps.metrics.breakerState.set({ subgraph }, STATE[state]);
      deps.metrics.breakerTransitions.inc({ subgraph, state });
      const stats = breaker.stats;
      deps.log[state === 'open' ? 'warn' : 'info']({ subgraph, state, failures: stats.failures, fires: stats.fires }, `circuit breaker ${state === 'halfOpen' ? 'half-open' : state === 'close' ? 'closed' : 'open'}`);
    });
  }
  return breaker;
}
