import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run build` (and `prepack`): the TypeScript sources compiled to dist/ as ESM with
 * declarations, plus the files the code reads next to itself at run time (schema.graphql,
 * consume.lua, ...). The folders are tsconfig.build.json's `include`, so the two cannot drift.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

let assets = 0;
const copy = (file: string) => {
  const target = join(dist, relative(root, file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
  assets++;
};
const walk = (dir: string) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path);
    // .js in these folders is the launcher (bin/tessera.js), which stays outside dist/.
    else if (e.isFile() && !['.ts', '.js'].includes(extname(e.name))) copy(path);
  }
};
for (const dir of tsconfig.include) walk(join(root, dir));
// `tessera dev` reads the example gateway config from the package root, which is dist/ here.
copy(join(root, 'tessera.yaml'));
process.stdout.write(`built ${relative(process.cwd(), dist) || '.'}/ (${assets} assets copied)\n`);
