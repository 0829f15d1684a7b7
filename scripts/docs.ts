import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as gatewaySchema from '../gateway/config/schema.ts';
import { registryConfigSchema } from '../supergraph/registry/config.ts';
import { renderCliTable } from './cli-table.ts';
import { renderConfigReference } from './config-reference.ts';
import { renderErrorTables } from './error-table.ts';
import { renderMetricsTable } from './metrics-table.ts';

/**
 * Every generated part of the docs: a block between `<!-- generated:begin <id> … -->` and
 * `<!-- generated:end <id> -->` in a Markdown file, rendered from the code that is the truth.
 * `npm run docs` rewrites them; test/contract/docs.test.ts renders them again and fails on a diff.
 */
export interface GeneratedBlock {
  readonly file: string;
  readonly id: string;
  /** What it is rendered from, named in the begin marker. */
  readonly source: string;
  render(): string | Promise<string>;
}

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Per-subgraph defaults live in `subgraphDefaults` beside the schema until the schema declares
 * them itself (issue 14, item 4); read through the module so either shape type-checks.
 */
const subgraphDefaults = (gatewaySchema as Record<string, unknown>)['subgraphDefaults'];
function subgraphDefault(path: readonly string[]): { value: unknown } | undefined {
  if (path[0] !== 'subgraphs' || path[1] !== '<name>' || typeof subgraphDefaults !== 'object' || subgraphDefaults === null) return undefined;
  let node: unknown = subgraphDefaults;
  for (const key of path.slice(2)) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return { value: node };
}

export const generatedBlocks: readonly GeneratedBlock[] = [
  {
    file: 'docs/configuration.md',
    id: 'tessera-yaml',
    source: 'gateway/config/schema.ts',
    render: () => renderConfigReference(gatewaySchema.configSchema, { heading: '###', defaultOf: subgraphDefault }),
  },
  {
    file: 'docs/configuration.md',
    id: 'registry-yaml',
    source: 'supergraph/registry/config.ts',
    // The suffix keeps these headings' anchors apart from tessera.yaml's (both have `server`, `log`).
    render: () => renderConfigReference(registryConfigSchema, { heading: '###', headingSuffix: ' (registry)' }),
  },
  { file: 'docs/errors.md', id: 'errors', source: 'gateway/errors/codes.ts', render: renderErrorTables },
  { file: 'docs/metrics.md', id: 'metrics', source: 'gateway/observability/metrics.ts and the policies', render: renderMetricsTable },
  { file: 'docs/cli.md', id: 'cli', source: 'bin/cli-commands.ts', render: renderCliTable },
];

export const beginMarker = (b: GeneratedBlock) => `<!-- generated:begin ${b.id} (by \`npm run docs\` from ${b.source}; do not edit) -->`;
export const endMarker = (b: GeneratedBlock) => `<!-- generated:end ${b.id} -->`;

/** `text` with each of `file`'s blocks replaced by a fresh rendering. */
export async function regenerate(file: string, text: string): Promise<string> {
  let out = text;
  for (const b of generatedBlocks.filter((g) => g.file === file)) {
    const begin = out.search(new RegExp(`<!-- generated:begin ${b.id}\\b[^\\n]*-->`));
    const endText = endMarker(b);
    const end = out.indexOf(endText);
    if (begin === -1 || end === -1 || end < begin) throw new Error(`${file} has no ${b.id} block (${beginMarker(b)} … ${endText})`);
    out = `${out.slice(0, begin)}${beginMarker(b)}\n\n${await b.render()}\n\n${out.slice(end)}`;
  }
  return out;
}

export const generatedFiles = (): string[] => [...new Set(generatedBlocks.map((b) => b.file))];

export async function main(): Promise<void> {
  for (const file of generatedFiles()) {
    const path = join(repoRoot, file);
    const before = readFileSync(path, 'utf8');
    const after = await regenerate(file, before);
    if (after !== before) writeFileSync(path, after);
    process.stdout.write(`${file}: ${after === before ? 'up to date' : 'regenerated'}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
