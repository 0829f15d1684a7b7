import { z } from 'zod';
import { headerName, headerValue } from '../../policies/config-values.ts';
import { policiesConfigSchema } from '../../policies/registry.ts';
import { compileOriginPattern } from '../http/cors.ts';
import { NEVER_FORWARDED } from '../subgraph-client/headers.ts';
import { listenHost, type DeepReadonly } from './config-file.ts';
import { mergeOverrides, mergeRule, overridesOf } from './overrides.ts';
import { progressiveOverrideSchema, trafficIssues, trafficSettingsShape } from './traffic-schema.ts';

/** OpenTelemetry: where traces go and how the caller's trace is continued (observability/tracing.ts). */
const telemetrySchema = z
  .strictObject({
    serviceName: z
      .string()
      .min(1)
      .describe('`service.name` of every span (the name a tracing backend lists the gateway under).')
      .default('tessera-gateway'),
    resourceAttributes: z
      .record(z.string().min(1), z.string())
      .describe('More resource attributes of every span, e.g. `deployment.environment.name: prod`.')
      .default({}),
    clientHeader: headerName
      .describe(
        'Request header that names the calling client: in the request log line, the `client` metric label and spans.',
      )
      .default('apollographql-client-name'),
    tracing: z
      .strictObject({
        enabled: z
          .boolean()
          .describe('Record spans and export them over OTLP/HTTP; off, no tracer exists and requests pay nothing.')
          .default(false),
        samplerRatio: z
          .number()
          .min(0)
          .max(1)
          .describe(
            "Fraction of new traces recorded (parent-based: a trusted caller's sampled flag decides for its own trace).",
          )
          .default(1),
        trustIncoming: z
          .boolean()
          .describe(
            "Continue a client's W3C `traceparent`/`tracestate`; false starts a new trace at the gateway for every request.",
          )
          .default(true),
        baggage: z
          .boolean()
          .describe('Accept W3C `baggage` from clients and forward it to subgraphs (off: it is neither read nor sent).')
          .default(false),
        otlp: z
          .strictObject({
            endpoint: z
              .url({ protocol: /^https?$/ })
              .describe('OTLP/HTTP traces endpoint, e.g. `http://collector:4318/v1/traces`.')
              .default('http://localhost:4318/v1/traces'),
            protocol: z.enum(['http/protobuf', 'http/json']).describe('OTLP encoding.').default('http/protobuf'),
            headers: z
              .record(headerName, headerValue)
              .describe('Headers of every export request (e.g. an API key of a hosted backend).')
              .default({}),
            timeoutMs: z.int().positive().describe('Export request timeout.').default(10_000),
            batchDelayMs: z
              .int()
              .positive()
              .describe('Longest time a finished span waits before it is exported (with others, in one batch).')
              .default(5_000),
          })
          .describe('The OTLP/HTTP exporter (batched; flushed at shutdown).')
          .prefault({}),
      })
      .describe('Distributed tracing with the OpenTelemetry SDK (docs/observability.md).')
      .prefault({}),
  })
  .describe('OpenTelemetry traces and the names shared by logs, metrics and spans.')
  .prefault({});

/** A PEM value: inline text, or a path to a file (read and checked at start-up by load.ts). */
const pem = z.string().min(1);

const tlsClientSchema = z.strictObject({
  ca: pem
    .describe("CA that signs the subgraph's server certificate (PEM text or a file path); unset: Node's root store.")
    .optional(),
  cert: pem.describe('Client certificate for mTLS (PEM text or a file path); needs `key`.').optional(),
  key: pem.describe('Private key of the client certificate (PEM text or a file path).').optional(),
  servername: z
    .string()
    .min(1)
    .describe("SNI and the name checked in the server certificate; unset: the URL's host.")
    .optional(),
  rejectUnauthorized: z.boolean().describe('`false` accepts any server certificate; unset, it is verified.').optional(),
});

/** Header names the gateway owns on a subgraph request (connection-level, or content negotiation). */
const forwardable = headerName.refine(
  (n) => !NEVER_FORWARDED.has(n.toLowerCase()),
  'hop-by-hop or client-owned: it cannot be propagated',
);

