import { subgraphDefaults, type SubgraphSettingsInput } from './schema.ts';
import type { Config } from './schema.ts';

export interface SubgraphSettings {
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly pool: { readonly connections: number; readonly keepAliveTimeoutMs: number; readonly pipelining: number };
}

/** defaults ← `subgraphs.all` ← `subgraphs.<name>`, for one subgraph of the loaded supergraph. */
export function resolveSubgraphSettings(config: Config, name: string, routingUrl: string): SubgraphSettings {
  const all: Readonly<SubgraphSettingsInput> = config.subgraphs['all'] ?? {};
  const own: Readonly<SubgraphSettingsInput> = config.subgraphs[name] ?? {};
  return {
    name,
    url: own.url ?? routingUrl,
    timeoutMs: own.timeoutMs ?? all.timeoutMs ?? subgraphDefaults.timeoutMs,
    connectTimeoutMs: own.connectTimeoutMs ?? all.connectTimeoutMs ?? subgraphDefaults.connectTimeoutMs,
    pool: { ...subgraphDefaults.pool, ...all.pool, ...own.pool },
  };
}

/** Names under `subgraphs:` that match no subgraph of the supergraph: almost always a typo. */
export function unknownSubgraphNames(config: Config, supergraphNames: Iterable<string>): string[] {
  const known = new Set(supergraphNames);
  return Object.keys(config.subgraphs).filter((n) => n !== 'all' && !known.has(n));
}
