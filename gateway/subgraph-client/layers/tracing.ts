import type { Span } from '@opentelemetry/api';
import { fail, traceSlot } from '../../observability/tracing.ts';
import type { FetchLayer, SubgraphAnswer, SubgraphRequest } from '../fetch.ts';

/**
 * The subgraph fetch as spans, in two layers made together per client (they share what they
 * learn about each request object; client.ts places them):
 *
 * - `fetch`, outermost: one span per fetch the engine asked for, `subgraph.fetch <name>`, with its
 *   outcome as the engine gets it, how many attempts it took and its dedupe role: `leader` when its
 *   own request went down, `follower` when it shared another caller's identical one.
 * - `attempt`, between retry and breaker: one client span per attempt, `subgraph.attempt <name>`,
 *   with its retry number (`http.request.resend_count`), the breaker state it met, its status,
 *   and the `traceparent` (and `tracestate`) of that attempt's span written into the headers sent.
 *   Below dedupe, so the header never splits identical requests into different dedupe keys.
 *
 * Only present when `telemetry.tracing.enabled`; an untraced request passes through, and one the
 * sampler dropped only gets its `traceparent` (not sampled) written.
 */
export function tracingLayers(): { fetch: FetchLayer; attempt: FetchLayer } {
  const fetchSpans = new WeakMap<SubgraphRequest, Span>();
  const attempts = new WeakMap<SubgraphRequest, number>();

  const fetch: FetchLayer = (next, { settings }) => {
    const name = settings.name;
    const shared = settings.dedupe;
    return async (request) => {
      const trace = request.context?.get(traceSlot);
      if (!trace?.recording) return next(request);
      const span = trace.startFetch(`subgraph.fetch ${name}`, {
        'subgraph.name': name,
        'graphql.operation.type': request.operationType,
        ...(request.operationName ? { 'graphql.operation.name': request.operationName } : {}),
      });
      fetchSpans.set(request, span);
      let answer: SubgraphAnswer | undefined;
      try {
        answer = await next(request);
        return answer;
      } finally {
        const n = attempts.get(request) ?? 0;
        span.setAttribute('tessera.attempts', n);
        const refusedAbove = answer && !answer.ok && answer.failure.code === 'SUBGRAPH_RATE_LIMITED';
        span.setAttribute(
          'tessera.dedupe.role',
          n > 0 ? 'leader' : shared && request.operationType === 'query' && !refusedAbove ? 'follower' : 'none',
        );
        finish(span, answer);
      }
    };
  };

  const attempt: FetchLayer = (next, { settings, metrics }) => {
    const name = settings.name;
    const url = new URL(settings.url);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const role = settings.dedupe ? 'leader' : 'none';
    const health = metrics.health.of(name);
    return async (request) => {
      const trace = request.context?.get(traceSlot);
      if (!trace) return next(request);
      if (!trace.recording) {
        // Not sampled: the subgraph still gets the trace (flag 00), under the server span.
        trace.inject(null, request.headers);
        return next(request);
      }
      const n = (attempts.get(request) ?? 0) + 1;
      attempts.set(request, n);
      const span = trace.startAttempt(`subgraph.attempt ${name}`, fetchSpans.get(request), {
        'subgraph.name': name,
        'tessera.attempt': n,
        'http.request.resend_count': n - 1,
        'tessera.breaker.state': health.breaker,
        'tessera.dedupe.role': request.operationType === 'query' ? role : 'none',
        'http.request.method': 'POST',
        'server.address': url.hostname,
        'server.port': port,
        'url.full': settings.url,
      });
      // This attempt's span is the subgraph's parent: each retry carries its own span id.
      trace.inject(span, request.headers);
      let answer: SubgraphAnswer | undefined;
      try {
        answer = await next(request);
        return answer;
      } finally {
        finish(span, answer);
      }
    };
  };

  return { fetch, attempt };
}

function finish(span: Span, answer: SubgraphAnswer | undefined): void {
  if (!answer) {
    fail(span, new Error('the fetch threw'));
  } else if (answer.ok) {
    span.setAttribute('http.response.status_code', answer.status);
  } else {
    if (answer.failure.status) span.setAttribute('http.response.status_code', answer.failure.status);
    fail(span, { code: answer.failure.code, message: answer.failure.message });
  }
  span.end();
}
