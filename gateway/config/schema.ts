import { z } from 'zod';
import { headerName, headerValue } from '../../policies/config-values.ts';
import { policiesConfigSchema } from '../../policies/registry.ts';
import { compileOriginPattern } from '../http/cors.ts';
import { NEVER_FORWARDED } from '../subgraph-client/headers.ts';
import type { DeepReadonly } from './config-file.ts';
import { mergeOverrides, mergeRule, overridesOf } from './overrides.ts';

/** A PEM value: inline text, or a path to a file (read and checked at start-up by load.ts). */
const pem = z.string().min(1);

const tlsClientSchema = z.strictObject({
  /** CA bundle that signs the subgraph's server certificate (default: Node's root store). */
  ca: pem.optional(),
  /** Client certificate for mTLS. */
  cert: pem.optional(),
  /** Client private key for mTLS. */
  key: pem.optional(),
  /** SNI / name checked against the server certificate (default: the URL's host). */
  servername: z.string().min(1).optional(),
  rejectUnauthorized: z.boolean().optional(),
});

/** Header names the gateway owns on a subgraph request (connection-level, or content negotiation). */
const forwardable = headerName.refine((n) => !NEVER_FORWARDED.has(n.toLowerCase()), 'hop-by-hop or client-owned: it cannot be propagated');

/** Compiled here, as the header code compiles it, so a bad pattern stops start-up with its key. */
const headerPattern = z.string().min(1).superRefine((pattern, ctx) => {
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
  (n) => !['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect', 'host', 'content-length', 'http2-settings'].includes(n.toLowerCase()),
  'connection-level: the gateway sets it itself',
);

/**
 * Per-subgraph client settings, with their defaults. `subgraphs.all` and `subgraphs.<name>` each
 * list only what they change (`subgraphOverridesSchema`); resolve-subgraphs.ts merges the two and
 * parses the result with this schema, which fills in the rest.
 */
export const subgraphSettingsSchema = z.strictObject({
  /** Overrides the routing URL from the supergraph (e.g. service names inside docker-compose). */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Whole-request deadline for one subgraph fetch, retries included. */
  timeoutMs: z.int().positive().default(10_000), // 10 s
  /** Deadline of one attempt. */
  attemptTimeoutMs: z.int().positive().default(5_000), // 5 s
  /** TCP + TLS connect timeout. */
  connectTimeoutMs: z.int().positive().default(2_000), // 2 s
  pool: z
    .strictObject({
      /** Max sockets to this subgraph. */
      connections: z.int().positive().default(128),
      /** How long an idle keep-alive socket is kept. */
      keepAliveTimeoutMs: z.int().positive().default(30_000),
      /** Requests pipelined per socket; 1 = no pipelining. */
      pipelining: z.int().min(1).max(16).default(1),
    })
    .prefault({}),
  retry: z
    .strictObject({
      /** Total attempts, the first included; 1 disables retries. */
      maxAttempts: z.int().min(1).max(10).default(3),
      /** Exponential backoff base; each delay is random in [0, min(maxDelayMs, baseDelayMs·2^n)]. */
      baseDelayMs: z.int().min(0).default(25),
      maxDelayMs: z.int().min(0).default(1_000),
      /** Retries allowed per request over the budget window (0.2 = at most 20% extra load). */
      budgetRatio: z.number().min(0).max(10).default(0.2),
      /** Retries always allowed per second, so a quiet subgraph can still be retried. */
      budgetMinPerSecond: z.number().min(0).default(5),
      budgetWindowMs: z.int().min(1000).default(10_000),
    })
    .prefault({}),
  breaker: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Error percentage over the rolling window that opens the circuit. */
      errorThresholdPercentage: z.number().min(1).max(100).default(50),
      /** Requests in the window before the percentage counts. */
      volumeThreshold: z.int().min(1).default(20),
      rollingWindowMs: z.int().min(100).default(10_000),
      /** Time open before one half-open probe is let through. */
      resetTimeoutMs: z.int().min(10).default(5_000),
    })
    .prefault({}),
  /** Share one in-flight subgraph request among identical query fetches (never mutations). */
  dedupe: z.boolean().default(true),
  headers: z
    .strictObject({
      /** Client headers forwarded to the subgraph (hop-by-hop headers never are): `all`'s rules, then the subgraph's own. */
      propagate: z.array(headerRuleSchema).register(mergeRule, { merge: 'append' }).default([]),
      /** Static headers set on every request to the subgraph; merged by name with `all`'s. */
      set: z.record(settableHeader, headerValue).default({}),
    })
    .prefault({}),
  tls: tlsClientSchema.prefault({}),
  /**
   * Protects the subgraph: at most this many requests per second from this gateway (token bucket).
   * A subgraph's own replaces `all`'s as a whole (a burst sized for one rate does not fit another);
   * `null` there turns off a cap set under `all`.
   */
  rateLimit: z
    .strictObject({
      requestsPerSecond: z.number().positive(),
      /** Requests allowed at once after a quiet period (default: one second's worth). */
      burst: z.int().positive().optional(),
    })
    .transform((r) => ({ requestsPerSecond: r.requestsPerSecond, burst: r.burst ?? Math.max(1, Math.ceil(r.requestsPerSecond)) }))
    .register(mergeRule, { merge: 'whole' })
    .nullable()
    .default(null),
  /** Largest answer read from the subgraph; the body is abandoned as soon as it passes this. */
  maxResponseBytes: z.int().positive().default(16 * 1024 * 1024), // 16 MiB, Apollo Router's http_max_response_size
  /** What of the subgraph's GraphQL errors reaches clients (the rest is logged). */
  errors: z
    .strictObject({
      /** `extensions` keys passed to clients besides `code` (and the `serviceName` the gateway adds); a subgraph's list replaces `all`'s, so it can narrow it. */
      include: z.array(z.string().min(1)).default([]),
      /** Keep the subgraph's messages; `false` replaces them with a generic one. */
      exposeMessages: z.boolean().default(true),
    })
    .prefault({}),
});

