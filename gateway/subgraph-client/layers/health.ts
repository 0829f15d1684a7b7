import { recordFetch } from '../../observability/subgraph-health.ts';
import type { FetchLayer } from '../fetch.ts';

/**
 * Feeds the subgraph health view (observability/subgraph-health.ts): each fetch's duration,
 * retries included, and its failure code. Below dedupe, so a shared request counts once.
 */
export const health: FetchLayer = (next, { settings, metrics }) => {
  const record = metrics.health.of(settings.name);
  return async (request) => {
    const started = performance.now();
    const answer = await next(request);
    recordFetch(record, performance.now() - started, answer.ok ? null : answer.failure.code);
    return answer;
  };
};
