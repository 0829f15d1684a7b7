import { z } from 'zod';

/**
 * Per-subgraph client settings. Every field is optional here because a named entry only lists
 * what it overrides; `subgraphDefaults` below supplies the rest (see resolve-subgraphs.ts).
 */
export const subgraphSettingsSchema = z.strictObject({
  /** Overrides the routing URL from the supergraph (e.g. service names inside docker-compose). */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Whole-request deadline for one subgraph fetch, retries included. */
  timeoutMs: z.int().positive().optional(),
  /** TCP + TLS connect timeout. */
  connectTimeoutMs: z.int().positive().optional(),
  pool: z
    .strictObject({
      /** Max sockets to this subgraph. */
      connections: z.int().positive().optional(),
      /** How long an idle keep-alive socket is kept. */
      keepAliveTimeoutMs: z.int().positive().optional(),
      /** Requests pipelined per socket; 1 = no pipelining. */
      pipelining: z.int().min(1).max(16).optional(),
    })
    .optional(),
});
export type SubgraphSettingsInput = z.infer<typeof subgraphSettingsSchema>;

export const subgraphDefaults = {
  timeoutMs: 10_000, // 10 s
  connectTimeoutMs: 2_000, // 2 s
  pool: { connections: 128, keepAliveTimeoutMs: 30_000, pipelining: 1 },
} as const;

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: z.int().min(0).max(65535).default(4000),
      /** Largest accepted request body. */
      bodyLimitBytes: z.int().positive().default(1_048_576), // 1 MiB
      /** Apollo's CSRF prevention: GET and simple POSTs need a non-simple header. */
      csrfPrevention: z.boolean().default(true),
      introspection: z.boolean().default(true),
      shutdown: z
        .strictObject({
          /** After SIGTERM, /ready answers 503 this long before the listener closes (load balancers notice). */
          readinessDelayMs: z.int().min(0).default(0),
          /** Longest wait for in-flight requests after the listener closes. */
          drainTimeoutMs: z.int().min(0).default(10_000), // 10 s
        })
        .prefault({}),
    })
    .prefault({}),
  supergraph: z
    .strictObject({
      /** Path of the composed supergraph SDL; relative to the config file. */
      file: z.string().min(1),
      /** Reload when the file changes (SIGHUP always reloads). */
      watch: z.boolean().default(true),
      /** Quiet period after a change before reading, so half-written files are not read. */
      watchDebounceMs: z.int().min(0).default(100),
    }),
  subgraphs: z
    .record(z.string().regex(/^[A-Za-z_][\w-]*$/, 'subgraph names are letters, digits, _ and -'), subgraphSettingsSchema)
    .superRefine((entries, ctx) => {
      if (entries['all']?.url !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['all', 'url'], message: '`url` can only be set per subgraph, not under `all`' });
      }
    })
    .default({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** One `request completed` line per HTTP request. */
      requests: z.boolean().default(true),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = DeepReadonly<z.output<typeof configSchema>>;

export type DeepReadonly<T> = T extends (infer U)[]
  ? ReadonlyArray<DeepReadonly<U>>
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
