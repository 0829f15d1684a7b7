import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { Config } from '../config/schema.ts';
import type { EngineSpan, EngineTrace } from '../engine/engine.ts';
import { slot, type Slot } from '../pipeline/plugin.ts';
import type { Logger } from './log.ts';

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/**
 * Tessera's own OpenTelemetry tracer provider, made from `telemetry.tracing` and shut down (its
 * last spans flushed) with the gateway. It is deliberately not registered as the global provider:
 * a process may run several gateways (tests, an embedding application), and the global can be set
 * once. So @apollo/gateway's own spans (it traces through the global `@opentelemetry/api` tracer)
 * stay no-ops: Tessera makes the same steps itself (parse, validate, plan, execute, and a span per
 * fetch *attempt*, which Apollo's per-fetch span cannot show), with the same names for every
 * engine, and without the global AsyncLocalStorage context manager Apollo's spans would need.
 *
 * Off (`telemetry.tracing.enabled: false`), nothing here is created: the HTTP front holds null.
 */
export class Tracing {
  readonly tracer: Tracer;
  /** traceparent/tracestate (and baggage when configured): what is read from clients and sent to subgraphs. */
  readonly propagator: TextMapPropagator;
  private readonly provider: TracerProvider;
  private readonly trustIncoming: boolean;

  constructor(telemetry: Config['telemetry'], log: Logger) {
    const t = telemetry.tracing;
    const exporterConfig = {
      url: t.otlp.endpoint,
      headers: { ...t.otlp.headers },
      timeoutMillis: t.otlp.timeoutMs,
    };
    const exporter =
      t.otlp.protocol === 'http/json' ? new JsonExporter(exporterConfig) : new ProtobufExporter(exporterConfig);
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({
        ...telemetry.resourceAttributes,
        [ATTR_SERVICE_NAME]: telemetry.serviceName,
      }),
      // Parent-based: a trusted caller that sampled its trace gets the gateway's spans in it, one
      // that did not gets none; a new trace is kept with `samplerRatio`.
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(t.samplerRatio) }),
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: t.otlp.batchDelayMs })],
    });
    this.tracer = this.provider.getTracer('tessera-gateway');
    const w3c = new W3CTraceContextPropagator();
    this.propagator = t.baggage ? new CompositePropagator({ propagators: [w3c, new W3CBaggagePropagator()] }) : w3c;
    this.trustIncoming = t.trustIncoming;
    log.info(
      { endpoint: t.otlp.endpoint, protocol: t.otlp.protocol, samplerRatio: t.samplerRatio },
      'tracing: exporting spans over OTLP/HTTP',
    );
  }

  /**
   * The server span of one /graphql request, continuing the caller's trace when trusted. Its
   * `RequestTrace` goes into the request context (`traceSlot`), where the plugins' runner, the
   * engine (through `EnginePhases.trace`) and the subgraph client's tracing layers find it.
   */
  startRequest(init: {
    method: string;
    headers: IncomingHttpHeaders;
    path: string;
    scheme: 'http' | 'https';
    peer: string;
    requestId: string;
  }): RequestTrace {
    const parent = this.trustIncoming
      ? this.propagator.extract(ROOT_CONTEXT, init.headers, headerGetter)
      : ROOT_CONTEXT;
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: init.method,
      [ATTR_URL_PATH]: init.path,
      [ATTR_URL_SCHEME]: init.scheme,
      [ATTR_HTTP_ROUTE]: '/graphql',
      [ATTR_NETWORK_PEER_ADDRESS]: init.peer,
      'tessera.request_id': init.requestId,
    };
    const ua = init.headers['user-agent'];
    if (ua) attributes[ATTR_USER_AGENT_ORIGINAL] = ua;
    const span = this.tracer.startSpan(`${init.method} /graphql`, { kind: SpanKind.SERVER, attributes }, parent);
    return new RequestTrace(this, span, trace.setSpan(parent, span));
  }

  /** Exports what is still buffered, then stops the exporter. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

const noSpan: EngineSpan = Object.freeze({ setAttribute: () => undefined, end: () => undefined });

/** Where the request's trace lives in its context: absent when tracing is off. */
export const traceSlot: Slot<RequestTrace> = slot<RequestTrace>('trace');

