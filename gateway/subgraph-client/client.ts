import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';
import type { Logger } from '../observability/log.ts';
import { LogThrottle } from '../observability/log-throttle.ts';
import type { Metrics } from '../observability/metrics.ts';
import { internalFailure, type ClassifiedFailure } from './classify-failure.ts';
import {
  compose,
  type ClientScope,
  type FetchLayer,
  type SubgraphFailed,
  type SubgraphFetch,
  type SubgraphRequest,
  type SubgraphResult,
} from './fetch.ts';
import { answerCheck } from './layers/answer-check.ts';
import { breaker } from './layers/breaker.ts';
import { dedupe } from './layers/dedupe.ts';
import { deadline } from './layers/deadline.ts';
import { headers } from './layers/headers.ts';
import { health } from './layers/health.ts';
import { rateCap } from './layers/rate-cap.ts';
import { retry } from './layers/retry.ts';
import { tracingLayers } from './layers/tracing.ts';
import type { SupergraphShapes } from './response-shape.ts';
import { transport } from './transport.ts';
import { canarySide, instanceRouter, routed } from './traffic/instances.ts';
import { stitchedBottom } from '../stitched-sources/adapter.ts';
import type { StitchedSourceDescriptor } from '../stitched-sources/descriptor.ts';

export interface ClientDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** What answers are checked against, per supergraph generation. */
  readonly shapes?: SupergraphShapes | null;
  /** Plugin-supplied layers (the pipeline's `wrapSubgraphFetch`), outermost first. */
  readonly wrap?: readonly FetchLayer[];
  /** `telemetry.tracing.enabled`: add the two tracing layers (layers/tracing.ts). */
  readonly tracing?: boolean;
  /**
   * A plain GraphQL service joined through supergraph.yaml (`kind: graphql`): the stitching
   * adapter sits between the deadline layer and the transport (see stitched-sources/adapter.ts).
   */
  readonly stitched?: StitchedSourceDescriptor | Error;
}

/**
 * The subgraph client, as layers: the first sees each request first and each answer last, and
 * each wraps every layer below it. The order is the behaviour:
 *
 * - rate-cap first: a refused fetch costs nothing else (no headers, no plugin, no body) and is
 *   neither shared with another caller's request nor counted by the retry budget or the breaker.
 * - headers, then the plugin wraps (the pipeline's `wrapSubgraphFetch`, in plugin order): they see
 *   each caller's fetch (dedupe below them has not merged it yet) and edit the headers as they
 *   will be sent (the auth policy replaces client-sent claim headers with verified ones) before
 *   the dedupe key is taken, so callers with different identities never share a request; and they
 *   see the answer as the engine will get it.
 * - answer-check above dedupe: each caller parses its own copy of a shared reply (the engine
 *   merges into the objects it gets) and checks it against its own operation and schema.
 * - dedupe above retry: coalesced callers share one retry loop and one budget, not one each.
 * - health between them: the health view counts a shared request once, with its retries.
 * - retry above breaker: each attempt passes the breaker, so an open circuit ends the retries,
 *   and the breaker counts attempts, not fetches.
 * - deadline below breaker: a timed-out attempt counts as the subgraph's failure.
 * - transport at the bottom: the undici pool, the size cap, the body read.
 *
 * With tracing on, two more: `trace-fetch` first (a span per fetch, whatever answers it) and
 * `trace-attempt` between retry and breaker (a client span per attempt, and its `traceparent`
 * header; below dedupe, so the header never splits a dedupe key).
 */
export function clientLayers(
  deps: Pick<ClientDeps, 'shapes' | 'wrap' | 'tracing'>,
): Array<{ readonly name: string; readonly layer: FetchLayer }> {
  const traced = deps.tracing ? tracingLayers() : null;
  return [
    ...(traced ? [{ name: 'trace-fetch', layer: traced.fetch }] : []),
    { name: 'rate-cap', layer: rateCap },
    { name: 'headers', layer: headers },
    ...(deps.wrap ?? []).map((layer) => ({ name: 'plugin-wrap', layer })),
    { name: 'answer-check', layer: answerCheck(deps.shapes ?? null) },
    { name: 'canary-side', layer: canarySide },
    { name: 'dedupe', layer: dedupe },
    { name: 'health', layer: health },
    { name: 'retry', layer: retry },
    ...(traced ? [{ name: 'trace-attempt', layer: traced.attempt }] : []),
    { name: 'breaker', layer: breaker },
    { name: 'deadline', layer: deadline },
  ];
}

