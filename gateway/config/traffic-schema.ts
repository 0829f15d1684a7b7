import { z } from 'zod';
import { headerName } from '../../policies/config-values.ts';

/**
 * Traffic settings of one subgraph (several instances, balancing, outlier ejection, canary,
 * mirror) and the progressive-override section. Declared here and spread into
 * `subgraphSettingsSchema` / the top-level shape, so schema.ts only gains the keys; the rules
 * between keys (`trafficIssues`) run after `all` is merged in, as the client sees the settings.
 */

const httpUrl = z.url({ protocol: /^https?$/ });

/** Who a sticky canary follows: a request header's value or a verified JWT claim. */
const stickyBy = z
  .union([
    z.literal('none'),
    z.strictObject({ header: headerName.describe('Request header whose value keys the caller (e.g. `x-user-id`).') }),
    z.strictObject({
      claim: z.string().min(1).describe('Verified JWT claim whose value keys the caller (e.g. `sub`).'),
    }),
  ])
  .describe(
    '`none`: each fetch draws; `{ header }` or `{ claim }`: the caller is hashed (consistent hashing) so the same caller always lands on the same side, and a weight raised from 5 to 50 keeps the first 5 % where they were. A caller without the header or claim draws per fetch.',
  );

export const trafficSettingsShape = {
  urls: z
    .array(httpUrl)
    .min(1)
    .max(64)
    .describe(
      'Several instances of the subgraph (replaces the routing URL; `url` may also be given as a list). Each instance has its own connection pool and circuit breaker; `balance` picks one per attempt and a retry goes to another instance where one is left.',
    )
    .optional(),
  balance: z
    .enum(['least-outstanding', 'power-of-two', 'round-robin'])
    .describe(
      'How an instance is picked per attempt: `least-outstanding` (fewest requests in flight, ties broken at random), `power-of-two` (the less busy of two drawn at random) or `round-robin`.',
    )
    .default('least-outstanding'),
  outlierDetection: z
    .strictObject({
      enabled: z.boolean().describe('Eject failing instances (only with two or more instances).').default(true),
      consecutiveFailures: z
        .int()
        .min(1)
        .describe(
          'Failed attempts in a row (connection errors, timeouts, 5xx) that eject an instance. After readmission one failure ejects it again.',
        )
        .default(5),
      errorRatePercent: z
        .number()
        .min(1)
        .max(100)
        .describe('Share of failed attempts over `windowMs` that ejects an instance (once `minRequests` were seen).')
        .default(50),
      minRequests: z.int().min(1).describe('Attempts in the window before the error rate is judged.').default(20),
      windowMs: z.int().positive().describe('Window of the error rate.').default(10_000),
      baseEjectionMs: z
        .int()
        .positive()
        .describe('First ejection time; each ejection in a row multiplies it (Envoy-style backoff).')
        .default(30_000),
      maxEjectionMs: z.int().positive().describe('Longest ejection.').default(300_000),
      maxEjectedPercent: z
        .int()
        .min(0)
        .max(100)
        .describe('Most instances ejected at once, as a share; one may always be ejected while another serves.')
        .default(50),
    })
    .describe('Envoy-style outlier ejection: an instance that keeps failing gets no traffic for a backoff period.')
    .prefault({}),
  canary: z
    .strictObject({
      url: httpUrl.describe('The canary instance (a new version of the subgraph).'),
      weight: z.number().min(0).max(100).describe('Share of fetches (per cent) sent to the canary.'),
      stickyBy: stickyBy.default('none'),
    })
    .describe(
      "A weighted canary: `weight` % of the subgraph's fetches go to `url`. It has its own breaker and outlier state; while it is open or ejected its share goes to the stable instances. Not allowed under `all`.",
    )
    .optional(),
  mirror: z
    .strictObject({
      url: httpUrl.describe('Where copies are sent; its answers are compared, never used.'),
      ratio: z.number().min(0).max(1).describe('Share of queries copied.').default(1),
      timeoutMs: z.int().positive().describe('Deadline of one copy.').default(2_000),
      maxConcurrency: z
        .int()
        .positive()
        .describe('Copies in flight at most; past it a copy is dropped (counted), never queued.')
        .default(32),
      compareResponses: z
        .boolean()
        .describe(
          'Compare each copy\'s JSON with the real answer (`tessera_subgraph_mirror_requests_total{outcome="same|different"}`).',
        )
        .default(true),
    })
    .describe(
      "Traffic shadowing: after a query fetch succeeded, a copy (same body and headers, plus `x-tessera-mirror: 1`) is sent to `url` in the background. Never mutations; never on the client's path. Not allowed under `all`.",
    )
    .optional(),
};

