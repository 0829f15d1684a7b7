import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayConfigSpec } from '../gateway/config/load.ts';
import { configSchema, subgraphSettingsSchema } from '../gateway/config/schema.ts';
import { registryConfigSchema } from '../supergraph/registry/config.ts';
import { renderCliTable } from './cli-table.ts';
import { renderConfigReference } from './config-reference.ts';
import { renderConformanceTable } from './conformance-table.ts';
import { configSchemas, renderConfigSchema } from './config-schemas.ts';
import { renderErrorTables } from './error-table.ts';
import { renderMetricsTable } from './metrics-table.ts';

/**
 * Every generated part of the docs: a block between `<!-- generated:begin <id> … -->` and
 * `<!-- generated:end <id> -->` in a Markdown file, rendered from the code that is the truth.
 * `npm run docs` rewrites them (and the JSON Schemas under schemas/, which
 * test/contract/config-schemas.test.ts checks); test/contract/docs.test.ts renders them again and
 * fails on a diff.
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
 * A few defaults depend on the environment (`server.landingPage` is off under
 * `NODE_ENV=production`, as its description says); the docs show them as they are elsewhere, so
 * what is generated does not depend on the shell it is generated in.
 */
export function outsideProduction<T>(render: () => T): T {
  const saved = process.env['NODE_ENV'];
  delete process.env['NODE_ENV'];
  try {
    return render();
  } finally {
    if (saved !== undefined) process.env['NODE_ENV'] = saved;
  }
}

/**
 * `subgraphs.all` and `subgraphs.<name>` only list what they change, so their schema has no
 * defaults; what a key is when no layer sets it is what the full settings schema fills in.
 */
const subgraphDefaults: unknown = subgraphSettingsSchema.parse({});
function subgraphDefault(path: readonly string[]): { value: unknown } | undefined {
  if (path[0] !== 'subgraphs' || path[1] !== '<name>') return undefined;
  let node = subgraphDefaults;
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
    render: () =>
      outsideProduction(() =>
        renderConfigReference(configSchema, { heading: '###', defaultOf: subgraphDefault, env: gatewayConfigSpec.env }),
      ),
  },
  {
    file: 'docs/configuration.md',
    id: 'registry-yaml',
    source: 'supergraph/registry/config.ts',
    // The suffix keeps these headings' anchors apart from tessera.yaml's (both have `server`, `log`).
    render: () => renderConfigReference(registryConfigSchema, { heading: '###', headingSuffix: ' (registry)' }),
  },
  {
    file: 'docs/configuration.md',
    id: 'environment',
    source: 'gateway/config/load.ts',
    render: () =>
      [
        '| variable | sets |',
        '| --- | --- |',
        ...(gatewayConfigSpec.env ?? []).map((e) => `| \`${e.env}\` | \`${e.path.join('.')}\` |`),
      ].join('\n'),
  },
  { file: 'docs/errors.md', id: 'errors', source: 'gateway/errors/codes.ts', render: renderErrorTables },
  {
    file: 'docs/metrics.md',
    id: 'metrics',
    source: 'gateway/observability/metrics.ts and the policies',
    render: renderMetricsTable,
  },
  { file: 'docs/cli.md', id: 'cli', source: 'bin/cli-commands.ts', render: renderCliTable },
  {
    file: 'docs/conformance.md',
    id: 'conformance',
    source: 'test/conformance/cases/',
    render: renderConformanceTable,
  },
];

export const beginMarker = (b: GeneratedBlock) =>
  `<!-- generated:begin ${b.id} (by \`npm run docs\` from ${b.source}; do not edit) -->`;
export const endMarker = (b: GeneratedBlock) => `<!-- generated:end ${b.id} -->`;

/** `text` with each of `file`'s blocks replaced by a fresh rendering. */
export async function regenerate(file: string, text: string): Promise<string> {
  let out = text;
  for (const b of generatedBlocks.filter((g) => g.file === file)) {
    const begin = out.search(new RegExp(`<!-- generated:begin ${b.id}\\b[^\\n]*-->`));
    const endText = endMarker(b);
    const end = out.indexOf(endText);
    if (begin === -1 || end === -1 || end < begin)
      throw new Error(`${file} has no ${b.id} block (${beginMarker(b)} … ${endText})`);
    out = `${out.slice(0, begin)}${beginMarker(b)}\n\n${await b.render()}\n\n${out.slice(end)}`;
  }
  return out;
}

export const generatedFiles = (): string[] => [...new Set(generatedBlocks.map((b) => b.file))];

export async function main(): Promise<void> {
  for (const entry of configSchemas) {
    const path = join(repoRoot, entry.file);
    const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const after = outsideProduction(() => renderConfigSchema(entry));
    if (after !== before) writeFileSync(path, after);
    process.stdout.write(`${entry.file}: ${after === before ? 'up to date' : 'regenerated'}\n`);
  }
  for (const file of generatedFiles()) {
    const path = join(repoRoot, file);
    const before = readFileSync(path, 'utf8');
    const after = await regenerate(file, before);
    if (after !== before) writeFileSync(path, after);
    process.stdout.write(`${file}: ${after === before ? 'up to date' : 'regenerated'}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
