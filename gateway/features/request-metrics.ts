import type { Metrics } from '../observability/metrics.ts';
import type { GatewayPlugin } from '../pipeline/plugin.ts';

/**
 * `tessera_requests_total{operation_type, outcome}`: every /graphql request once, with the outcome
 * the client got. It runs in onResponse, after every done-callback, so an answer the
 * authorization filter patched counts as `partial`, and refusals before any operation (401, CSRF,
 * a refused media type) count with `operation_type="none"`.
 */
export function requestMetrics(metrics: Metrics): GatewayPlugin {
  // Label children resolved once: prom-client hashes label objects on every un-cached call.
  const counters = new Map<string, { inc(): void }>();
  return {
    name: 'request-metrics',
    onResponse({ result, operationType }) {
      const outcome = !result?.errors?.length ? 'success' : result.data ? 'partial' : 'error';
      const type = operationType ?? 'none';
      const key = `${type} ${outcome}`;
      let c = counters.get(key);
      if (!c) counters.set(key, (c = metrics.requests.labels({ operation_type: type, outcome })));
      c.inc();
    },
  };
}
