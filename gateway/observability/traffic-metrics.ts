import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Metrics of traffic management (subgraph instances, canary, mirror, progressive override): the
 * `instance` label takes only configured instances' hosts, `role` is `stable` or `canary`.
 */
export class TrafficMetrics {
  readonly instanceAttempts: Histogram<'subgraph' | 'instance' | 'role' | 'outcome'>;
  readonly instanceEjected: Gauge<'subgraph' | 'instance' | 'role'>;
  readonly instanceEjections: Counter<'subgraph' | 'instance' | 'role' | 'reason'>;
  readonly canaryDiverted: Counter<'subgraph'>;
  readonly mirrorRequests: Counter<'subgraph' | 'outcome'>;
  readonly mirrorDuration: Histogram<'subgraph'>;
  readonly overrideRequests: Counter<'label'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.instanceAttempts = new Histogram({
      name: 'tessera_subgraph_instance_attempt_duration_seconds',
      help: 'Attempts per subgraph instance (subgraphs with several instances, a canary or a mirror), by role (stable, canary) and outcome (success, or the error code): judge a canary by comparing the roles.',
      labelNames: ['subgraph', 'instance', 'role', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.instanceEjected = new Gauge({
      name: 'tessera_subgraph_instance_ejected',
      help: 'Whether outlier detection has ejected the instance now (1) or not (0).',
      labelNames: ['subgraph', 'instance', 'role'] as const,
      registers,
    });
    this.instanceEjections = new Counter({
      name: 'tessera_subgraph_instance_ejections_total',
      help: 'Outlier ejections by instance and reason: consecutive (failures in a row), error_rate, probation (failed again right after readmission).',
      labelNames: ['subgraph', 'instance', 'role', 'reason'] as const,
      registers,
    });
    this.canaryDiverted = new Counter({
      name: 'tessera_subgraph_canary_diverted_total',
      help: "Attempts meant for the canary that went to a stable instance because the canary's circuit was open or it was ejected.",
      labelNames: ['subgraph'] as const,
      registers,
    });
    this.mirrorRequests = new Counter({
      name: 'tessera_subgraph_mirror_requests_total',
      help: 'Mirrored query copies by outcome: same / different (JSON compared with the real answer), status_mismatch, sent (not compared), failed (error or timeout), dropped (maxConcurrency in flight).',
      labelNames: ['subgraph', 'outcome'] as const,
      registers,
    });
    this.mirrorDuration = new Histogram({
      name: 'tessera_subgraph_mirror_duration_seconds',
      help: 'Duration of mirrored copies (compare with the stable role of tessera_subgraph_instance_attempt_duration_seconds).',
      labelNames: ['subgraph'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.overrideRequests = new Counter({
      name: 'tessera_override_label_requests_total',
      help: 'Requests with a configured progressive-override label switched on (progressiveOverride.labels), by label.',
      labelNames: ['label'] as const,
      registers,
    });
  }
}
