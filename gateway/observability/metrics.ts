import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PolicyMetrics } from '../../policies/policy.ts';
import { SubgraphHealth } from './subgraph-health.ts';

/**
 * Every metric Tessera exports; docs/metrics.md is generated from this registry (`npm run docs`), so
 * `help` is the documentation. One instance per gateway, so tests and several gateways in one
 * process never share counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'tessera_requests_total',
    help: 'Every request to /graphql, counted once with the answer the client got (after every patch), by operation type and outcome: success, partial (data and errors, e.g. fields the authorization filter removed) or error; operation_type none when refused before an operation was chosen (401, CSRF, media type, parse).',
    labelNames: ['operation_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly requestDuration: Histogram<string>;
  readonly inFlight = new Gauge({
    name: 'tessera_http_in_flight_requests',
    help: 'HTTP requests being served.',
    registers: [this.registry],
  });
  /** Read at scrape time from the public listener (set by http/server.ts). */
  openConnectionCount: () => number = () => 0;
  readonly openConnections: Gauge = new Gauge({
    name: 'tessera_http_open_connections',
    help: 'Open client connections on the public listener (compare with server.maxConnections).',
    registers: [this.registry],
    collect: (): void => this.openConnections.set(this.openConnectionCount()),
  });
  readonly connectionsDropped = new Counter({
    name: 'tessera_http_connections_dropped_total',
    help: 'Client connections closed on accept because server.maxConnections were open.',
    registers: [this.registry],
  });
  readonly subgraphDuration = new Histogram({
    name: 'tessera_subgraph_request_duration_seconds',
    help: 'Subgraph fetch duration, retries included, by subgraph and outcome (success, or the error code).',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly subgraphRetries = new Counter({
    name: 'tessera_subgraph_retries_total',
    help: 'Subgraph retries by subgraph and the failure that caused them (ECONNREFUSED, HTTP_503, ATTEMPT_TIMEOUT...).',
    labelNames: ['subgraph', 'reason'] as const,
    registers: [this.registry],
  });
  readonly subgraphRetryBudgetExhausted = new Counter({
    name: 'tessera_subgraph_retry_budget_exhausted_total',
    help: "Retries not attempted because the subgraph's retry budget was spent.",
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly subgraphTimeouts = new Counter({
    name: 'tessera_subgraph_timeouts_total',
    help: 'Subgraph attempts that timed out.',
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly breakerState = new Gauge({
    name: 'tessera_subgraph_breaker_state',
    help: 'Circuit breaker state per subgraph: 0 closed, 1 half-open, 2 open.',
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  /** Per subgraph: breaker state, last failure, recent latency (for spans, `/ready` and the health view). */
  readonly health = new SubgraphHealth();
  readonly breakerTransitions = new Counter({
    name: 'tessera_subgraph_breaker_transitions_total',
    help: 'Circuit breaker state changes per subgraph, by new state (each is also logged).',
    labelNames: ['subgraph', 'state'] as const,
    registers: [this.registry],
  });
  readonly subgraphInFlight = new Gauge({
    name: 'tessera_subgraph_in_flight_requests',
    help: 'Subgraph requests in flight (deduplicated requests count once).',
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly dedupeHits = new Counter({
    name: 'tessera_subgraph_dedupe_hits_total',
    help: 'Subgraph fetches served by an identical request already in flight.',
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly subgraphInvalidResponses = new Counter({
    name: 'tessera_subgraph_invalid_responses_total',
    help: 'Subgraph answers with values of the wrong shape (nulled with SUBGRAPH_INVALID_RESPONSE).',
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly supergraphGeneration = new Gauge({
    name: 'tessera_supergraph_generation',
    help: 'Generation of the loaded supergraph (1 at start, +1 per accepted reload).',
    registers: [this.registry],
  });

  readonly supergraphGenerationsLive = new Gauge({
    name: 'tessera_supergraph_generations',
    help: 'Supergraph generations not yet closed: the current one and superseded ones still draining.',
    registers: [this.registry],
  });
  readonly supergraphDrainTimeouts = new Counter({
    name: 'tessera_supergraph_drain_timeouts_total',
    help: 'Superseded generations closed by supergraph.reloadDrainTimeoutMs with requests still running.',
    registers: [this.registry],
  });
  readonly subgraphClients = new Gauge({
    name: 'tessera_subgraph_clients',
    help: 'Live subgraph clients (one connection pool each) per subgraph; more than one only while a reload that changed its URL drains.',
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly supergraphVersion = new Gauge({
    name: 'tessera_supergraph_registry_version',
    help: 'Registry version of the loaded supergraph (when it comes from supergraph.registry).',
    registers: [this.registry],
  });
  readonly policyDuration = new Histogram({
    name: 'tessera_policy_duration_seconds',
    help: 'Time spent in each plugin hook (policies and features), by plugin and phase (request, operation, refused, response).',
    labelNames: ['policy', 'phase'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
    registers: [this.registry],
  });

  /** `labels`: the optional labels of the request histogram (`metrics.labels`). */
  constructor(labels: { operation?: boolean; client?: boolean } = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_process_' });
    this.requestDuration = new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'Every /graphql request, from its first byte to the answer, by operation type (none when refused before one was chosen), outcome (success; partial: data and errors; refused: no operation ran, e.g. 400, 401, 429; error: a 5xx or data null) and status class (2xx, 4xx, 5xx). With `metrics.labels.operation` / `.client`, also by operation name and client name (each capped at `metrics.labels.maxValues` values; later ones are `other`).',
      labelNames: [
        'operation_type',
        'outcome',
        'status_class',
        ...(labels.operation ? ['operation'] : []),
        ...(labels.client ? ['client'] : []),
      ],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /** Lets policy modules add their own metrics without importing prom-client's registry. */
  forPolicies(): PolicyMetrics {
    const registers = [this.registry];
    return {
      counter: (name, help, labelNames = []) => {
        const c = new Counter({ name, help, labelNames: [...labelNames], registers });
        return { inc: (labels = {}, value = 1) => c.inc(labels, value) };
      },
      histogram: (name, help, buckets) => {
        const h = new Histogram({ name, help, buckets, registers });
        return { observe: (v) => h.observe(v) };
      },
    };
  }
}
