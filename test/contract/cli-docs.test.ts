import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadRegistryConfig, registryConfigSchema } from '../../supergraph/registry/config.ts';
import { repoRoot } from '../../harness/process.ts';

describe('CLI samples match the code', () => {
  it('deploy/registry.yaml is a valid registry config, with every key the schema knows, and tokens as `registry token create` prints them', () => {
    const file = join(repoRoot, 'deploy/registry.yaml');
    const config = loadRegistryConfig(file);
    assert.equal(config.storage.sqlite, join(repoRoot, 'deploy/data/registry.sqlite'));
    assert.deepEqual(
      config.tokens.map((t) => [t.name, t.graph, t.permissions]),
      [
        ['ci-publish', 'shop', ['read', 'check', 'publish']],
        ['pr-checks', 'shop', ['check']],
        ['gateways', 'shop', ['read']],
        ['platform-ops', ['shop', 'billing'], ['read', 'publish']],
      ],
    );
    // A sample that sets every section shows every knob; one the schema gained since would be missing here.
    const raw = parseYaml(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    const shape = (registryConfigSchema as unknown as { _zod: { def: { in?: { shape: object }; shape?: object } } })
      ._zod.def;
    assert.deepEqual(Object.keys(raw).sort(), Object.keys((shape.in ?? shape).shape ?? {}).sort());
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('  - { name:'));
    assert.equal(lines.length, 4);
    for (const l of lines)
      assert.match(
        l,
        /^ {2}- \{ name: [\w-]+, graph: (\[ [\w, -]+ \]|[\w-]+|"\*"), sha256: [0-9a-f]{64}, permissions: \[ [a-z, ]+ \] \}$/,
      );
  });
});
