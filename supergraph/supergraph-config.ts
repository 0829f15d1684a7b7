import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../gateway/config/config-file.ts';

/** Rover's `supergraph.yaml`, the format service teams already write. */
const schemaSource = z.union([
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ subgraph_url: z.url() }),
  z.strictObject({ sdl: z.string().min(1) }),
]);

export const supergraphConfigSchema = z.strictObject({
  federation_version: z
    .union([z.string(), z.number()])
    .transform(String)
    .refine((v) => /^=?2(\.|$)/.test(v), 'only Federation 2 (e.g. "=2.9.0" or "2") is supported')
    .default('2'),
  subgraphs: z
    .record(
      z.string().regex(/^[A-Za-z_][\w-]*$/, 'subgraph names are letters, digits, _ and -'),
      z.strictObject({ routing_url: z.url(), schema: schemaSource }),
    )
    .refine((s) => Object.keys(s).length > 0, 'at least one subgraph is required'),
});

export type SupergraphConfig = z.output<typeof supergraphConfigSchema>;
export interface SubgraphSource {
  name: string;
  routingUrl: string;
  schema: { file: string } | { subgraphUrl: string } | { sdl: string };
}

/** Reads a `supergraph.yaml`; schema files are made absolute against its folder. */
export function loadSupergraphConfig(file: string): SubgraphSource[] {
  const config = readConfigFile(file, { schema: supergraphConfigSchema }, {});
  const base = dirname(resolve(file));
  return Object.entries(config.subgraphs).map(([name, s]) => ({
    name,
    routingUrl: s.routing_url,
    schema:
      'file' in s.schema
        ? { file: resolve(base, s.schema.file) }
        : 'subgraph_url' in s.schema
          ? { subgraphUrl: s.schema.subgraph_url }
          : { sdl: s.schema.sdl },
  }));
}