type Layered = {
  readonly url?: string | readonly string[] | undefined;
  readonly urls?: readonly string[] | undefined;
  readonly canary?: { readonly url: string } | undefined;
  readonly mirror?: { readonly url: string } | undefined;
};

/** The configured instances of a subgraph, or null when its routing URL is used. */
export function configuredInstances(s: Layered): readonly string[] | null {
  if (s.urls) return s.urls;
  if (Array.isArray(s.url)) return s.url as readonly string[];
  if (typeof s.url === 'string') return [s.url];
  return null;
}

/** Same instance: scheme, host, port and path (a trailing slash or default port is not a difference). */
export function sameEndpoint(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.origin === y.origin && x.pathname.replace(/\/$/, '') === y.pathname.replace(/\/$/, '');
}

/** Rules between the traffic keys of one subgraph (after `all` is merged in); each issue names its key. */
export function trafficIssues(name: string, s: Layered, raw: Layered): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  const at = (...key: string[]) => ['subgraphs', name, ...key];
  if (name === 'all') {
    for (const key of ['urls', 'canary', 'mirror'] as const)
      if (raw[key] !== undefined)
        issues.push({ path: at(key), message: `\`${key}\` can only be set per subgraph, not under \`all\`` });
    return issues;
  }
  if (raw.urls !== undefined && raw.url !== undefined)
    issues.push({ path: at('urls'), message: 'set `url` or `urls`, not both' });
  const instances = configuredInstances(s) ?? [];
  instances.forEach((u, i) => {
    const dup = instances.findIndex((v) => sameEndpoint(u, v));
    if (dup !== i)
      issues.push({ path: at(raw.urls ? 'urls' : 'url', String(i)), message: `the same instance as entry ${dup}` });
  });
  for (const key of ['canary', 'mirror'] as const) {
    const url = s[key]?.url;
    if (url === undefined) continue;
    const i = instances.findIndex((v) => sameEndpoint(url, v));
    if (i !== -1)
      issues.push({
        path: at(key, 'url'),
        message: `the same as instance ${i}: a ${key} must be a different deployment`,
      });
  }
  if (s.canary && s.mirror && sameEndpoint(s.canary.url, s.mirror.url))
    issues.push({
      path: at('mirror', 'url'),
      message: 'the same as the canary: mirror a deployment that takes no real traffic',
    });
  return issues;
}

/** How a progressive-override label is switched on for a request. */
const labelRule = z
  .union([
    z.strictObject({
      header: headerName.describe('Request header that switches the label on.'),
      equals: z.string().describe('Value the header must have; unset: any value.').optional(),
    }),
    z.strictObject({
      claim: z.string().min(1).describe('Verified JWT claim that switches the label on.'),
      equals: z
        .union([z.string(), z.number(), z.boolean()])
        .describe('Value the claim must have (or contain, for a list); unset: present and not false.')
        .optional(),
    }),
  ])
  .describe('A header (with an optional value) or a verified claim (with an optional value).');

export const progressiveOverrideSchema = z
  .strictObject({
    labels: z
      .record(
        z.string().regex(/^[A-Za-z_][\w.:-]*$/, 'a label as written in `@override(label:)`'),
        z.array(labelRule).min(1),
      )
      .describe(
        'Custom `@override(label:)` labels and what switches each on per request (any rule of its list). `percent(N)` labels need nothing here: each request draws once.',
      )
      .default({}),
  })
  .describe(
    "Progressive override (`@override(from:, label:)`): decided once per request, the same for all of its fetches. Honoured by the `tessera` engine; the Apollo engine's query planner cannot be given the labels, so there the original subgraph always serves (see docs/traffic.md).",
  )
  .prefault({});
