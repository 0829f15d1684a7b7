import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../gateway/config/config-file.ts';
import { mergedTypeSchema } from '../gateway/stitched-sources/descriptor.ts';
import type { StitchSpec } from './stitched-source.ts';

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
      z
        .strictObject({
          kind: z
            .enum(['federation', 'graphql'])
            .describe(
              '`federation` (the default): a federation subgraph. `graphql`: a plain GraphQL service (no `_service`/`_entities`), joined through type merging (see docs/stitching.md).',
            )
            .default('federation'),
          routing_url: z.url(),
          schema: schemaSource
            .describe(
              "Where the SDL comes from. For `kind: graphql`, the service's own SDL (`subgraph_url` is read by introspection) and optional: unset, `routing_url` is introspected.",
            )
            .optional(),
          merge: z
            .record(z.string(), mergedTypeSchema)
            .describe(
              '`kind: graphql` only. Type name → how the type merges with the same type in other subgraphs (stitching `merge` config).',
            )
            .optional(),
          directives: z
            .record(z.string(), z.array(z.string().min(2)))
            .describe(
              '`kind: graphql` only. Schema coordinate (`Type` or `Type.field`) → Federation directives to attach there (`@cost(weight: 5)`, `@listSize(…)`, `@requiresScopes(…)`, `@shareable`…): what the service cannot declare itself.',
            )
            .optional(),
        })
        .superRefine(
          (s, ctx) => {
            if ((s.kind ?? 'federation') !== 'federation') return;
            if (!s.schema) ctx.addIssue({ code: 'custom', path: ['schema'], message: 'Invalid input' });
            for (const key of ['merge', 'directives'] as const)
              if (s[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'only for `kind: graphql`' });
          },
          // Also when another key is wrong: every problem of the entry is reported at once.
          { when: (p) => typeof p.value === 'object' && p.value !== null },
        ),
    )
    .refine((s) => Object.keys(s).length > 0, 'at least one subgraph is required'),
});

export type SupergraphConfig = z.output<typeof supergraphConfigSchema>;
export interface SubgraphSource {
  name: string;
  routingUrl: string;
  schema: { file: string } | { subgraphUrl: string } | { sdl: string };
  /** `kind: graphql`: the schema is the service's own, turned into a subgraph SDL by this. */
  stitch?: StitchSpec;
}

/** Reads a `supergraph.yaml`; schema files are made absolute against its folder. */
export function loadSupergraphConfig(file: string): SubgraphSource[] {
  const config = readConfigFile(file, { schema: supergraphConfigSchema }, {});
  const base = dirname(resolve(file));
  return Object.entries(config.subgraphs).map(([name, s]) => {
    // A plain service without a schema entry is introspected where it is routed to.
    const schema = s.schema ?? { subgraph_url: s.routing_url };
    return {
      name,
      routingUrl: s.routing_url,
      schema:
        'file' in schema
          ? { file: resolve(base, schema.file) }
          : 'subgraph_url' in schema
            ? { subgraphUrl: schema.subgraph_url }
            : { sdl: schema.sdl },
      ...(s.kind === 'graphql' ? { stitch: { merge: s.merge ?? {}, directives: s.directives ?? {} } } : {}),
    };
  });
}
