import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../gateway/config/schema.ts';
import { registryConfigSchema } from '../supergraph/registry/config.ts';
import { supergraphConfigSchema } from '../supergraph/supergraph-config.ts';

/**
 * JSON Schemas of the YAML configs, generated from their zod schemas so editors complete and check
 * what start-up will accept (`# yaml-language-server: $schema=…` in a config file points at one).
 * They describe what a file may contain (`io: 'input'`: keys with defaults are optional and show
 * them); rules between keys (refinements) are checked at start-up only.
 */
export const configSchemas = [
  { file: 'schemas/tessera.schema.json', title: 'Tessera gateway config (tessera.yaml)', schema: configSchema },
  {
    file: 'schemas/registry.schema.json',
    title: 'Tessera schema registry config (registry.yaml)',
    schema: registryConfigSchema,
  },
  {
    file: 'schemas/supergraph.schema.json',
    title: 'Composition config (supergraph.yaml, Rover format)',
    schema: supergraphConfigSchema,
  },
] as const;

export function renderConfigSchema(entry: (typeof configSchemas)[number]): string {
  const generated = z.toJSONSchema(entry.schema, {
    io: 'input',
    // Draft 7: the JSON Schema version the YAML language server (VS Code, IntelliJ's YAML plugin) validates.
    target: 'draft-7',
    override: ({ jsonSchema }) => {
      // z.int() states the safe-integer range on every integer: true, and noise in an editor tooltip.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    },
  });
  const { $schema, ...rest } = generated;
  return `${JSON.stringify({ $schema, title: entry.title, ...rest }, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const entry of configSchemas) {
    const file = join(root, entry.file);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderConfigSchema(entry));
    process.stdout.write(`${entry.file} regenerated\n`);
  }
}
