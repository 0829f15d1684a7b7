// `npm test`: the unit and contract tests once, the end-to-end tests once per GraphQL engine (the
// gateway processes they start read TESSERA_ENGINE). One `node --test` run after another, each
// with --test-concurrency=1 (the tests start real processes on a small machine); the output of an
// engine's run is prefixed with its name, so every failure line says which engine it was.
//
//   npm test                                  everything
//   npm test -- test/e2e/http-front.test.ts   these files (e2e ones per engine)
//   TESSERA_ENGINE=tessera npm test           the e2e tests with that engine only
import { spawn } from 'node:child_process';
import { globSync } from 'node:fs';
import { createInterface } from 'node:readline';

const engines = ['apollo', 'tessera'] as const;
const only = process.env['TESSERA_ENGINE'];
if (only !== undefined && only !== '' && !(engines as readonly string[]).includes(only)) {
  console.error(`TESSERA_ENGINE must be one of ${engines.join(', ')}, not ${only}`);
  process.exit(2);
}
const picked = only ? [only] : [...engines];

const args = process.argv.slice(2);
const files = (args.length ? args : ['test/**/*.test.ts']).flatMap((pattern) => globSync(pattern)).sort();
const isE2e = (file: string) => file.replaceAll('\\', '/').startsWith('test/e2e/');
const once = files.filter((f) => !isE2e(f));
const perEngine = files.filter(isE2e);

interface Run {
  readonly name: string;
  readonly files: string[];
  readonly engine: string | null;
}
const runs: Run[] = [
  ...(once.length ? [{ name: 'unit and contract tests', files: once, engine: null }] : []),
  ...(perEngine.length
    ? picked.map((engine) => ({ name: `e2e tests, engine ${engine}`, files: perEngine, engine }))
    : []),
];
if (!runs.length) {
  console.error(`no test files match ${args.join(' ')}`);
  process.exit(2);
}

const outcomes: Array<{ run: Run; code: number }> = [];
for (const run of runs) {
  console.log(`\n==> ${run.name} (${run.files.length} files)`);
  outcomes.push({ run, code: await node(run) });
}
console.log('\n==> summary');
for (const { run, code } of outcomes) console.log(`${code === 0 ? 'pass' : 'FAIL'}  ${run.name}`);
process.exit(outcomes.some((o) => o.code !== 0) ? 1 : 0);

function node(run: Run): Promise<number> {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...run.files], {
    env: run.engine ? { ...process.env, TESSERA_ENGINE: run.engine } : process.env,
    stdio: ['ignore', run.engine ? 'pipe' : 'inherit', run.engine ? 'pipe' : 'inherit'],
  });
  if (run.engine) {
    const prefix = `[${run.engine}] `;
    for (const [from, to] of [
      [child.stdout!, process.stdout],
      [child.stderr!, process.stderr],
    ] as const)
      createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`${prefix}${line}\n`));
  }
  return new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}