/** Compiled here, as the header code compiles it, so a bad pattern stops start-up with its key. */
const headerPattern = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    try {
      new RegExp(pattern, 'i');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${(err as Error).message})` });
    }
  });

const headerRuleSchema = z.union([
  z.strictObject({ named: forwardable, rename: forwardable.optional(), default: headerValue.optional() }),
  z.strictObject({ matching: headerPattern }),
]);

/** Static headers: the same names undici refuses or the gateway sets per connection. */
const settableHeader = headerName.refine(
  (n) =>
    ![
      'connection',
      'keep-alive',
      'proxy-connection',
      'transfer-encoding',
      'upgrade',
      'te',
      'trailer',
      'expect',
      'host',
      'content-length',
      'http2-settings',
    ].includes(n.toLowerCase()),
  'connection-level: the gateway sets it itself',
);

/**
 * Per-subgraph client settings, with their defaults. `subgraphs.all` and `subgraphs.<name>` each
 * list only what they change (`subgraphOverridesSchema`); resolve-subgraphs.ts merges the two and
 * parses the result with this schema, which fills in the rest.
 */
export const subgraphSettingsSchema = z.strictObject({
  url: z
    .union([
      z.url({ protocol: /^https?$/ }),
      z
        .array(z.url({ protocol: /^https?$/ }))
        .min(1)
        .max(64),
    ])
    .describe(
      "Overrides the subgraph's routing URL from the supergraph (e.g. service names inside docker-compose); a list is several instances, as `urls`. Not allowed under `all`.",
    )
    .optional(),
  ...trafficSettingsShape,
  timeoutMs: z
    .int()
    .positive()
    .describe('Deadline for one subgraph fetch, retries included; past it, `SUBGRAPH_TIMEOUT`.')
    .default(10_000), // 10 s
  attemptTimeoutMs: z
    .int()
    .positive()
    .describe("Deadline of one attempt; a timed-out attempt's socket is destroyed and (for queries) retried.")
    .default(5_000), // 5 s
  connectTimeoutMs: z.int().positive().describe('TCP + TLS connect timeout.').default(2_000), // 2 s
  pool: z
    .strictObject({
      connections: z.int().positive().describe('Max sockets to the subgraph.').default(128),
      keepAliveTimeoutMs: z
        .int()
        .positive()
        .describe("Idle keep-alive socket lifetime (a server's shorter `Keep-Alive` hint wins).")
        .default(30_000),
      pipelining: z
        .int()
        .min(1)
        .max(16)
        .describe('HTTP/1.1 requests pipelined per socket; 1 = no pipelining.')
        .default(1),
    })
    .describe("The subgraph's undici keep-alive connection pool.")
    .prefault({}),
  retry: z
    .strictObject({
      maxAttempts: z
        .int()
        .min(1)
        .max(10)
        .describe('Attempts per fetch, the first included; 1 turns retries off.')
        .default(3),
      baseDelayMs: z
        .int()
        .min(0)
        .describe('Backoff base: the n-th retry waits a random time in [0, min(maxDelayMs, baseDelayMs·2ⁿ⁻¹)].')
        .default(25),
      maxDelayMs: z
        .int()
        .min(0)
        .describe('Backoff cap. A `Retry-After` from the subgraph replaces the backoff (when it fits the deadline).')
        .default(1_000),
      budgetRatio: z
        .number()
        .min(0)
        .max(10)
        .describe(
          'Retries allowed as a fraction of requests over the window: 0.2 = a dead subgraph gets at most 20 % extra load.',
        )
        .default(0.2),
      budgetMinPerSecond: z
        .number()
        .min(0)
        .describe('Retries always allowed per second, so a quiet subgraph can still be retried.')
        .default(5),
      budgetWindowMs: z.int().min(1000).describe('Window the retry budget counts over.').default(10_000),
    })
    .describe(
      'Queries are retried on connection errors, timeouts, 502/503/504 and 429; a mutation only when the request provably never left (connection refused, connect timeout, DNS).',
    )
    .prefault({}),
  breaker: z
    .strictObject({
      enabled: z.boolean().describe('Circuit breaker (opossum) around every attempt.').default(true),
      errorThresholdPercentage: z
        .number()
        .min(1)
        .max(100)
        .describe(
          'Failure rate over the window that opens the circuit (transport errors, timeouts, 5xx, 429; 4xx answers do not count).',
        )
        .default(50),
      volumeThreshold: z.int().min(1).describe('Attempts in the window before the rate counts.').default(20),
      rollingWindowMs: z.int().min(100).describe("The breaker's rolling window.").default(10_000),
      resetTimeoutMs: z
        .int()
        .min(10)
        .describe('Time open before one half-open probe is let through; its success closes the circuit.')
        .default(5_000),
    })
    .describe('While the circuit is open, fetches fail at once with `SUBGRAPH_CIRCUIT_OPEN` and no request is sent.')
    .prefault({}),
  dedupe: z
    .boolean()
    .describe(
      'Identical in-flight query fetches (same body, same forwarded headers) share one request. Never mutations.',
    )
    .default(true),
  headers: z
    .strictObject({
      propagate: z
        .array(headerRuleSchema)
        .describe(
          "Client headers forwarded to the subgraph: `{ named, rename?, default? }` or `{ matching: regex }` (case-insensitive). Hop-by-hop headers never pass. `all`'s rules come first, then the subgraph's own.",
        )
        .register(mergeRule, { merge: 'append' })
        .default([]),
      set: z
        .record(settableHeader, headerValue)
        .describe("Static headers set on every request to the subgraph; merged by name with `all`'s.")
        .default({}),
    })
    .describe('Headers sent to the subgraph.')
    .prefault({}),
  tls: tlsClientSchema
    .describe('TLS to an `https://` subgraph: the CA to trust, a client certificate for mTLS.')
    .prefault({}),
  rateLimit: z
    .strictObject({
      requestsPerSecond: z
        .number()
        .positive()
        .describe('Requests per second this gateway sends to the subgraph at most.'),
      burst: z
        .int()
        .positive()
        .describe("Requests allowed at once after a quiet period; unset: one second's worth.")
        .optional(),
    })
    .describe(
      "Protects the subgraph: a token bucket on what this gateway sends; over it, its fields are null with `SUBGRAPH_RATE_LIMITED` and nothing is sent. A subgraph's own replaces `all`'s as a whole (a burst sized for one rate does not fit another); `null` there turns off a cap set under `all`.",
    )
    .transform((r) => ({
      requestsPerSecond: r.requestsPerSecond,
      burst: r.burst ?? Math.max(1, Math.ceil(r.requestsPerSecond)),
    }))
    .register(mergeRule, { merge: 'whole' })
    .nullable()
    .default(null),
  maxResponseBytes: z
    .int()
    .positive()
    .describe(
      "Largest answer read from the subgraph: refused at once when `Content-Length` says more, else abandoned at the first byte past it; `SUBGRAPH_RESPONSE_TOO_LARGE`, not retried. 16 MiB, as Apollo Router's `http_max_response_size`.",
    )
    .default(16 * 1024 * 1024),
  errors: z
    .strictObject({
      include: z
        .array(z.string().min(1))
        .describe(
          "`extensions` keys of the subgraph's GraphQL errors that reach clients besides `code` (and the `serviceName` the gateway adds). A subgraph's list replaces `all`'s, so it can narrow it.",
        )
        .default([]),
      exposeMessages: z
        .boolean()
        .describe(
          'Keep the subgraph\'s error messages; `false` replaces them with `Subgraph "<name>" returned an error`.',
        )
        .default(true),
    })
    .describe("What of the subgraph's GraphQL errors reaches clients; the rest is logged.")
    .prefault({}),
});