/** The last, which sends: not a layer (it calls nothing below). */
export const BOTTOM = 'transport';

/**
 * Where a subgraph with several instances, a canary or a mirror splits: the first of these layers
 * present and every layer below it are built once per instance (its own attempt span, breaker,
 * deadline and pool, with the instance's URL in their scope), under the instance router
 * (traffic/instances.ts), which picks an instance per attempt.
 */
export const PER_INSTANCE: readonly string[] = ['trace-attempt', 'breaker'];

/**
 * Tessera's client for one subgraph: the layers composed once, over one transport (keep-alive
 * pool). `fetch` never rejects for a subgraph's failure; it answers with it, and the engine's
 * adapter reports it as a field-level error for this subgraph.
 */
export class SubgraphClient {
  readonly settings: SubgraphSettings;
  readonly fetch: SubgraphFetch;
  private readonly log: Logger;
  private readonly releases: Array<(force: boolean) => void | Promise<void>> = [];
  private readonly failureLog = new LogThrottle(1000);

  constructor(settings: SubgraphSettings, deps: ClientDeps) {
    this.settings = settings;
    this.log = deps.log;
    const scope: ClientScope = {
      settings,
      log: deps.log,
      metrics: deps.metrics,
      onClose: (release) => void this.releases.push(release),
    };
    const layers = clientLayers(deps);
    if (deps.stitched === undefined && routed(settings)) {
      const split = layers.findIndex((l) => PER_INSTANCE.includes(l.name));
      const perInstance = layers.slice(split).map((l) => l.layer);
      this.fetch = compose(
        layers.slice(0, split).map((l) => l.layer),
        instanceRouter(scope, perInstance),
        scope,
      );
    } else {
      const send = transport(scope);
      this.fetch = compose(
        layers.map((l) => l.layer),
        deps.stitched === undefined ? send : stitchedBottom(scope, deps.stitched, send),
        scope,
      );
    }
  }

  /**
   * One fetch as an engine needs it: never throws, and a failure is already logged. A throw from
   * inside the gateway (a plugin's wrap, a bug) and an answer the answer check did not pass on are
   * still this subgraph's failure; the engine turns the failure into its own error shape.
   */
  async exchange(
    request: SubgraphRequest,
  ): Promise<{ readonly ok: true; readonly result: SubgraphResult } | Omit<SubgraphFailed, 'retry'>> {
    let answer;
    try {
      answer = await this.fetch(request);
    } catch (err) {
      answer = { ok: false, failure: internalFailure(this.settings.name, 'subgraph fetch', err) } as const;
    }
    if (answer.ok && answer.result) return { ok: true, result: answer.result };
    const failed = answer.ok
      ? {
          ok: false as const,
          failure: internalFailure(this.settings.name, 'subgraph fetch', new Error('answer was not checked')),
        }
      : answer;
    this.reportFailure(failed.failure, request);
    return failed;
  }

  /** Logs a failed fetch: once a second per code at warn (a dead subgraph fails every request). */
  reportFailure(failure: ClassifiedFailure, request: Pick<SubgraphRequest, 'log' | 'requestId'>): void {
    const suppressed = this.failureLog.take(failure.code);
    if (suppressed === null) return;
    (request.log ?? this.log).warn(
      {
        subgraph: this.settings.name,
        code: failure.code,
        cause: failure.cause,
        status: failure.status,
        url: this.settings.url,
        ...(routed(this.settings) ? { instances: this.settings.instances.length } : {}),
        requestId: request.requestId,
        suppressed,
      },
      'subgraph request failed',
    );
  }

  /** Waits for in-flight requests, then closes the sockets. */
  close(): Promise<void> {
    return this.release(false);
  }

  /** Aborts in-flight requests and closes the sockets now. */
  destroy(): Promise<void> {
    return this.release(true);
  }

  /** Outermost layer first (the breaker stops before its pool closes). */
  private async release(force: boolean): Promise<void> {
    await Promise.all(this.releases.toReversed().map((release) => release(force)));
  }
}
