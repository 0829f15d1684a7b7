import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { gql } from '../../harness/http.ts';
import { cleanEnv, packRepo, run, startService, waitForOk, type Service } from '../../harness/package.ts';
import { freePort } from '../../harness/ports.ts';
import { repoRoot } from '../../harness/process.ts';
import { allSubgraphs, editSdl, exampleSdl, startSubgraphProc, type RunningSubgraphProc } from '../../harness/stack.ts';

/**
 * What a service team does: install the packed package into a directory of its own (no checkout,
 * no TypeScript, no Node type stripping under node_modules) and run `npx tessera …` there.
 */
describe('the npm package: packed, installed into an empty directory, run with npx', () => {
  let dir: string;
  let app: string;
  let packed: { tarball: string; files: string[] };
  const subgraphs = {} as Record<string, RunningSubgraphProc>;
  const services: Service[] = [];
  const npx = (args: string[], env: Record<string, string> = {}) =>
    run('npx', ['--no-install', 'tessera', ...args], { cwd: app, env: cleanEnv(env) });
  const serve = (args: string[]) => {
    const s = startService('npx', ['--no-install', 'tessera', ...args], {
      cwd: app,
      env: cleanEnv({ LOG_LEVEL: 'warn' }),
    });
    services.push(s);
    return s;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-package-'));
    app = join(dir, 'service-repo');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'service-repo', private: true }));
    packed = await packRepo(dir);
    // --prefer-offline: the dependencies come from the npm cache that `npm ci` filled, when it has them.
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', packed.tarball], {
      cwd: app,
      timeoutMs: 300_000,
    });
    assert.equal(install.code, 0, `npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`);
    for (const name of allSubgraphs) subgraphs[name] = await startSubgraphProc(name);
  });
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    for (const s of Object.values(subgraphs)) await s.proc.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the launcher, the build and its assets: no TypeScript sources, tests or dev files', () => {
    const sources = packed.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    assert.deepEqual(sources, []);
    assert.deepEqual(
      packed.files.filter(
        (f) => /^(test|bench|scripts|node_modules|\.tessera)\//.test(f) || f.startsWith('deploy/helm/'),
      ),
      [],
    );
    for (const f of [
      'bin/tessera.js',
      'bin/require-node.js',
      'dist/bin/tessera.js',
      'dist/gateway/main.js',
      'dist/gateway/main.d.ts',
      'dist/policies/rate-limit/consume.lua',
      'dist/subgraphs/accounts/schema.graphql',
      'deploy/tessera.docker.yaml',
      'package.json',
    ]) {
      assert.ok(packed.files.includes(f), `${f} is in the tarball`);
    }
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/tessera-gateway/package.json'), 'utf8'));
    assert.deepEqual(manifest.bin, { tessera: 'bin/tessera.js' });
  });

  it('is a library too: the exports resolve to the built modules', async () => {
    const res = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { createGateway } from 'tessera-gateway'; import { parseConfig } from 'tessera-gateway/config'; console.log(typeof createGateway, parseConfig({ supergraph: { file: 'x.graphql' } }).server.port)",
      ],
      { cwd: app },
    );
    assert.deepEqual(res, { code: 0, stdout: 'function 4000\n', stderr: '' });
  });

  it('npx tessera compose, then npx tessera gateway serves the composed supergraph over the example subgraphs', async () => {
    writeFileSync(
      join(app, 'supergraph.yaml'),
      stringify({
        federation_version: '=2.9.0',
        subgraphs: Object.fromEntries(
          allSubgraphs.map((n) => [
            n,
            { routing_url: subgraphs[n]!.url, schema: { file: join(repoRoot, 'subgraphs', n, 'schema.graphql') } },
          ]),
        ),
      }),
    );
    const composed = await npx(['compose', '--config', 'supergraph.yaml', '--output', 'supergraph.graphql']);
    assert.equal(composed.code, 0, composed.stderr);
    assert.match(composed.stderr + composed.stdout, /composed 4 subgraphs \(accounts, products, reviews, inventory\)/);
    const sdl = readFileSync(join(app, 'supergraph.graphql'), 'utf8');
    for (const n of allSubgraphs)
      assert.ok(sdl.includes(`url: "${subgraphs[n]!.url}"`), `${n}'s routing URL is in the supergraph`);

    const port = await freePort();
    writeFileSync(
      join(app, 'tessera.yaml'),
      stringify({ server: { host: '127.0.0.1', port }, supergraph: { file: 'supergraph.graphql' } }),
    );
    const gateway = serve(['gateway', '--config', 'tessera.yaml']);
    await waitForOk(`http://127.0.0.1:${port}/ready`, gateway);
    // The README's example query, which touches all four subgraphs, and its documented answer.
    const res = await gql(`http://127.0.0.1:${port}/graphql`, {
      query:
        '{ topProducts(first: 2) { name price inStock shippingEstimate reviews(first: 1) { body author { username name } } } }',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      data: {
        topProducts: [
          {
            name: 'Table',
            price: 1481,
            inStock: true,
            shippingEstimate: 0,
            reviews: [{ body: 'Would buy again.', author: { username: '@ada1', name: 'Ada Lovelace' } }],
          },
          {
            name: 'Couch',
            price: 606,
            inStock: true,
            shippingEstimate: 22,
            reviews: [{ body: 'Love it!', author: { username: '@linus4', name: 'Linus Torvalds' } }],
          },
        ],
      },
    });
    // The explorer's files come from the installed package's own dependencies.
    const page = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const scripts = [...(await page.text()).matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(scripts.length, 4);
    for (const src of scripts) assert.equal((await fetch(`http://127.0.0.1:${port}/${src}`)).status, 200, src);
  });

  it('npx tessera subgraph publish, check and supergraph fetch against a registry run from the package', async () => {
    const token = 'tok-service-team-3c1d';
    const digest = await npx(['registry', 'hash-token', token]);
    assert.equal(digest.code, 0, digest.stderr);
    assert.match(digest.stdout, /^[0-9a-f]{64}\n$/);
    const port = await freePort();
    writeFileSync(
      join(app, 'registry.yaml'),
      stringify({
        server: { host: '127.0.0.1', port },
        storage: { sqlite: 'registry.sqlite' },
        tokens: [
          { name: 'ci', graph: 'shop', sha256: digest.stdout.trim(), permissions: ['read', 'check', 'publish'] },
        ],
      }),
    );
    const registry = serve(['registry', '--config', 'registry.yaml']);
    await waitForOk(`http://127.0.0.1:${port}/health`, registry);
    const env = { TESSERA_REGISTRY_URL: `http://127.0.0.1:${port}`, TESSERA_REGISTRY_TOKEN: token };

    for (const [i, n] of allSubgraphs.entries()) {
      const published = await npx(
        [
          'subgraph',
          'publish',
          '--graph',
          'shop',
          '--name',
          n,
          '--schema',
          join(repoRoot, 'subgraphs', n, 'schema.graphql'),
          '--url',
          subgraphs[n]!.url,
        ],
        env,
      );
      assert.deepEqual(published, {
        code: 0,
        stdout: `${n}: published (shop@production version ${i + 1})\n`,
        stderr: '',
      });
    }

    writeFileSync(join(app, 'accounts.graphql'), exampleSdl('accounts'));
    const unchanged = await npx(
      ['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', 'accounts.graphql'],
      env,
    );
    assert.equal(unchanged.code, 0, unchanged.stdout + unchanged.stderr);
    assert.match(unchanged.stdout, /^Check of accounts against shop@production \(version 4\)\n[\s\S]*\nPASS\n?$/);

    writeFileSync(
      join(app, 'accounts.graphql'),
      editSdl(
        exampleSdl('accounts'),
        '  "Needs both `read:profile` and `read:pii`."\n  birthDate: String @requiresScopes(scopes: [["read:profile", "read:pii"]])\n',
        '',
      ),
    );
    const breaking = await npx(
      ['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', 'accounts.graphql'],
      env,
    );
    assert.deepEqual(breaking, {
      code: 1,
      stdout: [
        'Check of accounts against shop@production (version 4)',
        '✓ composes',
        '  1 change: 1 breaking, 0 dangerous, 0 safe',
        "  BREAKING  Field 'birthDate' was removed from object type 'User' (User.birthDate)",
        'FAIL',
        '',
      ].join('\n'),
      stderr: '',
    });

    const fetched = await npx(['supergraph', 'fetch', '--graph', 'shop', '--output', 'fetched.graphql'], env);
    assert.deepEqual(fetched, { code: 0, stdout: '', stderr: 'wrote shop@production version 4 to fetched.graphql\n' });
    const sdl = readFileSync(join(app, 'fetched.graphql'), 'utf8');
    for (const n of allSubgraphs)
      assert.ok(
        sdl.includes(`@join__graph(name: "${n}", url: "${subgraphs[n]!.url}")`),
        `${n} is in the fetched supergraph`,
      );
  });
});
