import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../../gateway/config/schema.ts';
import { errorCodes } from '../../gateway/errors/codes.ts';
import { BEGIN, END, renderErrorTable } from '../../scripts/error-table.ts';
import { repoRoot } from '../../harness/process.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** Every leaf key path of a zod schema; records show up as `<name>`. */
function keyPaths(schema: any, prefix: string[] = []): string[] {
  const def = schema?._zod?.def;
  if (!def) return [];
  if (def.type === 'object') {
    return Object.entries(def.shape as Record<string, unknown>).flatMap(([k, v]) => {
      const inner = keyPaths(v, [...prefix, k]);
      return inner.length ? inner : [[...prefix, k].join('.')];
    });
  }
  if (def.type === 'record') return keyPaths(def.valueType, [...prefix, '<name>']);
  if (def.innerType) return keyPaths(def.innerType, prefix);
  if (def.in) return keyPaths(def.in, prefix);
  return [];
}

describe('docs match the code', () => {
  it('the README error table is exactly the catalog (run `npm run docs:errors` after changing codes.ts)', () => {
    const start = readme.indexOf(BEGIN);
    assert.notEqual(start, -1, 'README has the error-codes section');
    assert.equal(readme.slice(start, readme.indexOf(END) + END.length), renderErrorTable());
  });

  it('every code documented in the README is a catalog code', () => {
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), Object.keys(errorCodes).sort());
  });

  it('every config key is in the README config reference', () => {
    const paths = keyPaths(configSchema);
    assert.ok(paths.length > 15, `found ${paths.length} config keys`);
    const missing = paths.filter((p) => !readme.includes(`\`${p}\``));
    assert.deepEqual(missing, []);
  });
});
