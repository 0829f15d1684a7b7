import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from './http.ts';

/** One span as the receiver decoded it: ids as hex, attributes as plain values. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly status: { code: number; message?: string };
  readonly start: bigint;
  readonly resource: Record<string, string | number | boolean>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        startTimeUnixNano: string | number;
        attributes?: KeyValue[];
        status?: { code?: number; message?: string };
      }>;
    }>;
  }>;
}

/**
 * A real OTLP/HTTP traces receiver on loopback: the gateway's exporter posts to it as it would to
 * a collector. It decodes the OTLP JSON encoding (`telemetry.tracing.otlp.protocol: http/json`);
 * a protobuf body is counted but not decoded (the OTel JS packages ship no request decoder).
 */
export class OtlpReceiver implements AsyncDisposable {
  readonly spans: ReceivedSpan[] = [];
  /** Export requests by content type. */
  readonly requests: Record<string, number> = {};
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.receive(req).then(
        () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
        },
        (err: Error) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: err.message }));
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
    return this;
  }

  /** The spans of one trace, once `count` spans of it (or a span matching `until`) have arrived. */
  async trace(traceId: string, until: (spans: ReceivedSpan[]) => boolean, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    return eventually(
      async () => {
        const spans = this.spans.filter((s) => s.traceId === traceId);
        return until(spans) ? spans : null;
      },
      timeoutMs,
      `the spans of trace ${traceId}`,
    );
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async receive(req: IncomingMessage): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    this.requests[type] = (this.requests[type] ?? 0) + 1;
    if (type !== 'application/json') return;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest;
    for (const rs of body.resourceSpans ?? []) {
      const resource = plain(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            attributes: plain(s.attributes),
            status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
            start: BigInt(s.startTimeUnixNano),
            resource,
          });
    }
  }
}

function plain(attributes: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

/** Attributes shown in a printed tree, when a span has them: the ones that tell siblings apart. */
const shown = [
  'graphql.operation.type',
  'graphql.operation.name',
  'tessera.plugin.phase',
  'tessera.plan.cache',
  'tessera.dedupe.role',
  'tessera.attempts',
  'http.request.resend_count',
  'tessera.breaker.state',
  'http.response.status_code',
  'error.type',
];

/**
 * The spans of one trace as an indented tree: each span with its distinguishing attributes and
 * status, children in start order (parallel fetches by name). docs/observability.md shows this text, and a
 * test checks the doc against what the receiver collected.
 */
export function printTree(spans: readonly ReceivedSpan[]): string {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  for (const s of spans) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    // In start order, except the fetches of one execution: those run in parallel, so by name.
    const byName = spans.find((s) => s.spanId === parent)?.name === 'graphql.execute';
    const kids = (children.get(parent) ?? []).toSorted((a, b) =>
      byName && a.name !== b.name ? (a.name < b.name ? -1 : 1) : Number(a.start - b.start),
    );
    for (const s of kids) {
      const attrs = shown.filter((k) => k in s.attributes).map((k) => `${k}=${String(s.attributes[k])}`);
      const kind = s.kind === 2 ? ' [server]' : s.kind === 3 ? ' [client]' : '';
      const status = s.status.code === 2 ? ' ERROR' : '';
      lines.push(`${'  '.repeat(depth)}${s.name}${kind}${status}${attrs.length ? `  ${attrs.join(' ')}` : ''}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}