/** What `subgraphs.all` and `subgraphs.<name>` accept: the same settings, each optional, no default filled in. */
export const subgraphOverridesSchema = overridesOf(subgraphSettingsSchema);
export type SubgraphOverrides = z.input<typeof subgraphSettingsSchema>;

/** `subgraphs.all` with `subgraphs.<name>` laid over it, defaults not yet filled in. */
export function layeredSubgraph(
  subgraphs: Readonly<Record<string, DeepReadonly<SubgraphOverrides>>>,
  name: string,
): DeepReadonly<SubgraphOverrides> {
  return mergeOverrides(subgraphSettingsSchema, subgraphs['all'] ?? {}, subgraphs[name] ?? {});
}

/** An origin exactly as a browser sends it in `Origin` (scheme://host[:port]), or `*` for any. */
const exactOrigin = z.string().superRefine((origin, ctx) => {
  if (origin === '*') return;
  let serialized: string | null = null;
  try {
    const url = new URL(origin);
    if (url.protocol === 'http:' || url.protocol === 'https:') serialized = url.origin;
  } catch {
    // Not a URL at all: reported below.
  }
  if (serialized !== origin) {
    const hint = serialized ? ` (write it as ${serialized})` : '';
    ctx.addIssue({
      code: 'custom',
      message: `not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash${hint}; use { matching: regex } for others`,
    });
  }
});

