import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { configSchema } from '../../gateway/config/schema.ts';
import { errorCodes } from '../../gateway/errors/codes.ts';
import { configKeys } from '../../scripts/config-reference.ts';
import { generatedFiles, regenerate } from '../../scripts/docs.ts';
import { metricDefinitions } from '../../scripts/metrics-table.ts';
import { registryConfigSchema } from '../../supergraph/registry/config.ts';
import { repoRoot } from '../../harness/process.ts';

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');
const markdownFiles = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/**
 * Every key path of a zod schema, walked here without the generator's code, so a key the generator
 * skipped is caught: maps show up as `<name>`, lists of objects as `[]`.
 */
function keyPaths(schema: z.ZodType, prefix = ''): string[] {
  const def = schema._zod.def as unknown as Record<string, any>;
  if (def['innerType']) return keyPaths(def['innerType'], prefix);
  if (def['type'] === 'pipe') return keyPaths(def['in'], prefix);
  if (def['type'] === 'object') {
    return Object.entries(def['shape'] as Record<string, z.ZodType>).flatMap(([k, v]) => {
      const path = prefix ? `${prefix}.${k}` : k;
      return [path, ...keyPaths(v, path)];
    });
  }
  if (def['type'] === 'record') return keyPaths(def['valueType'], `${prefix}.<name>`);
  if (def['type'] === 'array') return keyPaths(def['element'], `${prefix}[]`);
  return [];
}

/** Lines outside fenced code blocks, where Markdown headings and links live. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    return !fenced && !/^\s*```/.test(line);
  });
}

/** The anchors GitHub gives a file's headings: text without markup, lowercased, punctuation dropped, spaces → `-`, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const plain = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

describe('docs are generated from the code and their links resolve', () => {
  for (const file of generatedFiles()) {
    it(`${file} is what \`npm run docs\` renders from the code`, async () => {
      const text = read(file);
      const fresh = await regenerate(file, text);
      if (fresh === text) return;
      const [disk, generated] = [text.split('\n'), fresh.split('\n')];
      let i = 0;
      while (disk[i] === generated[i]) i++;
      assert.fail(
        `${file} differs from the code at line ${i + 1}: run \`npm run docs\` and commit the result\n  on disk:   ${disk[i]}\n  generated: ${generated[i]}`,
      );
    });
  }

  it('every tessera.yaml and registry.yaml key is in docs/configuration.md, with a description', () => {
    const doc = read('docs/configuration.md');
    for (const schema of [configSchema, registryConfigSchema]) {
      const paths = keyPaths(schema);
      assert.ok(paths.length > 20, `found ${paths.length} keys`);
      assert.deepEqual(
        paths.filter((p) => !doc.includes(`| \`${p}\` |`)),
        [],
        'keys missing from the reference',
      );
      assert.deepEqual(
        configKeys(schema)
          .filter((k) => !k.description)
          .map((k) => k.path),
        [],
        'keys without `.describe()` on the schema',
      );
    }
  });

  it('docs/errors.md lists every catalog code once, and nothing else', () => {
    const documented = [...read('docs/errors.md').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), Object.keys(errorCodes).sort());
  });

  it('docs/metrics.md lists every metric a gateway with every policy registers, and nothing else', async () => {
    const documented = [...read('docs/metrics.md').matchAll(/^\| `(tessera_\w+)` \|/gm)].map((m) => m[1]);
    const registered = (await metricDefinitions()).map((m) => m.name);
    assert.ok(registered.length > 20, `found ${registered.length} metrics`);
    assert.deepEqual(documented.sort(), registered.sort());
  });

  it('every relative link in README.md and docs/*.md points at a file that exists, and at a heading it has', () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      // Inline code is not a link: `[a](b)` in backticks is text.
      const lines = prose(read(file)).map((l) => l.replace(/`[^`]*`/g, ''));
      for (const [, target] of lines.join('\n').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const resolved = path ? join(dirname(file), path) : file;
        if (!existsSync(join(repoRoot, resolved))) {
          broken.push(`${file}: ${target} (no file ${relative('.', resolved)})`);
          continue;
        }
        if (anchor !== undefined && (!resolved.endsWith('.md') || !anchors(read(resolved)).has(anchor)))
          broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('the link check sees headings as GitHub anchors them', () => {
    // The checker is only as good as its slugs: a known file's anchors, spelled as GitHub spells them.
    const slugs = anchors(
      '# A `b.c` (d)\n## Browsers: the explorer and CORS\n```\n# not a heading\n```\n## A `b.c` (d)\n',
    );
    assert.deepEqual([...slugs], ['a-bc-d', 'browsers-the-explorer-and-cors', 'a-bc-d-1']);
  });
});
