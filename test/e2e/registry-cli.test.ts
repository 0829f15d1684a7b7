import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generatePki } from '../../harness/certs.ts';
import { freePort } from '../../harness/ports.ts';
import { runCli, runCliToEnd, type Proc } from '../../harness/process.ts';
import { api, startRegistry, tokens } from '../../harness/registry.ts';
import { exampleSdl } from '../../harness/stack.ts';

/** The registry commands of the CLI against a real `tessera registry` process. */

const STACK_FRAME = /^\s+at .+[:(]\d+/m;
const quietEnv = { TESSERA_REGISTRY_URL: '', TESSERA_REGISTRY_TOKEN: '' };

const tessera = (args: string[], env: Record<string, string> = {}) =>
  runCliToEnd(args, { env: { ...quietEnv, ...env } });

describe('registry commands: token create, rollback, network errors', () => {
  let dir: string;
  const procs: Proc[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-registry-cli-'));
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
  });

  const schemaFile = (name: string, sdl: string) => {
    const f = join(dir, `${name}-${Math.random().toString(36).slice(2)}.graphql`);
    writeFileSync(f, sdl);
    return f;
  };

  it('registry token create: the printed token, with the printed entry pasted into registry.yaml, has exactly the listed graphs and permissions', async () => {
    const create = async (...args: string[]) => {
      const r = await tessera(['registry', 'token', 'create', ...args]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const token = /^ {2}(tsr_[A-Za-z0-9_-]{43})$/m.exec(r.stdout)?.[1];
      const entry = /^ {2}(- \{ name: .+ \})$/m.exec(r.stdout)?.[1];
      assert.ok(token && entry, r.stdout);
      return { token, entry, stdout: r.stdout };
    };
    const admin = await create('--name', 'release', '--graph', '*', '--permissions', 'publish,read,check');
    const ci = await create('--name', 'pr-checks', '--graph', 'shop', '--permissions', 'read,check');
    const multi = await create(
      '--name',
      'dashboards',
      '--graph',
      'shop',
      '--graph',
      'billing',
      '--permissions',
      'read',
    );
    assert.equal(
      ci.stdout,
      `Registry token "pr-checks" (shop: read, check), shown only this once; keep it as a secret\n(TESSERA_REGISTRY_TOKEN in CI, supergraph.registry.token in a gateway config):\n\n  ${ci.token}\n\n` +
        `Add this entry under \`tokens:\` in registry.yaml (only the digest is stored) and restart the registry:\n\n  ${ci.entry}\n`,
    );
    // The digest is the one `registry hash-token` prints (and the registry compares against); each token is new.
    const digest = (await tessera(['registry', 'hash-token', ci.token])).stdout.trim();
    assert.equal(ci.entry, `- { name: pr-checks, graph: shop, sha256: ${digest}, permissions: [ read, check ] }`);
    assert.equal(
      admin.entry.replace(/sha256: [0-9a-f]{64}/, 'sha256: …'),
      '- { name: release, graph: "*", sha256: …, permissions: [ read, check, publish ] }',
    );
    assert.equal(
      multi.entry.replace(/sha256: [0-9a-f]{64}/, 'sha256: …'),
      '- { name: dashboards, graph: [ shop, billing ], sha256: …, permissions: [ read ] }',
    );
    const again = await create('--name', 'pr-checks', '--graph', 'shop', '--permissions', 'read,check');
    assert.notEqual(again.token, ci.token);
    assert.notEqual(again.entry, ci.entry);

    // The lines exactly as printed, pasted under `tokens:`.
    const config = join(dir, 'pasted.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: 0 }\nstorage: { sqlite: ./pasted.sqlite }\ntokens:\n  ${admin.entry}\n  ${ci.entry}\n  ${multi.entry}\n`,
    );
    const registry = runCli(['registry', '--config', config]);
    procs.push(registry);
    const url = String((await registry.waitForLog('registry listening'))['url']);
    const as = (token: string) => ({ TESSERA_REGISTRY_URL: url, TESSERA_REGISTRY_TOKEN: token });

    const accounts = schemaFile('accounts', exampleSdl('accounts'));
    const publishArgs = [
      'subgraph',
      'publish',
      '--graph',
      'shop',
      '--name',
      'accounts',
      '--schema',
      accounts,
      '--url',
      'http://accounts:4001/graphql',
    ];
    assert.deepEqual(await tessera(publishArgs, as(admin.token)), {
      code: 0,
      stdout: 'accounts: published (shop@production version 1)\n',
      stderr: '',
    });

    // pr-checks: read and check shop…
    const fetched = await tessera(['supergraph', 'fetch', '--graph', 'shop'], as(ci.token));
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.match(fetched.stdout, /@join__graph\(name: "accounts"/);
    const check = await tessera(
      ['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', accounts, '--format', 'json'],
      as(ci.token),
    );
    assert.equal(check.code, 0, check.stderr);
    assert.equal(JSON.parse(check.stdout).result, 'pass');
    // …but not publish, roll back, or touch another graph.
    assert.deepEqual(await tessera(publishArgs, as(ci.token)), {
      code: 2,
      stdout: '',
      stderr: 'error[REGISTRY_FORBIDDEN]: Token "pr-checks" may not publish graph "shop".\n',
    });
    assert.deepEqual(await tessera(['variant', 'rollback', '--graph', 'shop', '--to', '1'], as(ci.token)), {
      code: 2,
      stdout: '',
      stderr: 'error[REGISTRY_FORBIDDEN]: Token "pr-checks" may not publish graph "shop".\n',
    });
    assert.deepEqual(await tessera(['supergraph', 'fetch', '--graph', 'billing'], as(ci.token)), {
      code: 2,
      stdout: '',
      stderr: 'error[REGISTRY_FORBIDDEN]: Token "pr-checks" may not read graph "billing".\n',
    });
    // A list of graphs: each of them, nothing else.
    assert.deepEqual((await api(url, 'shop/variants/production/versions', { token: multi.token })).status, 200);
    assert.deepEqual((await api(url, 'billing/variants/production/versions', { token: multi.token })).json, {
      graph: 'billing',
      variant: 'production',
      versions: [],
    });
    assert.deepEqual((await api(url, 'other/variants/production/versions', { token: multi.token })).json, {
      error: { code: 'REGISTRY_FORBIDDEN', message: 'Token "dashboards" may not read graph "other".' },
    });
    assert.equal(
      (
        await api(url, 'shop/variants/production/check', {
          token: multi.token,
          body: { subgraphs: [{ name: 'accounts', sdl: exampleSdl('accounts') }] },
        })
      ).status,
      403,
    );
    // Not the token: one character off, or the digest itself.
    const forged = `${ci.token.slice(0, -1)}${ci.token.endsWith('A') ? 'B' : 'A'}`;
    assert.deepEqual(await tessera(['supergraph', 'fetch', '--graph', 'shop'], as(forged)), {
      code: 2,
      stdout: '',
      stderr: 'error[REGISTRY_UNAUTHENTICATED]: Unknown registry token.\n',
    });
    assert.equal((await api(url, 'shop/variants/production/supergraph', { token: digest })).status, 401);
  });

  it("variant rollback (and subgraph rollback): publish v1, v2, roll back to 1: the current supergraph is v1's again, as version 3", async () => {
    const registry = await startRegistry(dir, { name: 'rollback' });
    procs.push(registry.proc);
    const as = (token: string) => ({ TESSERA_REGISTRY_URL: registry.url, TESSERA_REGISTRY_TOKEN: token });
    const publish = (name: 'accounts' | 'products') =>
      tessera(
        [
          'subgraph',
          'publish',
          '--graph',
          'shop',
          '--name',
          name,
          '--schema',
          schemaFile(name, exampleSdl(name)),
          '--url',
          `http://${name}:4001/graphql`,
        ],
        as(tokens.admin),
      );
    assert.equal((await publish('accounts')).stdout, 'accounts: published (shop@production version 1)\n');
    assert.equal((await publish('products')).stdout, 'products: published (shop@production version 2)\n');
    const fetch = async (...extra: string[]) => {
      const r = await tessera(['supergraph', 'fetch', '--graph', 'shop', ...extra], as(tokens.reader));
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const v1 = await fetch('--version', '1');
    const v2 = await fetch();
    assert.notEqual(v1, v2);
    assert.match(v2, /@join__graph\(name: "products"/);

    const rolled = await tessera(['subgraph', 'rollback', '--graph', 'shop', '--to', '1'], as(tokens.admin));
    assert.deepEqual(rolled, {
      code: 0,
      stdout: 'shop@production: rolled back to version 1 (now version 3)\n',
      stderr: '',
    });
    assert.equal(await fetch(), v1);
    // What a gateway following the variant polls: version 3, with v1's SDL.
    const current = await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader });
    assert.equal(current.headers.get('x-tessera-supergraph-version'), '3');
    assert.equal(current.text, v1);

    const history = await tessera(['variant', 'history', '--graph', 'shop'], as(tokens.reader));
    assert.equal(history.code, 0, history.stderr);
    assert.deepEqual(
      history.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z?/, '<time>')),
      [
        '    3  <time>  ci  rolled back to version 1',
        '    2  <time>  ci  added subgraph products',
        '    1  <time>  ci  added subgraph accounts',
      ],
    );

    const forward = await tessera(['variant', 'rollback', '--graph', 'shop', '--to', '2'], as(tokens.admin));
    assert.equal(forward.stdout, 'shop@production: rolled back to version 2 (now version 4)\n');
    assert.equal(await fetch(), v2);

    assert.deepEqual(await tessera(['variant', 'rollback', '--graph', 'shop', '--to', '9'], as(tokens.admin)), {
      code: 2,
      stdout: '',
      stderr: 'error[REGISTRY_NOT_FOUND]: shop@production has no version 9.\n',
    });
    assert.deepEqual(
      await tessera(['variant', 'rollback', '--graph', 'shop', '--variant', 'staging', '--to', '1'], as(tokens.admin)),
      { code: 2, stdout: '', stderr: 'error[REGISTRY_NOT_FOUND]: shop@staging has no version 1.\n' },
    );
    assert.deepEqual(await tessera(['variant', 'rollback', '--graph', 'shop', '--to', '1'], as(tokens.reader)), {
      code: 2,
      stdout: '',
      stderr: 'error[REGISTRY_FORBIDDEN]: Token "gateway" may not publish graph "shop".\n',
    });
    assert.equal(await fetch(), v2, 'refused rollbacks changed nothing');
  });

  describe('a registry that cannot be reached: one line naming the cause, exit 2', () => {
    const fetchFrom = (url: string, ...extra: string[]) =>
      tessera(['supergraph', 'fetch', '--graph', 'shop', ...extra], {
        TESSERA_REGISTRY_URL: url,
        TESSERA_REGISTRY_TOKEN: 'any',
      });
    const servers: Server[] = [];
    const sockets: Socket[] = [];
    after(() => {
      for (const s of sockets) s.destroy();
      for (const s of servers) s.close();
    });

    it('nothing listening: ECONNREFUSED, with the URL', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      assert.deepEqual(await fetchFrom(url), {
        code: 2,
        stdout: '',
        stderr: `error[REGISTRY_UNAVAILABLE]: cannot reach the registry at ${url}: connection refused (ECONNREFUSED)\n`,
      });
    });

    it('a registry that accepts and never answers: timeout, with the ms', async () => {
      const silent = createNetServer((s) => sockets.push(s));
      servers.push(silent);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      assert.deepEqual(await fetchFrom(url, '--timeout-ms', '300'), {
        code: 2,
        stdout: '',
        stderr: `error[REGISTRY_UNAVAILABLE]: cannot reach the registry at ${url}: no answer within 300 ms (timeout)\n`,
      });
    });

    it('a certificate the client does not trust: the TLS error code', async () => {
      const pki = generatePki();
      const tls = createHttpsServer(
        { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
        (_req, res) => res.end('never reached'),
      );
      servers.push(tls);
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(tls.address() as { port: number }).port}`;
      assert.deepEqual(await fetchFrom(url), {
        code: 2,
        stdout: '',
        stderr: `error[REGISTRY_UNAVAILABLE]: cannot reach the registry at ${url}: TLS handshake failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca)\n`,
      });
    });

    it('https to a plain-HTTP port: the TLS error code', async () => {
      const plain = createNetServer((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
      servers.push(plain);
      await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(plain.address() as { port: number }).port}`;
      const r = await fetchFrom(url);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        new RegExp(
          `^error\\[REGISTRY_UNAVAILABLE\\]: cannot reach the registry at ${url.replace(/\./g, '\\.')}: TLS handshake failed \\(ERR_SSL_[A-Z_]+: [a-z ]+\\)\\n$`,
        ),
      );
    });

    it('a host that does not resolve: the DNS error', async () => {
      // `.invalid` never resolves (RFC 2606); a resolver that cannot be reached answers EAI_AGAIN instead.
      const r = await fetchFrom('http://tessera-registry.invalid:4100');
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /^error\[REGISTRY_UNAVAILABLE\]: cannot reach the registry at http:\/\/tessera-registry\.invalid:4100: DNS lookup of tessera-registry\.invalid (failed \(ENOTFOUND\)|got no answer \(EAI_AGAIN\))\n$/,
      );
      assert.doesNotMatch(r.stderr, STACK_FRAME);
    });
  });
});