/** What `subgraphs.all` and `subgraphs.<name>` accept: the same settings, each optional, no default filled in. */
export const subgraphOverridesSchema = overridesOf(subgraphSettingsSchema);
export type SubgraphOverrides = z.input<typeof subgraphSettingsSchema>;

/** `subgraphs.all` with `subgraphs.<name>` laid over it, defaults not yet filled in. */
export function layeredSubgraph(subgraphs: Readonly<Record<string, DeepReadonly<SubgraphOverrides>>>, name: string): DeepReadonly<SubgraphOverrides> {
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
    ctx.addIssue({ code: 'custom', message: `not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash${hint}; use { matching: regex } for others` });
  }
});

/** Compiled here as cors.ts compiles it (anchored), so a bad pattern stops start-up with its key. */
const originPattern = z.string().min(1).superRefine((pattern, ctx) => {
  try {
    compileOriginPattern(pattern);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${(err as Error).message})` });
  }
});

const corsSchema = z
  .strictObject({
    /** Exact origins, `{ matching: regex }` (matched against the whole origin), or `[*]` for any origin. */
    origins: z.array(z.union([exactOrigin, z.strictObject({ matching: originPattern })])).min(1),
    /** Let pages send cookies / HTTP auth (`credentials: 'include'`) and read the answer. */
    credentials: z.boolean().default(false),
    /** How long a browser may reuse a preflight answer (Chromium caps it at 7200). */
    maxAgeSec: z.int().min(0).max(86_400).default(600),
    /** Request headers a page may send (beyond the CORS-safelisted ones); `*` allows any. */
    allowedHeaders: z.array(headerName).default(['content-type', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-request-id', 'x-tessera-cost']),
    /** Response headers a page may read (beyond the CORS-safelisted ones). */
    exposedHeaders: z.array(headerName).default(['x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after']),
  })
  .superRefine((cors, ctx) => {
    const star = cors.origins.indexOf('*');
    if (star !== -1 && cors.origins.length > 1) ctx.addIssue({ code: 'custom', path: ['origins', star], message: '`*` allows every origin: list it alone' });
    if (star !== -1 && cors.credentials) ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'browsers refuse credentials with `Access-Control-Allow-Origin: *`: list the origins instead of `*`' });
  });

/** Graph and variant names as the registry's routes accept them; any other name is a 404 forever. */
const registryName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)');

const configShape = z.strictObject({
  server: z
    .strictObject({
      host: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'an IP address or a host name' }).default('0.0.0.0'),
      port: z.int().min(0).max(65535).default(4000),
      /** Largest accepted request body. */
      bodyLimitBytes: z.int().positive().default(1_048_576), // 1 MiB
      /** From a request's first byte until its body is fully received; past it: 408 and the connection is closed. */
      requestTimeoutMs: z.int().positive().default(30_000), // 30 s
      /** From a request's first byte until its headers are complete; at most `requestTimeoutMs` (Node's rule). */
      headersTimeoutMs: z.int().positive().default(10_000), // 10 s
      /** Open client connections at once; past it a new connection is closed as soon as it is accepted. */
      maxConnections: z.int().positive().default(10_000),
      /** Apollo's CSRF prevention: GET and simple POSTs need a non-simple header. */
      csrfPrevention: z.boolean().default(true),
      introspection: z.boolean().default(true),
      /** Cross-origin browser access; absent: no CORS headers (browsers keep other origins' pages out). */
      cors: corsSchema.optional(),
      /** GraphiQL for browsers on `GET /graphql` and `/`; on by default except under `NODE_ENV=production`. */
      landingPage: z.boolean().default(() => process.env['NODE_ENV'] !== 'production'),
      /** TLS for the gateway's own listener. */
      tls: z
        .strictObject({
          cert: pem,
          key: pem,
          /** CA for client certificates; with `requestClientCert`, clients must present one it signed. */
          ca: pem.optional(),
          requestClientCert: z.boolean().default(false),
        })
        .optional(),
      shutdown: z
        .strictObject({
          /** After SIGTERM, /ready answers 503 this long before the listener closes (load balancers notice). */
          readinessDelayMs: z.int().min(0).default(0),
          /** Longest wait for in-flight requests after the listener closes. */
          drainTimeoutMs: z.int().min(0).default(10_000), // 10 s
        })
        .prefault({}),
    })
    .refine((s) => s.headersTimeoutMs <= s.requestTimeoutMs, { path: ['headersTimeoutMs'], message: 'must be at most `server.requestTimeoutMs`' })
    .prefault({}),
  /** Prometheus text on a listener of its own, so the public port never exposes it. */
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Loopback by default: scrapers run beside the gateway (or set 0.0.0.0 inside a pod). */
      host: z.string().min(1).default('127.0.0.1'),
      /** 9464 is the port OpenTelemetry's Prometheus exporter uses; 0 picks a free one. */
      port: z.int().min(0).max(65535).default(9464),
    })
    .prefault({}),
  supergraph: z
    .strictObject({
      /** Path of the composed supergraph SDL; relative to the config file. */
      file: z.string().min(1).optional(),
      /** Or: the supergraph of a registry variant, polled. */
      registry: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }),
          graph: registryName,
          variant: registryName.default('production'),
          /** A token with `read` permission (also used to report field usage). */
          token: z.string().min(1),
          pollIntervalMs: z.int().min(100).default(10_000),
          timeoutMs: z.int().positive().default(5_000),
          /** Last good supergraph, written on every accepted version; read at start-up when the registry is down. */
          cacheFile: z.string().min(1).default('.tessera/registry-supergraph.graphql'),
          /** Report which fields operations use, for usage-aware `subgraph check`. */
          usageReporting: z.boolean().default(true),
          usageFlushIntervalMs: z.int().min(100).default(10_000),
        })
        .optional(),
      /** Reload when the file changes (SIGHUP always reloads). */
      watch: z.boolean().default(true),
      /** Quiet period after a change before reading, so half-written files are not read. */
      watchDebounceMs: z.int().min(0).default(100),
      /** Longest wait, after a reload, for requests still running on the superseded supergraph before its subgraph clients close. */
      reloadDrainTimeoutMs: z.int().min(0).default(30_000), // 30 s
    })
    .refine((s) => (s.file === undefined) !== (s.registry === undefined), { message: 'set exactly one of `supergraph.file` and `supergraph.registry`' }),
  subgraphs: z
    .record(z.string().regex(/^[A-Za-z_][\w-]*$/, 'subgraph names are letters, digits, _ and -'), subgraphOverridesSchema)
    .superRefine((entries, ctx) => {
      if (entries['all']?.url !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['all', 'url'], message: '`url` can only be set per subgraph, not under `all`' });
      }
    })
    .default({}),
  /** Shared by the rate-limit policy (and any other policy that needs cross-replica state). */
  redis: z
    .strictObject({
      url: z.url({ protocol: /^rediss?$/ }),
      /** Prefix of every key Tessera writes. */
      keyPrefix: z.string().default('tessera:'),
      connectTimeoutMs: z.int().positive().default(2_000),
      /** A command slower than this fails (and the rate limiter applies its failure mode) instead of holding the request. */
      commandTimeoutMs: z.int().positive().default(500),
    })
    .optional(),
  policies: policiesConfigSchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** One `request completed` line per HTTP request. */
      requests: z.boolean().default(true),
    })
    .prefault({}),
});

/** Rules between sections: each names the key an operator has to change. */
export const configSchema = configShape.superRefine((c, ctx) => {
  if (c.policies.rateLimit?.store === 'redis' && !c.redis) {
    ctx.addIssue({ code: 'custom', path: ['policies', 'rateLimit', 'store'], message: '`redis` needs the top-level `redis` section (or use `auto` or `memory`)' });
  }
  // Judged after `all` is merged in, as the client sees it: `all` may hold the key and a subgraph its own cert.
  for (const name of Object.keys(c.subgraphs)) {
    const tls = layeredSubgraph(c.subgraphs, name).tls ?? {};
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['subgraphs', name, 'tls', tls.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs its key: set both `cert` and `key` (here or under `all`), or neither' });
    }
  }
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = DeepReadonly<z.output<typeof configSchema>>;
export type { DeepReadonly };
