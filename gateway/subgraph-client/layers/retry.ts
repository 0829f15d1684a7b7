import type { ClassifiedFailure } from '../classify-failure.ts';
import type { FetchLayer, SubgraphAnswer, SubgraphFailed } from '../fetch.ts';
import { RetryBudget } from '../retry-budget.ts';
import { backoffMs, mayRetry, type AttemptFailure } from '../retry-policy.ts';

/**
 * Attempts under one overall deadline (`timeoutMs` from the first attempt; it sets the request's
 * `deadlineAt`, which the deadline layer enforces per attempt). A failed attempt is retried when
 * the policy allows it for the operation type (a mutation only when it provably never left),
 * attempts and time remain, and the retry budget has room. It also keeps the per-fetch duration
 * and in-flight metrics: a fetch, for them, is all of its attempts.
 */
export const retry: FetchLayer = (next, { settings, metrics, log }) => {
  const { name, retry: policy, timeoutMs } = settings;
  const budget = new RetryBudget({
    ratio: policy.budgetRatio,
    minPerSecond: policy.budgetMinPerSecond,
    windowMs: policy.budgetWindowMs,
  });
  // Label children resolved once: prom-client hashes label objects on every un-cached call.
  const success = metrics.subgraphDuration.labels({ subgraph: name, outcome: 'success' });
  const inFlight = metrics.subgraphInFlight.labels({ subgraph: name });
  const budgetExhausted = metrics.subgraphRetryBudgetExhausted.labels({ subgraph: name });
  const failed = (code: ClassifiedFailure['code']) =>
    metrics.subgraphDuration.labels({ subgraph: name, outcome: code });

  return async (request) => {
    const isMutation = request.operationType !== 'query';
    const started = performance.now();
    const deadlineAt = (request.deadlineAt = started + timeoutMs);
    budget.recordRequest();
    inFlight.inc();
    let attempts = 0;
    try {
      for (;;) {
        attempts++;
        const answer: SubgraphAnswer = await next(request);
        if (answer.ok) {
          success.observe((performance.now() - started) / 1000);
          return answer;
        }
        const why: AttemptFailure = answer.retry ?? { transient: false, neverSent: false, reason: answer.failure.code };
        const done = (): SubgraphFailed => {
          failed(answer.failure.code).observe((performance.now() - started) / 1000);
          return attempts > 1
            ? {
                ...answer,
                failure: { ...answer.failure, cause: `${answer.failure.cause} (after ${attempts} attempts)` },
              }
            : answer;
        };
        if (attempts >= policy.maxAttempts || performance.now() >= deadlineAt || !mayRetry(why, isMutation))
          return done();
        const delay = backoffMs(attempts, policy, why);
        if (performance.now() + delay >= deadlineAt) return done();
        if (!budget.tryRetry()) {
          budgetExhausted.inc();
          return done();
        }
        metrics.subgraphRetries.inc({ subgraph: name, reason: why.reason });
        (request.log ?? log).debug(
          { subgraph: name, attempt: attempts, reason: why.reason, delayMs: delay, requestId: request.requestId },
          'retrying subgraph request',
        );
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      }
    } finally {
      inFlight.dec();
    }
  };
};