/** Compiled here as cors.ts compiles it (anchored), so a bad pattern stops start-up with its key. */
const originPattern = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    try {
      compileOriginPattern(pattern);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${(err as Error).message})` });
    }
  });

const corsSchema = z
  .strictObject({
    origins: z
      .array(z.union([exactOrigin, z.strictObject({ matching: originPattern })]))
      .min(1)
      .describe(
        'Origins whose pages may call the gateway: exact (`https://app.example.com`, as the browser sends it), `{ matching: regex }` (matched against the whole origin), or `[*]` alone for any origin.',
      ),
    credentials: z
      .boolean()
      .describe(
        "Let pages send cookies / HTTP auth (`credentials: 'include'`) and read the answer (`Access-Control-Allow-Credentials: true`); not with `*`.",
      )
      .default(false),
    maxAgeSec: z
      .int()
      .min(0)
      .max(86_400)
      .describe('How long a browser may reuse a preflight answer (Chromium caps it at 7200).')
      .default(600),
    allowedHeaders: z
      .array(headerName)
      .describe('Request headers a page may send (beyond the CORS-safelisted ones); `*` allows any.')
      .default([
        'content-type',
        'authorization',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'x-request-id',
        'x-tessera-cost',
      ]),
    exposedHeaders: z
      .array(headerName)
      .describe('Response headers a page may read (beyond the CORS-safelisted ones).')
      .default(['x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after']),
  })
  .superRefine((cors, ctx) => {
    const star = cors.origins.indexOf('*');
    if (star !== -1 && cors.origins.length > 1)
      ctx.addIssue({ code: 'custom', path: ['origins', star], message: '`*` allows every origin: list it alone' });
    if (star !== -1 && cors.credentials)
      ctx.addIssue({
        code: 'custom',
        path: ['credentials'],
        message: 'browsers refuse credentials with `Access-Control-Allow-Origin: *`: list the origins instead of `*`',
      });
  });

/** Graph and variant names as the registry's routes accept them; any other name is a 404 forever. */
const registryName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)');

