import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, readConfigFile } from '../../gateway/config/config-file.ts';
import { parseConfig } from '../../gateway/config/load.ts';
import { resolveSubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { configSchemas, renderConfigSchema } from '../../scripts/config-schemas.ts';
import { repoRoot } from '../../harness/process.ts';

const MODELINE = /^# yaml-language-server: \$schema=(\S+)\n/;
/** YAML in the repository that is not a Tessera config. */
const notTesseraConfigs = new Set(['docker-compose.yml']);

/** Every YAML file of the repository outside dependencies, build output and test scratch. */
function yamlFiles(dir = repoRoot): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory())
      return ['node_modules', '.git', 'dist', '.tessera', '.work', 'coverage', 'tmp'].includes(entry.name)
        ? []
        : yamlFiles(join(dir, entry.name));
    return /\.ya?ml$/.test(entry.name) ? [relative(repoRoot, join(dir, entry.name))] : [];
  });
}

/** The generated JSON Schema a config file names in its modeline, and the zod schema behind it. */
function schemaOf(file: string): (typeof configSchemas)[number] {
  const named = MODELINE.exec(readFileSync(join(repoRoot, file), 'utf8'))?.[1];
  assert.ok(named, `${file} starts with "# yaml-language-server: $schema=<path>" (editors complete and check it)`);
  const target = relative(repoRoot, resolve(dirname(join(repoRoot, file)), named));
  const entry = configSchemas.find((s) => s.file === target);
  assert.ok(entry, `${file} names ${target}, which is none of ${configSchemas.map((s) => s.file).join(', ')}`);
  return entry;
}

/** The problems the zod schema finds in a file (the files it names are not read: examples name files made at run time). */
function problems(file: string, schema: (typeof configSchemas)[number]['schema']): readonly string[] {
  try {
    readConfigFile(file, { schema }, {});
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
}

describe('JSON Schemas of the configs', () => {
  for (const entry of configSchemas) {
    it(`${entry.file} is what \`npm run docs:schema\` generates from the zod schema`, () => {
      assert.equal(
        readFileSync(join(repoRoot, entry.file), 'utf8'),
        renderConfigSchema(entry),
        `${entry.file} is stale: run \`npm run docs:schema\``,
      );
    });
  }

  it('every example config names its JSON Schema and validates against the schema behind it', () => {
    // The Helm chart's YAML is Kubernetes and Helm's own; its rendered configs are checked against
    // these schemas by test/contract/helm-chart.test.ts.
    const examples = yamlFiles().filter((f) => !notTesseraConfigs.has(f) && !f.startsWith('deploy/helm/'));
    for (const known of [
      'tessera.yaml',
      'deploy/tessera.docker.yaml',
      'bench/configs/tessera.yaml',
      'subgraphs/supergraph.yaml',
    ])
      assert.ok(examples.includes(known), `${known} found`);
    for (const file of examples) assert.deepEqual(problems(join(repoRoot, file), schemaOf(file).schema), [], file);
  });

  it('the example check is live: a misspelt key in a copy of an example is reported', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'tessera-example-')), 'tessera.yaml');
    writeFileSync(copy, `${readFileSync(join(repoRoot, 'tessera.yaml'), 'utf8')}srever:\n  port: 1\n`);
    assert.deepEqual(problems(copy, schemaOf('tessera.yaml').schema), ['srever: unknown key']);
  });

  it('the defaults the JSON Schema shows for a subgraph are the ones its client gets', () => {
    const jsonSchema = JSON.parse(readFileSync(join(repoRoot, 'schemas/tessera.schema.json'), 'utf8'));
    /** The `default`s of a JSON Schema object, nested as the value they describe. */
    const defaultsOf = (node: { default?: unknown; properties?: Record<string, any> }): unknown => {
      if (!node.properties) return node.default;
      const out = Object.entries(node.properties).flatMap(([key, child]) => {
        const d = defaultsOf(child);
        return d === undefined ? [] : [[key, d] as const];
      });
      return out.length ? Object.fromEntries(out) : undefined;
    };
    const {
      name: _name,
      url: _url,
      instances,
      tls: _tls,
      rateLimit,
      ...resolved
    } = resolveSubgraphSettings(parseConfig({ supergraph: { file: 's.graphql' } }), 'reviews', 'http://r/graphql');
    assert.equal(rateLimit, null);
    assert.deepEqual(instances, ['http://r/graphql']);
    // `canary` and `mirror` are absent unless configured; their defaults apply inside them.
    const { canary, mirror, ...shown } = defaultsOf(jsonSchema.properties.subgraphs.additionalProperties) as Record<
      string,
      unknown
    >;
    assert.deepEqual(canary, { stickyBy: 'none' });
    assert.deepEqual(mirror, { ratio: 1, timeoutMs: 2000, maxConcurrency: 32, compareResponses: true });
    assert.deepEqual(shown, resolved);
  });
});
