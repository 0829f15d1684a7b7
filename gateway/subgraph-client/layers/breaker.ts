import CircuitBreaker from 'opossum';
import { classifyFailure, errorCode } from '../classify-failure.ts';
import type { FetchLayer, SubgraphAnswer, SubgraphFailed, SubgraphRequest } from '../fetch.ts';

const STATE = { close: 0, halfOpen: 1, open: 2 } as const;

/** How a failed attempt reaches opossum, which counts only rejections. */
class CountedFailure extends Error {
  readonly answer: SubgraphFailed;
  constructor(answer: SubgraphFailed) {
    super(answer.failure.cause);
    this.answer = answer;
  }
}

/**
 * One opossum breaker per subgraph, around each attempt (not each fetch: three failed attempts
 * are three failures). Timeouts are the deadline layer's, so opossum's timer is off. While open,
 * an attempt fails at once with SUBGRAPH_CIRCUIT_OPEN and nothing below runs; that failure is
 * marked never-sent but not transient, so the retry layer stops too.
 */
export const breaker: FetchLayer = (next, { settings, metrics, log, onClose }) => {
  const b = settings.breaker;
  if (!b.enabled) return next;
  const subgraph = settings.name;
  const circuit = new CircuitBreaker<[SubgraphRequest], SubgraphAnswer>(
    async (request) => {
      const answer = await next(request);
      if (!answer.ok) throw new CountedFailure(answer);
      return answer;
    },
    {
      timeout: false,
      errorThresholdPercentage: b.errorThresholdPercentage,
      volumeThreshold: b.volumeThreshold,
      rollingCountTimeout: b.rollingWindowMs,
      rollingCountBuckets: 10,
      resetTimeout: b.resetTimeoutMs,
      enableSnapshots: false,
      name: subgraph,
      // An answer over the size cap is about the query (it asked for too much), not the subgraph's
      // health: counting it would let one oversized query shape open the circuit for every field.
      errorFilter: (err: unknown) => err instanceof CountedFailure && err.answer.failure.code === 'SUBGRAPH_RESPONSE_TOO_LARGE',
    },
  );
  metrics.breakerState.set({ subgraph }, STATE.close);
  for (const state of ['open', 'halfOpen', 'close'] as const) {
    circuit.on(state as 'open', () => {
      metrics.breakerState.set({ subgraph }, STATE[state]);
      metrics.breakerTransitions.inc({ subgraph, state });
      const stats = circuit.stats;
      log[state === 'open' ? 'warn' : 'info']({ subgraph, state, failures: stats.failures, fires: stats.fires }, `circuit breaker ${state === 'halfOpen' ? 'half-open' : state === 'close' ? 'closed' : 'open'}`);
    });
  }
  onClose(() => circuit.shutdown());

  // The circuit's own refusals (open; shut down with the client) never reached the subgraph.
  const refused = (err: unknown): SubgraphAnswer => {
    if (err instanceof CountedFailure) return err.answer;
    const code = errorCode(err);
    return { ok: false, failure: classifyFailure(subgraph, err), retry: { transient: false, neverSent: code === 'EOPENBREAKER', reason: code } };
  };
  return (request) => circuit.fire(request).catch(refused);
};