const configShape = z.strictObject({
  engine: z
    .enum(['apollo', 'tessera'])
    .describe(
      "The GraphQL engine that plans and executes operations: `tessera` (Hive Router's query planner and Tessera's own executor; passes every case of docs/conformance.md) or `apollo` (@apollo/gateway inside @apollo/server; fails the cases docs/conformance.md lists). Env: `TESSERA_ENGINE`.",
    )
    .default('tessera'),
  server: z
    .strictObject({
      host: listenHost.describe('Listen address.').default('0.0.0.0'),
      port: z.int().min(0).max(65535).describe('Listen port (0 picks a free one).').default(4000),
      bodyLimitBytes: z
        .int()
        .positive()
        .describe('Largest request body; a larger one gets 413 `PAYLOAD_TOO_LARGE`.')
        .default(1_048_576), // 1 MiB
      requestTimeoutMs: z
        .int()
        .positive()
        .describe(
          "From a request's first byte until its body has fully arrived; past it, 408 `REQUEST_TIMEOUT` and the connection is closed.",
        )
        .default(30_000), // 30 s
      headersTimeoutMs: z
        .int()
        .positive()
        .describe(
          "From a request's first byte until its headers are complete; past it, 408. At most `server.requestTimeoutMs` (Node's rule).",
        )
        .default(10_000), // 10 s
      maxConnections: z
        .int()
        .positive()
        .describe(
          'Open client connections at once; a new one past it is closed as soon as it is accepted, before anything is read.',
        )
        .default(10_000),
      readyRequiresSubgraphs: z
        .boolean()
        .describe(
          '`/ready` answers 503 (`subgraphs-unavailable`, naming them) while any subgraph circuit breaker is open.',
        )
        .default(false),
      csrfPrevention: z
        .boolean()
        .describe(
          "Apollo's CSRF prevention: GET requests and simple POSTs need a non-simple header (e.g. `apollo-require-preflight: 1`).",
        )
        .default(true),
      introspection: z
        .boolean()
        .describe(
          'Allow introspection queries (`policies.authorization.introspection` can restrict them to authenticated callers).',
        )
        .default(true),
      cors: corsSchema
        .describe("Cross-origin browser access; absent: no CORS headers, so browsers keep other origins' pages out.")
        .optional(),
      landingPage: z
        .boolean()
        .describe(
          'Serve the GraphiQL explorer to browsers on `GET /graphql` and `/`; on by default except under `NODE_ENV=production`.',
        )
        .default(() => process.env['NODE_ENV'] !== 'production'),
      tls: z
        .strictObject({
          cert: pem.describe(
            'Server certificate: PEM text or a file path (read at start-up; a bad path fails naming the key).',
          ),
          key: pem.describe('Private key of `cert`: PEM text or a file path.'),
          ca: pem.describe('CA for client certificates (PEM text or a file path).').optional(),
          requestClientCert: z
            .boolean()
            .describe('Require clients to present a certificate signed by `server.tls.ca` (mTLS).')
            .default(false),
        })
        .describe('Serve HTTPS on the public listener.')
        .optional(),
      shutdown: z
        .strictObject({
          readinessDelayMs: z
            .int()
            .min(0)
            .describe(
              'After SIGTERM, how long `/ready` answers 503 before the listener closes, so load balancers stop routing first. Set ~5000 behind a load balancer.',
            )
            .default(0),
          drainTimeoutMs: z
            .int()
            .min(0)
            .describe('Longest wait for in-flight requests once the listener is closed.')
            .default(10_000), // 10 s
        })
        .describe('The graceful stop on SIGTERM or SIGINT.')
        .prefault({}),
    })
    .refine((s) => s.headersTimeoutMs <= s.requestTimeoutMs, {
      path: ['headersTimeoutMs'],
      message: 'must be at most `server.requestTimeoutMs`',
    })
    .describe('The public listener: GraphQL at `/graphql`, probes at `/health` and `/ready`.')
    .prefault({}),
  metrics: z
    .strictObject({
      enabled: z
        .boolean()
        .describe('Serve Prometheus metrics (`GET /metrics` on `metrics.host`:`metrics.port`).')
        .default(true),
      host: z
        .string()
        .min(1)
        .describe(
          'Metrics listen address. Loopback by default: the scraper runs beside the gateway (use `0.0.0.0` in a container or pod).',
        )
        .default('127.0.0.1'),
      port: z
        .int()
        .min(0)
        .max(65535)
        .describe(
          "Metrics listen port (the one OpenTelemetry's Prometheus exporter uses; 0 picks a free one, logged as `metrics listening`).",
        )
        .default(9464),
      labels: z
        .strictObject({
          operation: z
            .boolean()
            .describe(
              'Add an `operation` label (the operation name) to `tessera_http_request_duration_seconds`, capped at `maxValues`.',
            )
            .default(false),
          client: z
            .boolean()
            .describe(
              'Add a `client` label (the `telemetry.clientHeader` value) to `tessera_http_request_duration_seconds`, capped at `maxValues`.',
            )
            .default(false),
          maxValues: z
            .int()
            .min(1)
            .max(10_000)
            .describe(
              'Distinct values per optional label: the first ones seen keep their own series, every later one is counted as `other`.',
            )
            .default(50),
        })
        .describe('Optional labels of the request histogram: each is a series per value, so each is capped.')
        .prefault({}),
    })
    .describe('Prometheus metrics, on a listener of their own so the public port never exposes them.')
    .prefault({}),
  telemetry: telemetrySchema,
  supergraph: z
    .strictObject({
      file: z
        .string()
        .min(1)
        .describe('Composed supergraph SDL (`tessera compose` writes one), relative to the config file.')
        .optional(),
      registry: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }).describe('Registry URL (`tessera registry` serves one).'),
          graph: registryName.describe('Graph to follow.'),
          variant: registryName.describe('Variant of the graph to follow.').default('production'),
          token: z
            .string()
            .min(1)
            .describe('A registry token with `read` permission (also used to report field usage).'),
          pollIntervalMs: z
            .int()
            .min(100)
            .describe('Poll period (`If-None-Match`: an unchanged variant costs a 304; SIGHUP polls at once).')
            .default(10_000),
          timeoutMs: z.int().positive().describe('Registry request timeout.').default(5_000),
          cacheFile: z
            .string()
            .min(1)
            .describe(
              'Last good supergraph, written on every accepted version; start-up falls back to it when the registry is down.',
            )
            .default('.tessera/registry-supergraph.graphql'),
          usageReporting: z
            .boolean()
            .describe('Report which fields operations use, for usage-aware `tessera subgraph check`.')
            .default(true),
          usageFlushIntervalMs: z.int().min(100).describe('How often field usage is sent.').default(10_000),
        })
        .describe('Follow a registry variant instead of `supergraph.file`: poll it and load each new version.')
        .optional(),
      watch: z.boolean().describe('Reload when `supergraph.file` changes (SIGHUP always reloads).').default(true),
      watchDebounceMs: z
        .int()
        .min(0)
        .describe('Quiet period after a change before the file is read, so half-written files are not.')
        .default(100),
      reloadDrainTimeoutMs: z
        .int()
        .min(0)
        .describe(
          'After a reload, longest wait for requests still running on the superseded supergraph before its subgraph clients close (logged with the count).',
        )
        .default(30_000), // 30 s
    })
    .refine((s) => (s.file === undefined) !== (s.registry === undefined), {
      message: 'set exactly one of `supergraph.file` and `supergraph.registry`',
    })
    .describe('Where the supergraph comes from: a file or a registry variant, exactly one of the two.'),
  subgraphs: z
    .record(
      z.string().regex(/^[A-Za-z_][\w-]*$/, 'subgraph names are letters, digits, _ and -'),
      subgraphOverridesSchema,
    )
    .superRefine((entries, ctx) => {
      for (const [name, entry] of Object.entries(entries))
        for (const issue of trafficIssues(name, layeredSubgraph(entries, name), entry))
          ctx.addIssue({ code: 'custom', path: issue.path.slice(1), message: issue.message });
      if (entries['all']?.url !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['all', 'url'],
          message: '`url` can only be set per subgraph, not under `all`',
        });
      }
    })
    .describe(
      'Subgraph clients: `all` sets defaults for every subgraph, `<name>` (a subgraph of the supergraph) overrides them for one.',
    )
    .default({}),
  redis: z
    .strictObject({
      url: z.url({ protocol: /^rediss?$/ }).describe('`redis://` or `rediss://` URL.'),
      keyPrefix: z.string().describe('Prefix of every key Tessera writes.').default('tessera:'),
      connectTimeoutMs: z
        .int()
        .positive()
        .describe('Connect timeout; ioredis reconnects by itself afterwards.')
        .default(2_000),
      commandTimeoutMs: z
        .int()
        .positive()
        .describe(
          "The rate limiter's deadline for Redis, counted from the moment the request asks: slower (a hung Redis) fails and `policies.rateLimit.failureMode` applies, instead of holding the request.",
        )
        .default(500),
    })
    .describe('Redis, for state shared by every replica (rate-limit budgets); without it, budgets live in memory.')
    .optional(),
  persistedOperations: z
    .strictObject({
      mode: z
        .enum(['open', 'logOnly', 'allowList'])
        .describe(
          '`open`: free-text operations run as usual; `logOnly`: they run, and each one not in a published manifest is logged (`operation not in any published manifest`, once per distinct text per 10 minutes); `allowList`: they are refused with 403 `PERSISTED_QUERY_NOT_ALLOWED` unless their text is in a manifest or the caller holds the bypass claim.',
        )
        .default('open'),
      apq: z
        .strictObject({
          enabled: z
            .boolean()
            .describe(
              'Automatic persisted queries (Apollo protocol): a hash-only request runs the query registered under it; a request with both registers it. Off: a hash-only request gets `PERSISTED_QUERY_NOT_SUPPORTED`.',
            )
            .default(true),
          maxEntries: z
            .int()
            .positive()
            .describe('Registered queries kept in memory (least recently used go first).')
            .default(10_000),
          maxQueryBytes: z
            .int()
            .positive()
            .describe(
              'Larger queries still run but are not registered, so no client can fill the store with a few huge ones.',
            )
            .default(64 * 1024),
          ttlSec: z
            .int()
            .positive()
            .describe(
              'With `redis`: how long a registered query lives in Redis (shared by every replica) after its last registration.',
            )
            .default(86_400),
        })
        .describe('Automatic persisted queries; shared through `redis` across replicas when it is configured.')
        .prefault({}),
      manifests: z
        .strictObject({
          url: z
            .url({ protocol: /^https?$/ })
            .describe('Registry URL; default: `supergraph.registry.url`.')
            .optional(),
          graph: registryName.describe('Graph; default: `supergraph.registry.graph`.').optional(),
          variant: registryName.describe('Variant; default: `supergraph.registry.variant`.').optional(),
          token: z.string().min(1).describe('A `read` token; default: `supergraph.registry.token`.').optional(),
          pollIntervalMs: z
            .int()
            .min(100)
            .describe('Poll period (`If-None-Match`: unchanged manifests cost a 304).')
            .default(10_000),
          timeoutMs: z.int().positive().describe('Registry request timeout.').default(5_000),
          cacheFile: z
            .string()
            .min(1)
            .describe(
              'Last manifests loaded, written on every change; start-up falls back to it when the registry is down.',
            )
            .default('.tessera/registry-operations.json'),
        })
        .describe(
          'Trusted documents: load the operation manifests published to the registry (`tessera operations publish`) and serve `documentId` and hash requests from them.',
        )
        .optional(),
      bypass: z
        .strictObject({
          claim: z.string().min(1).describe('A verified JWT claim (needs `policies.auth`).'),
          equals: z
            .union([z.string(), z.number(), z.boolean()])
            .describe('The value the claim must have; unset: any value but `false`, `null` and an empty string.')
            .optional(),
        })
        .describe(
          'Callers whose verified token carries this claim (internal tools) may send free text under `allowList`.',
        )
        .optional(),
      getMaxAgeSec: z
        .int()
        .min(0)
        .describe(
          'A successful query sent by GET with a hash or `documentId` gets `Cache-Control: public, max-age=<this>` (`private` when the request carries credentials) so a CDN can keep it; mutations, errors and misses never do. 0: `no-store`.',
        )
        .default(60),
    })
    .describe('Persisted operations: automatic persisted queries and trusted documents (docs/persisted-operations.md).')
    .prefault({}),
  policies: policiesConfigSchema,
  progressiveOverride: progressiveOverrideSchema,
  log: z
    .strictObject({
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .describe('Log level.')
        .default('info'),
      requests: z.boolean().describe('One `request completed` line per HTTP request.').default(true),
      probes: z
        .enum(['info', 'debug', 'off'])
        .describe(
          'Level of the `request completed` line of `/health` and `/ready` (a probe every few seconds is noise at info).',
        )
        .default('debug'),
    })
    .describe('Structured logs: JSON lines (pino) on stdout.')
    .prefault({}),
});

