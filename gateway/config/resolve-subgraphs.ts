import { subgraphDefaults, type Config, type DeepReadonly, type SubgraphSettingsInput } from './schema.ts';

type HeaderRule = { named: string; rename?: string; default?: string } | { matching: string };

export interface SubgraphSettings {
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly pool: { readonly connections: number; readonly keepAliveTimeoutMs: number; readonly pipelining: number };
  readonly retry: {
    readonly maxAttempts: number;
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    readonly budgetRatio: number;
    readonly budgetMinPerSecond: number;
    readonly budgetWindowMs: number;
  };
  readonly breaker: { readonly enabled: boolean; readonly errorThresholdPercentage: number; readonly volumeThreshold: number; readonly rollingWindowMs: number; readonly resetTimeoutMs: number };
  readonly dedupe: boolean;
  readonly headers: { readonly propagate: readonly HeaderRule[]; readonly set: Readonly<Record<string, string>> };
  /** The gateway's own request-rate cap towards this subgraph; null = none. */
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number } | null;
  /** PEM contents (files were read by load.ts). */
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly servername?: string; readonly rejectUnauthorized?: boolean };
  readonly maxResponseBytes: number;
  readonly errors: { readonly include: readonly string[]; readonly exposeMessages: boolean };
}

/** defaults ← `subgraphs.all` ← `subgraphs.<name>`, for one subgraph of the loaded supergraph. */
export function resolveSubgraphSettings(config: Config, name: string, routingUrl: string): SubgraphSettings {
  const all: DeepReadonly<SubgraphSettingsInput> = config.subgraphs['all'] ?? {};
  const own: DeepReadonly<SubgraphSettingsInput> = config.subgraphs[name] ?? {};
  const d = subgraphDefaults;
  return {
    name,
    url: own.url ?? routingUrl,
    timeoutMs: own.timeoutMs ?? all.timeoutMs ?? d.timeoutMs,
    attemptTimeoutMs: own.attemptTimeoutMs ?? all.attemptTimeoutMs ?? d.attemptTimeoutMs,
    connectTimeoutMs: own.connectTimeoutMs ?? all.connectTimeoutMs ?? d.connectTimeoutMs,
    pool: { ...d.pool, ...all.pool, ...own.pool },
    retry: { ...d.retry, ...all.retry, ...own.retry },
    breaker: { ...d.breaker, ...all.breaker, ...own.breaker },
    dedupe: own.dedupe ?? all.dedupe ?? d.dedupe,
    headers: {
      // Lists add up (`all` rules, then the subgraph's own); static headers merge by name.
      propagate: [...(all.headers?.propagate ?? []), ...(own.headers?.propagate ?? [])],
      set: { ...all.headers?.set, ...own.headers?.set },
    },
    tls: { ...all.tls, ...own.tls },
    rateLimit: rateLimitOf(own.rateLimit ?? all.rateLimit),
    maxResponseBytes: own.maxResponseBytes ?? all.maxResponseBytes ?? d.maxResponseBytes,
    errors: {
      // A subgraph's own list replaces the `all` one, so it can also narrow it.
      include: own.errors?.include ?? all.errors?.include ?? d.errors.include,
      exposeMessages: own.errors?.exposeMessages ?? all.errors?.exposeMessages ?? d.errors.exposeMessages,
    },
  };
}

function rateLimitOf(r: DeepReadonly<SubgraphSettingsInput>['rateLimit']): SubgraphSettings['rateLimit'] {
  return r ? { requestsPerSecond: r.requestsPerSecond, burst: r.burst ?? Math.max(1, Math.ceil(r.requestsPerSecond)) } : null;
}

/** Names under `subgraphs:` that match no subgraph of the supergraph: almost always a typo. */
export function unknownSubgraphNames(config: Config, supergraphNames: Iterable<string>): string[] {
  const known = new Set(supergraphNames);
  return Object.keys(config.subgraphs).filter((n) => n !== 'all' && !known.has(n));
}
