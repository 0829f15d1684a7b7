import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, run } from '../../harness/package.ts';
import { repoRoot } from '../../harness/process.ts';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  engines: { node: string };
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const required = Number(/^>=(\d+)$/.exec(pkg.engines.node)![1]);

/** A Node older than the required one on this machine (Debian's, under /usr/bin), with its version. */
function olderNode(): { path: string; version: string } | undefined {
  const candidates = new Set([
    '/usr/bin/node',
    '/usr/local/bin/node',
    ...(process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, 'node')),
  ]);
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      if (Number(version.split('.')[0]) < required) return { path, version };
    } catch {
      // not runnable
    }
  }
  return undefined;
}

const old = olderNode();
// The CI machines ship Node 20 next to the Node 24 that .ci/run installs: there, this must run.
if (!old && process.env['CI'])
  throw new Error(
    `CI is set but no Node older than ${required} was found: the launcher's version check would go untested`,
  );
const skip = old
  ? false
  : `no Node older than ${required} on this machine (the launcher's check needs one to run against)`;

describe(`every entry point refuses a Node older than ${required} in one line`, { skip }, () => {
  const line = (rerun: string) =>
    `tessera needs Node.js ${required} or newer, but this is Node.js ${old!.version} (${old!.path}). Install it with \`nvm install ${required}\` (https://github.com/nvm-sh/nvm), or run once without installing: \`${rerun}\`\n`;
  // Older Node first on PATH, as on a machine that has only that one.
  const oldEnv = () => cleanEnv({ PATH: `${dirname(old!.path)}${delimiter}${process.env['PATH'] ?? ''}` });

  it('the tessera launcher (what `bin` and the Docker image run)', async () => {
    const res = await run(old!.path, [join(repoRoot, pkg.bin['tessera']!), 'gateway', '--config', 'my config.yaml'], {
      cwd: repoRoot,
    });
    assert.deepEqual(res, {
      code: 1,
      stdout: '',
      stderr: line(`npx -y node@${required} ${join(repoRoot, 'bin/tessera.js')} gateway --config 'my config.yaml'`),
    });
  });

  it('npm start, npm test and npm run build stop at the check, before Node reads any TypeScript', async () => {
    for (const script of ['start', 'test', 'build']) {
      const res = await run('npm', ['run', script], { cwd: repoRoot, env: oldEnv(), timeoutMs: 60_000 });
      assert.notEqual(res.code, 0, script);
      // npm adds its own "> tessera-gateway start" banner and exit-code lines around ours.
      const ours = res.stderr
        .split('\n')
        .filter((l) => l.startsWith('tessera ') || /ERR_|Could not find|\.ts\b/.test(l));
      const rerun =
        script === 'start'
          ? `npx -y node@${required} ${join(repoRoot, 'bin/tessera.js')} dev`
          : `npx -y node@${required} "$(command -v npm)" run ${script}`;
      assert.deepEqual(ours, [line(rerun).trimEnd()], `${script}: ${res.stderr}`);
    }
  });
});

describe('the required Node is stated once, the same everywhere', () => {
  it('engines, .nvmrc, the launcher, npm start/test/build, the README and .ci/run agree', async () => {
    assert.equal(readFileSync(join(repoRoot, '.nvmrc'), 'utf8').trim(), String(required));
    const launcher = readFileSync(join(repoRoot, 'bin/require-node.js'), 'utf8');
    assert.match(launcher, new RegExp(`export const requiredMajor = ${required};`));
    assert.equal(pkg.bin['tessera'], 'bin/tessera.js');
    assert.match(pkg.scripts['start']!, /^exec node bin\/tessera\.js dev$/);
    for (const s of ['test', 'build', 'bench']) assert.match(pkg.scripts[s]!, /^node scripts\/check-node\.js && /, s);
    // The README's test command is what CI runs.
    assert.match(readFileSync(join(repoRoot, 'README.md'), 'utf8'), /^npm test\b/m);
    assert.match(readFileSync(join(repoRoot, '.ci/run'), 'utf8'), /^npm test$/m);
  });
});
