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
  const circuit = new CircuitBreaker<[SubgraphRequest], SubgraphAnswer>((request) => next(request).then(counted), {
    timeout: false,
    errorThresholdPercentage: b.errorThresholdPercentage,
    volumeThreshold: b.volumeThreshold,
    rollingCountTimeout: b.rollingWindowMs,
    rollingCountBuckets: 10,
    resetTimeout: b.resetTimeoutMs,
    enableSnapshots: false,
    name: subgraph,
  });
  metrics.breakerState.set({ subgraph }, STATE.close);
  const health = metrics.health.of(subgraph);
  health.breaker = 'closed';
  for (const state of ['open', 'halfOpen', 'close'] as const) {
    circuit.on(state as 'open', () => {
      metrics.breakerState.set({ subgraph }, STATE[state]);
      health.breaker = state === 'halfOpen' ? 'half-open' : state === 'close' ? 'closed' : 'open';
      metrics.breakerTransitions.inc({ subgraph, state });
      const stats = circuit.stats;
      log[state === 'open' ? 'warn' : 'info'](
        { subgraph, state, failures: stats.failures, fires: stats.fires },
        `circuit breaker ${state === 'halfOpen' ? 'half-open' : state === 'close' ? 'closed' : 'open'}`,
      );
    });
  }
  onClose(() => circuit.shutdown());

  // Every rejection comes back as an answer through opossum's fallback, so a fetch through a
  // closed circuit costs no extra promise: the counted failures, and the circuit's own refusals
  // (open), which never reached the subgraph.
  circuit.fallback((_request: SubgraphRequest, err: unknown): SubgraphAnswer => {
    if (err instanceof CountedFailure) return err.answer;
    const code = errorCode(err);
    return {
      ok: false,
      failure: classifyFailure(subgraph, err),
      retry: { transient: false, neverSent: code === 'EOPENBREAKER', reason: code },
    };
  });
  // A shut-down circuit rejects before its fallback; the client is closing, nothing is sent.
  const shutDown: Promise<SubgraphAnswer> = Promise.resolve({
    ok: false,
    failure: classifyFailure(
      subgraph,
      Object.assign(new Error('circuit shut down with its client'), { code: 'ESHUTDOWN' }),
    ),
    retry: { transient: false, neverSent: false, reason: 'ESHUTDOWN' },
  });
  return (request) => (circuit.isShutdown ? shutDown : circuit.fire(request));
};

/**
 * What opossum counts: a rejection. An answer over the size cap is not one: it is about the query
 * (it asked for too much), not the subgraph's health, and counting it would let one oversized
 * query shape open the circuit for every field.
 */
function counted(answer: SubgraphAnswer): SubgraphAnswer {
  if (!answer.ok && answer.failure.code !== 'SUBGRAPH_RESPONSE_TOO_LARGE') throw new CountedFailure(answer);
  return answer;
}
