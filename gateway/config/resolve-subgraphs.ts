import { z } from 'zod';
import { deepFreeze } from './config-file.ts';
import { configuredInstances } from './traffic-schema.ts';
import { layeredSubgraph, subgraphSettingsSchema, type Config, type DeepReadonly } from './schema.ts';

/** One subgraph's client settings, every default filled in: its name and the URL it is reached at, plus the schema's fields. */
const resolvedSettingsSchema = subgraphSettingsSchema.extend({
  name: z.string(),
  /** The first instance (the only one, unless `urls` or a list `url` gives several). */
  url: z.string(),
  /** Every stable instance, in configured order; the routing URL alone when none is configured. */
  instances: z.array(z.string()).min(1),
});
export type SubgraphSettings = DeepReadonly<z.output<typeof resolvedSettingsSchema>>;

/** defaults ← `subgraphs.all` ← `subgraphs.<name>`, for one subgraph of the loaded supergraph. */
export function resolveSubgraphSettings(config: Config, name: string, routingUrl: string): SubgraphSettings {
  // The layers were validated at start-up; this parse only fills in defaults (and cannot fail).
  const layered = layeredSubgraph(config.subgraphs, name);
  const instances = configuredInstances(layered) ?? [routingUrl];
  return deepFreeze(resolvedSettingsSchema.parse({ ...layered, url: instances[0], instances, name }));
}

/** Names under `subgraphs:` that match no subgraph of the supergraph: almost always a typo. */
export function unknownSubgraphNames(config: Config, supergraphNames: Iterable<string>): string[] {
  const known = new Set(supergraphNames);
  return Object.keys(config.subgraphs).filter((n) => n !== 'all' && !known.has(n));
}
