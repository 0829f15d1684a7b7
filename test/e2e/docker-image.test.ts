import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { hashToken } from '../../supergraph/registry/server.ts';
import { replayDockerfile, type Replayed } from '../../harness/dockerfile.ts';
import { getJson } from '../../harness/http.ts';
import { cleanEnv, run, startService, waitForOk, type Service } from '../../harness/package.ts';
import { freePort } from '../../harness/ports.ts';
import { repoRoot } from '../../harness/process.ts';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};
const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; command?: string[] }>;
};

function filesUnder(dir: string, skip: (rel: string) => boolean, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = relative(base, join(dir, e.name));
    if (skip(rel)) return [];
    return e.isDirectory() ? filesUnder(join(dir, e.name), skip, base) : [rel];
  });
}

/**
 * No Docker engine runs here, so the image is reproduced from the Dockerfile itself (its COPY
 * and RUN lines, stage by stage: harness/dockerfile.ts) and its processes are started with
 * its ENTRYPOINT and CMD. Nothing here lists the image's folders: they come from the Dockerfile.
 */
describe('the Docker image, replayed from the Dockerfile', () => {
  let dir: string;
  let image: Replayed;
  const services: Service[] = [];
  const entry = (args: string[]) => [...image.entrypoint, ...args];
  const start = (argv: string[], env: Record<string, string>) => {
    const s = startService(argv[0]!, argv.slice(1), {
      cwd: image.workdir,
      env: cleanEnv({ ...image.env, LOG_LEVEL: 'warn', ...env }),
    });
    services.push(s);
    return s;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-image-'));
    image = await replayDockerfile({ context: repoRoot, dir, env: cleanEnv() });
  });
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is FROM the Node the package requires, runs as a non-root user, and holds the packed package with production dependencies only', () => {
    const major = /^>=(\d+)$/.exec(pkg.engines.node)![1];
    for (const s of image.stages) assert.match(s.from, new RegExp(`^node:${major}(\\D|$)`), `stage ${s.name}`);
    assert.ok(image.user && !['root', '0'].includes(image.user.split(':')[0]!), `USER ${image.user}`);
    assert.equal(image.env['NODE_ENV'], 'production');

    // The image's own files are exactly the tarball that `npm pack` made in the build stage.
    const tarballs = image.stages.slice(0, -1).flatMap((_, i) => {
      const stageDir = join(
        dir,
        readdirSync(dir).find((d) => d.startsWith(`stage-${i}-`))!,
      );
      return filesUnder(stageDir, (rel) => rel.includes('node_modules') || rel.includes('package-contents'))
        .filter((f) => f.endsWith('.tgz'))
        .map((f) => join(stageDir, f));
    });
    assert.equal(tarballs.length, 1, 'the build stage packs one tarball');
    const packed = execFileSync('tar', ['-tzf', tarballs[0]!], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''))
      .sort();
    const inImage = filesUnder(image.workdir, (rel) => rel === 'node_modules')
      .filter((f) => f !== 'package-lock.json')
      .sort();
    assert.deepEqual(inImage, packed);

    for (const d of Object.keys(pkg.dependencies))
      assert.ok(existsSync(join(image.workdir, 'node_modules', d, 'package.json')), `dependency ${d} installed`);
    // The lockfile marks what only dev dependencies need (`dev: true`); none of it is in the image.
    const lock = JSON.parse(readFileSync(join(image.workdir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => p.dev && path.startsWith('node_modules/'))
      .map(([path]) => path);
    assert.ok(devOnly.includes('node_modules/typescript'), 'the lockfile knows the dev-only packages');
    assert.deepEqual(
      devOnly.filter((path) => existsSync(join(image.workdir, path))),
      [],
      'no dev-only package installed',
    );
  });

  it("runs docker-compose.yml's compose step, a subgraph and the gateway from its ENTRYPOINT and CMD; the HEALTHCHECK follows /ready", async () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.image !== 'tessera') continue;
      const args = svc.command ?? image.cmd;
      if (args.includes('--config'))
        assert.ok(
          existsSync(join(image.workdir, args[args.indexOf('--config') + 1]!)),
          `${name}: its --config file is in the image`,
        );
    }
    const composeStep = await run(
      entry(compose.services['compose']!.command!)[0]!,
      entry(compose.services['compose']!.command!).slice(1),
      { cwd: image.workdir, env: cleanEnv(image.env) },
    );
    assert.equal(composeStep.code, 0, composeStep.stdout + composeStep.stderr);

    const subgraphPort = await freePort();
    const subgraphArgs = [...compose.services['accounts']!.command!];
    subgraphArgs[subgraphArgs.indexOf('--port') + 1] = String(subgraphPort);
    const subgraph = start(entry(subgraphArgs), { HOST: '127.0.0.1', PORT: String(subgraphPort) });
    await waitForOk(`http://127.0.0.1:${subgraphPort}/health`, subgraph);

    const port = String(await freePort());
    const gateway = start(entry(image.cmd), { HOST: '127.0.0.1', PORT: port });
    await waitForOk(`http://127.0.0.1:${port}/ready`, gateway);
    assert.deepEqual((await getJson(`http://127.0.0.1:${port}/ready`)).body, {
      status: 'ready',
      supergraphGeneration: 1,
    });

    const [form, ...healthcheck] = image.healthcheck!.args;
    assert.equal(form, 'CMD');
    const check = () =>
      run(healthcheck[0]!, healthcheck.slice(1), {
        cwd: image.workdir,
        env: cleanEnv({ ...image.env, PORT: port }),
        timeoutMs: 10_000,
      });
    assert.equal((await check()).code, 0, 'healthy while serving');
    // deploy/tessera.docker.yaml keeps /ready at 503 for 5 s after SIGTERM before closing.
    process.kill(gateway.pid, 'SIGTERM');
    let code = (await check()).code;
    for (let i = 0; i < 20 && code === 0; i++) code = (await check()).code;
    assert.equal(code, 1, 'unhealthy once draining');
    assert.equal(await gateway.exited, 0);
  });

  it('runs the registry from the same image', async () => {
    const port = await freePort();
    writeFileSync(
      join(dir, 'registry.yaml'),
      stringify({
        server: { host: '127.0.0.1', port },
        storage: { sqlite: join(dir, 'registry.sqlite') },
        tokens: [{ name: 'ci', graph: '*', sha256: hashToken('t'), permissions: ['read'] }],
      }),
    );
    const registry = start(entry(['registry', '--config', join(dir, 'registry.yaml')]), {});
    await waitForOk(`http://127.0.0.1:${port}/health`, registry);
    const res = await fetch(`http://127.0.0.1:${port}/v1/graphs/shop/variants/production/supergraph`, {
      headers: { authorization: 'Bearer t' },
    });
    assert.equal(res.status, 404);
  });
});
