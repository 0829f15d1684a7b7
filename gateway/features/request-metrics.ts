import type { Config } from '../config/schema.ts';
import { clientName } from '../observability/client-name.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { GatewayPlugin, ResponsePhase } from '../pipeline/plugin.ts';

/**
 * Two views of every /graphql request, both in onResponse, after every done-callback, so an answer
 * the authorization filter patched counts as `partial`, and refusals before any operation (401,
 * CSRF, a refused media type) count with `operation_type="none"`:
 *
 * - `tessera_requests_total{operation_type, outcome}` (success, partial, error);
 * - `tessera_http_request_duration_seconds{operation_type, outcome, status_class}`, the client-facing
 *   latency people alert on, with `refused` told apart from `error`, and optionally `operation` and
 *   `client` labels, each capped (`metrics.labels`).
 */
export function requestMetrics(metrics: Metrics, config?: Pick<Config, 'metrics' | 'telemetry'>): GatewayPlugin {
  // Label children resolved once: prom-client hashes label objects on every un-cached call.
  const counters = new Map<string, { inc(): void }>();
  const histograms = new Map<string, { observe(v: number): void }>();
  const labels = config?.metrics.labels;
  const operations = labels?.operation ? new CappedValues(labels.maxValues) : null;
  const clients = labels?.client ? new CappedValues(labels.maxValues) : null;
  const clientHeader = config?.telemetry.clientHeader ?? 'apollographql-client-name';
  return {
    name: 'request-metrics',
    onResponse(res) {
      const { result, operationType } = res;
      const outcome = !result?.errors?.length ? 'success' : result.data ? 'partial' : 'error';
      const type = operationType ?? 'none';
      const key = `${type} ${outcome}`;
      let c = counters.get(key);
      if (!c) counters.set(key, (c = metrics.requests.labels({ operation_type: type, outcome })));
      c.inc();

      const h: Record<string, string> = {
        operation_type: type,
        outcome: durationOutcome(res),
        status_class: `${Math.floor(res.status / 100)}xx`,
      };
      if (operations) h['operation'] = operations.admit(res.operation?.operationName ?? '');
      if (clients) h['client'] = clients.admit(clientName(res.headers, clientHeader) ?? '');
      const hkey = Object.values(h).join('\n');
      let child = histograms.get(hkey);
      if (!child) histograms.set(hkey, (child = metrics.requestDuration.labels(h)));
      child.observe((performance.now() - res.startedAt) / 1000);
    },
  };
}

/**
 * success: no errors; partial: data and errors; refused: no data at all below 500 (nothing ran:
 * framing, auth, parse, validation, limits, rate limit); error: a 5xx, or execution nulled the root.
 */
function durationOutcome(res: ResponsePhase): string {
  const r = res.result;
  if (res.status >= 500) return 'error';
  if (!r?.errors?.length) return r === null && res.status >= 400 ? 'refused' : 'success';
  if (r.data === undefined) return 'refused';
  return r.data === null ? 'error' : 'partial';
}

/**
 * A label's values, bounded: the first `max` distinct values seen keep their own series, every
 * later one is `other` (a counter's series cannot be re-labelled later, so "top N" is "first N").
 * The empty value is `none` and does not take a slot.
 */
export class CappedValues {
  private readonly admitted = new Set<string>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  admit(value: string): string {
    if (value === '') return 'none';
    if (this.admitted.has(value)) return value;
    if (this.admitted.size >= this.max) return 'other';
    this.admitted.add(value);
    return value;
  }
}
