import { attemptTimeout, deadlineExceeded } from '../classify-failure.ts';
import type { FetchLayer } from '../fetch.ts';

/**
 * Ends each attempt at the sooner of `attemptTimeoutMs` and the fetch's `deadlineAt` (set by the
 * retry layer), by aborting the signal it hands down. Our own timer: undici's are coarse (~1 s).
 * The abort reason says which limit ended the attempt, which decides whether it is retried. Below
 * the breaker, so a timed-out attempt counts as the subgraph's failure.
 */
export const deadline: FetchLayer = (next, { settings, metrics }) => {
  const { attemptTimeoutMs, timeoutMs } = settings;
  const timeouts = metrics.subgraphTimeouts.labels({ subgraph: settings.name });
  return async (request) => {
    const remaining = request.deadlineAt - performance.now();
    const abort = new AbortController();
    const timer =
      remaining <= attemptTimeoutMs
        ? setTimeout(() => abort.abort(deadlineExceeded(timeoutMs)), Math.max(0, remaining))
        : setTimeout(() => abort.abort(attemptTimeout(attemptTimeoutMs)), attemptTimeoutMs);
    try {
      const answer = await next({ ...request, signal: abort.signal });
      if (!answer.ok && answer.failure.code === 'SUBGRAPH_TIMEOUT') timeouts.inc();
      return answer;
    } finally {
      clearTimeout(timer);
    }
  };
};