/** Rules between sections: each names the key an operator has to change. */
export const configSchema = configShape.superRefine((c, ctx) => {
  if (c.policies.rateLimit?.store === 'redis' && !c.redis) {
    ctx.addIssue({
      code: 'custom',
      path: ['policies', 'rateLimit', 'store'],
      message: '`redis` needs the top-level `redis` section (or use `auto` or `memory`)',
    });
  }
  const persisted = c.persistedOperations;
  if (persisted.manifests && !c.supergraph.registry)
    for (const key of ['url', 'graph', 'token'] as const)
      if (persisted.manifests[key] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['persistedOperations', 'manifests', key],
          message: 'required when the supergraph does not come from a registry (`supergraph.registry`)',
        });
  if (persisted.mode === 'allowList' && !persisted.manifests)
    ctx.addIssue({
      code: 'custom',
      path: ['persistedOperations', 'mode'],
      message: '`allowList` needs `persistedOperations.manifests`: without them nothing would be allowed',
    });
  if (persisted.bypass && !c.policies.auth)
    ctx.addIssue({
      code: 'custom',
      path: ['persistedOperations', 'bypass'],
      message: 'a bypass claim is read from verified tokens: configure `policies.auth`',
    });
  // Judged after `all` is merged in, as the client sees it: `all` may hold the key and a subgraph its own cert.
  for (const name of Object.keys(c.subgraphs)) {
    const tls = layeredSubgraph(c.subgraphs, name).tls ?? {};
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['subgraphs', name, 'tls', tls.cert === undefined ? 'cert' : 'key'],
        message: 'a client certificate needs its key: set both `cert` and `key` (here or under `all`), or neither',
      });
    }
  }
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = DeepReadonly<z.output<typeof configSchema>>;
export type { DeepReadonly };