/** The one trace of one request: its server span, and the spans opened under it. */
export class RequestTrace implements EngineTrace {
  readonly server: Span;
  /**
   * False when the sampler dropped this trace: then no child span is made at all (their parent
   * would drop them too), and subgraphs get the server span's context, not sampled (flag 00), so
   * they follow the same decision. Dropped requests cost a span context and a header.
   */
  readonly recording: boolean;
  private readonly tracing: Tracing;
  private readonly serverContext: Context;
  /** While the engine's `graphql.execute` span is open, subgraph fetches are its children. */
  private executeContext: Context | null = null;

  constructor(tracing: Tracing, server: Span, serverContext: Context) {
    this.tracing = tracing;
    this.server = server;
    this.serverContext = serverContext;
    this.recording = server.isRecording();
  }

  get traceId(): string {
    return this.server.spanContext().traceId;
  }

  get spanId(): string {
    return this.server.spanContext().spanId;
  }

  /** A span under the server span (or, for the engine's steps, see EngineTrace in engine/engine.ts). */
  span(name: string, attributes?: SpanAttributes): EngineSpan {
    if (!this.recording) return noSpan;
    const span = this.tracing.tracer.startSpan(name, { attributes }, this.serverContext);
    if (name === 'graphql.execute') this.executeContext = trace.setSpan(this.serverContext, span);
    return {
      setAttribute: (key, value) => void span.setAttribute(key, value),
      end: (error?: unknown) => {
        if (error !== undefined) fail(span, error);
        if (name === 'graphql.execute') this.executeContext = null;
        span.end();
      },
    };
  }

  /** A subgraph fetch's span: under `graphql.execute` when the engine opened one. */
  startFetch(name: string, attributes: SpanAttributes): Span {
    return this.tracing.tracer.startSpan(
      name,
      { kind: SpanKind.INTERNAL, attributes },
      this.executeContext ?? this.serverContext,
    );
  }

  /** One attempt of a fetch (the client span): `parent` is its fetch span. */
  startAttempt(name: string, parent: Span | undefined, attributes: SpanAttributes): Span {
    const ctx = parent ? trace.setSpan(this.serverContext, parent) : (this.executeContext ?? this.serverContext);
    return this.tracing.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, ctx);
  }

  /** Writes `traceparent` (and `tracestate`, `baggage` when configured) for `span` into `headers`. */
  inject(span: Span | null, headers: Record<string, string>): void {
    this.tracing.propagator.inject(
      span ? trace.setSpan(this.serverContext, span) : this.serverContext,
      headers,
      headerSetter,
    );
  }

  /** The GraphQL attributes of the server span, once an operation is chosen. Never variables. */
  operation(op: { name: string | null; type: string; source: string }): void {
    if (!this.recording) return;
    this.server.setAttributes({
      'graphql.operation.name': op.name ?? '',
      'graphql.operation.type': op.type,
      'graphql.document.hash': createHash('sha256').update(op.source).digest('hex'),
    });
  }

  /** Ends the server span with the status the client got (5xx is the server's error; 4xx is not, per semconv). */
  end(status: number, attributes: SpanAttributes = {}): void {
    this.server.setAttributes({ ...attributes, [ATTR_HTTP_RESPONSE_STATUS_CODE]: status });
    if (status >= 500) this.server.setStatus({ code: SpanStatusCode.ERROR });
    this.server.end();
  }
}

/** Marks a span failed, with the error's code (or type) and message (never a stack or an upstream body). */
export function fail(span: Span, error: unknown): void {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    extensions?: { code?: unknown };
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  const code = e.extensions?.code ?? e.code ?? e.name;
  span.setAttribute('error.type', typeof code === 'string' ? code : 'Error');
  const message = typeof e.message === 'string' ? e.message : typeof error === 'string' ? error : undefined;
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
}

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const headerSetter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};
