import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { products, users } from '../../subgraphs/shared/dataset.ts';
import { bigSubgraphSdl } from '../../harness/big-sdl.ts';
import { eventually, getJson, gql, sleep } from '../../harness/http.ts';
import { repoRoot, runCli } from '../../harness/process.ts';
import { api, startRegistry, tokens, type RegistryOptions } from '../../harness/registry.ts';
import { editSdl, exampleSdl, startStack, type Stack, type SubgraphName } from '../../harness/stack.ts';

const U = users();
const P = products();
type Registry = Awaited<ReturnType<typeof startRegistry>>;

/** The snapshot is committed; a missing one fails the test. `UPDATE_SNAPSHOTS=1` rewrites it on purpose. */
function matchSnapshot(actual: string, file: string): void {
  const path = join(repoRoot, file);
  if (process.env['UPDATE_SNAPSHOTS'] === '1') writeFileSync(path, actual);
  assert.ok(existsSync(path), `${file} is missing: it is committed with the test (UPDATE_SNAPSHOTS=1 writes it)`);
  assert.equal(actual, readFileSync(path, 'utf8'));
}

/** GET on a fresh connection, timed: the wait a new client (a load balancer's probe) sees. */
function timedGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; ms: number; text: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { agent: false, headers }, (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (d) => (text += d))
        .once('end', () => resolve({ status: res.statusCode!, ms: performance.now() - t0, text }));
    })
      .once('error', reject)
      .end();
  });
}

describe('schema registry: publish, check, fetch, and gateways that follow a variant', () => {
  let stack: Stack;
  const registries: Registry[] = [];
  let gatewayCount = 0;

  before(async () => {
    stack = await startStack({ noGateway: true });
  });
  after(async () => {
    await Promise.all(registries.map((r) => r.proc.kill()));
    await stack?.[Symbol.asyncDispose]();
  });

  /** Every test gets its own registry process and database: no test reads another's versions. */
  const newRegistry = async (name: string, opts: Omit<RegistryOptions, 'name'> = {}) => {
    const r = await startRegistry(stack.dir, { name, ...opts });
    registries.push(r);
    return r;
  };
  const cli = async (registry: Registry, args: string[], env: Record<string, string> = {}) => {
    const p = runCli(args, {
      env: { TESSERA_REGISTRY_URL: registry.url, TESSERA_REGISTRY_TOKEN: tokens.admin, ...env },
    });
    const code = await p.exited;
    return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('') };
  };
  const publish = (registry: Registry, name: string, sdl: string, variant = 'production', graph = 'shop') =>
    api(registry.url, `${graph}/variants/${variant}/subgraphs/${name}`, {
      token: tokens.admin,
      body: { url: stack.subgraphs[name as SubgraphName]?.url ?? `http://${name}.local/graphql`, sdl },
    });
  /** The four example subgraphs as versions 1–4 of shop@production. */
  const seed = async (registry: Registry) => {
    for (const n of ['accounts', 'products', 'reviews', 'inventory'] as const)
      assert.equal((await publish(registry, n, exampleSdl(n))).json.status, 'published');
  };
  const withSlogan = () =>
    editSdl(
      exampleSdl('products'),
      '  category: Category!\n',
      '  category: Category!\n  "Marketing line."\n  slogan: String\n',
    );
  /** A gateway that follows shop@production, with its own last-good cache file. */
  const followingGateway = (
    registry: Registry,
    extra: Record<string, unknown> = {},
    cacheFile = join(stack.dir, `last-good-${++gatewayCount}.graphql`),
  ) =>
    stack.startGateway({
      supergraph: {
        file: undefined,
        registry: { url: registry.url, graph: 'shop', token: tokens.reader, pollIntervalMs: 300, cacheFile, ...extra },
      },
    });
  const writeSchema = (prefix: string, sdl: string) => {
    const f = join(stack.dir, `${prefix}-${Math.random().toString(36).slice(2)}.graphql`);
    writeFileSync(f, sdl);
    return f;
  };

  it('publishes through the CLI and the API; identical SDL is a no-op; ETag and 304; tokens are checked', async () => {
    const registry = await newRegistry('publish');
    const first = await cli(registry, [
      'subgraph',
      'publish',
      '--graph',
      'shop',
      '--name',
      'accounts',
      '--schema',
      writeSchema('accounts', exampleSdl('accounts')),
      '--url',
      stack.subgraphs.accounts.url,
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), 'accounts: published (shop@production version 1)');
    for (const n of ['products', 'reviews', 'inventory'])
      assert.equal((await publish(registry, n, exampleSdl(n as 'products'))).json.status, 'published');
    const again = await publish(registry, 'inventory', exampleSdl('inventory'));
    assert.deepEqual(again.json, { status: 'unchanged', version: 4 });

    const sg = await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader });
    assert.equal(sg.status, 200);
    assert.equal(sg.headers.get('etag'), '"shop@production:4"');
    assert.match(sg.text, /@join__graph\(name: "inventory"/);
    const notModified = await api(registry.url, 'shop/variants/production/supergraph', {
      token: tokens.reader,
      headers: { 'if-none-match': '"shop@production:4"' },
    });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, '');

    const history = await api(registry.url, 'shop/variants/production/versions', { token: tokens.reader });
    assert.deepEqual(
      history.json.versions.map((v: any) => [v.version, v.actor, v.action, v.subgraph, v.summary]),
      [
        [4, 'ci', 'publish', 'inventory', 'added subgraph inventory'],
        [3, 'ci', 'publish', 'reviews', 'added subgraph reviews'],
        [2, 'ci', 'publish', 'products', 'added subgraph products'],
        [1, 'ci', 'publish', 'accounts', 'added subgraph accounts'],
      ],
    );

    assert.deepEqual((await api(registry.url, 'shop/variants/production/supergraph')).json, {
      error: { code: 'REGISTRY_UNAUTHENTICATED', message: 'A registry token is required (Authorization: Bearer …).' },
    });
    assert.equal((await api(registry.url, 'shop/variants/production/supergraph', { token: 'wrong' })).status, 401);
    const forbidden = await api(registry.url, 'shop/variants/production/subgraphs/accounts', {
      token: tokens.reader,
      body: { url: 'http://x/graphql', sdl: 'type Query { a: String }' },
    });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.json.error.code, 'REGISTRY_FORBIDDEN');
    const badCli = await cli(registry, ['supergraph', 'fetch', '--graph', 'shop'], { TESSERA_REGISTRY_TOKEN: 'wrong' });
    assert.equal(badCli.code, 2);
    assert.equal(badCli.stderr, 'error[REGISTRY_UNAUTHENTICATED]: Unknown registry token.\n');
  });

  it('a gateway follows the variant: a new field appears within one poll, in-flight requests finish; a failed publish changes nothing', async () => {
    const registry = await newRegistry('follow');
    await seed(registry);
    const gateway = await followingGateway(registry);
    const ready = await getJson(`${gateway.base}/ready`);
    assert.deepEqual(ready.body, { status: 'ready', supergraphGeneration: 1, supergraphVersion: 4 });
    const q = { query: '{ topProducts(first: 1) { name } }' };
    assert.deepEqual((await gql(gateway.url, q)).body, { data: { topProducts: [{ name: P[0]!.name }] } });

    await stack.subgraphs.products.fault({ delayMs: 1500, times: 1 });
    const inFlight = gql(gateway.url, q);
    await sleep(200);
    assert.deepEqual((await publish(registry, 'products', withSlogan())).json, { status: 'published', version: 5 });
    const fields = async () =>
      (
        await gql(gateway.url, { query: '{ __type(name: "Product") { fields { name } } }' })
      ).body.data.__type.fields.map((f: any) => f.name);
    await eventually(async () => (await fields()).includes('slogan'), 1500, 'the new field within one poll interval');
    assert.deepEqual(
      (await inFlight).body,
      { data: { topProducts: [{ name: P[0]!.name }] } },
      'the in-flight request finished',
    );
    assert.equal((await getJson(`${gateway.base}/ready`)).body.supergraphVersion, 5);

    const broken = editSdl(exampleSdl('products'), '  price: Int!\n', '  price: String!\n');
    const refused = await publish(registry, 'products', broken);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.code, 'COMPOSITION_FAILED');
    assert.equal(refused.json.error.version, 5);
    assert.ok(
      refused.json.error.errors.some((e: any) => /price/.test(e.message)),
      JSON.stringify(refused.json.error.errors),
    );
    assert.equal(
      (await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader })).headers.get('etag'),
      '"shop@production:5"',
    );
    await sleep(700);
    assert.equal((await getJson(`${gateway.base}/ready`)).body.supergraphVersion, 5);
    assert.ok((await fields()).includes('slogan'));
    await gateway.proc.kill();
  });

  it('checks proposed SDL: classification and exit codes, in text, JSON and Markdown', async () => {
    const registry = await newRegistry('check');
    await seed(registry);
    assert.deepEqual((await publish(registry, 'products', withSlogan())).json, { status: 'published', version: 5 });
    const accounts = exampleSdl('accounts');
    const table: Array<{ what: string; name: string; sdl: string; code: number; levels: string[] }> = [
      {
        what: 'new optional field',
        name: 'accounts',
        sdl: editSdl(accounts, '  name: String!\n', '  name: String!\n  nickname: String\n'),
        code: 0,
        levels: ['safe'],
      },
      {
        what: 'optional argument added',
        name: 'accounts',
        sdl: editSdl(accounts, 'users(first: Int = 10)', 'users(first: Int = 10, active: Boolean)'),
        code: 0,
        levels: ['dangerous'],
      },
      {
        what: 'field removed',
        name: 'accounts',
        sdl: editSdl(
          accounts,
          '  "Needs both `read:profile` and `read:pii`."\n  birthDate: String @requiresScopes(scopes: [["read:profile", "read:pii"]])\n',
          '',
        ),
        code: 1,
        levels: ['breaking'],
      },
      {
        what: 'required argument added',
        name: 'accounts',
        sdl: editSdl(accounts, 'user(id: ID!)', 'user(id: ID!, tenant: String!)'),
        code: 1,
        levels: ['breaking'],
      },
      {
        what: 'output type changed',
        name: 'accounts',
        sdl: editSdl(accounts, '  username: String! @shareable', '  username: Int! @shareable'),
        code: 1,
        levels: [],
      },
      {
        what: 'composition error',
        name: 'products',
        sdl: editSdl(exampleSdl('products'), '  price: Int!\n', '  price: String!\n'),
        code: 1,
        levels: [],
      },
    ];
    for (const t of table) {
      const res = await cli(
        registry,
        [
          'subgraph',
          'check',
          '--graph',
          'shop',
          '--name',
          t.name,
          '--schema',
          writeSchema(t.name, t.sdl),
          '--format',
          'json',
        ],
        { TESSERA_REGISTRY_TOKEN: tokens.checker },
      );
      assert.equal(res.code, t.code, `${t.what}: ${res.stdout}${res.stderr}`);
      const report = JSON.parse(res.stdout);
      assert.equal(report.baseVersion, 5);
      assert.equal(report.result, t.code ? 'fail' : 'pass', t.what);
      if (t.what === 'composition error' || t.what === 'output type changed')
        assert.ok(report.compositionErrors.length > 0, `${t.what} fails composition`);
      else
        assert.deepEqual(
          report.changes.map((c: any) => c.level),
          t.levels,
          t.what,
        );
    }

    const removed = writeSchema('accounts', table[2]!.sdl);
    const text = await cli(
      registry,
      ['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', removed],
      { TESSERA_REGISTRY_TOKEN: tokens.checker },
    );
    assert.equal(text.code, 1);
    assert.equal(
      text.stdout,
      [
        'Check of accounts against shop@production (version 5)',
        '✓ composes',
        '  1 change: 1 breaking, 0 dangerous, 0 safe',
        "  BREAKING  Field 'birthDate' was removed from object type 'User' (User.birthDate)",
        'FAIL',
      ].join('\n'),
    );
    const md = await cli(
      registry,
      ['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', removed, '--format', 'markdown'],
      { TESSERA_REGISTRY_TOKEN: tokens.checker },
    );
    matchSnapshot(`${md.stdout}\n`, 'test/fixtures/check-report.md');

    const all = await cli(
      registry,
      ['subgraph', 'check', '--graph', 'shop', '--config', join(repoRoot, 'subgraphs/supergraph.yaml')],
      { TESSERA_REGISTRY_TOKEN: tokens.checker },
    );
    // The checked-in products schema lacks the `slogan` that version 5 added: removing it breaks.
    assert.equal(all.code, 1, all.stdout + all.stderr);
    assert.match(
      all.stdout,
      /^Check of accounts, products, reviews, inventory against shop@production \(version 5\)\n✓ composes\n/,
    );
    assert.match(all.stdout, /BREAKING {2}Field 'slogan' was removed from object type 'Product' \(Product.slogan\)/);
    const noPermission = await cli(
      registry,
      ['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', removed],
      { TESSERA_REGISTRY_TOKEN: tokens.reader },
    );
    assert.equal(noPermission.code, 2);
  });

  it('usage-aware checks: a removed field that recorded operations use fails with them; an unused one passes', async () => {
    const registry = await newRegistry('usage');
    await seed(registry);
    const gateway = await followingGateway(registry, { usageFlushIntervalMs: 200 });
    for (let i = 0; i < 3; i++)
      await gql(
        gateway.url,
        { query: 'query ShopPeople { users(first: 1) { name } }', operationName: 'ShopPeople' },
        { 'apollographql-client-name': 'web-shop' },
      );
    const accounts = exampleSdl('accounts');
    const check = (sdl: string) =>
      cli(registry, [
        'subgraph',
        'check',
        '--graph',
        'shop',
        '--name',
        'accounts',
        '--schema',
        writeSchema('usage', sdl),
        '--usage-days',
        '7',
        '--format',
        'json',
      ]);
    const used = await eventually(
      async () => {
        const r = await check(editSdl(accounts, '  name: String!\n', ''));
        const change = JSON.parse(r.stdout).changes[0];
        return change?.operations ? { r, change } : null;
      },
      5000,
      'the usage report to reach the registry',
    );
    assert.equal(used.r.code, 1);
    assert.equal(used.change.coordinate, 'User.name');
    assert.deepEqual(
      used.change.operations.map((o: any) => [o.name, o.client, o.count]),
      [['ShopPeople', 'web-shop', 3]],
    );

    const unused = await check(
      editSdl(
        accounts,
        '  "Needs both `read:profile` and `read:pii`."\n  birthDate: String @requiresScopes(scopes: [["read:profile", "read:pii"]])\n',
        '',
      ),
    );
    assert.equal(unused.code, 0, unused.stdout);
    const report = JSON.parse(unused.stdout);
    assert.deepEqual(
      report.changes.map((c: any) => [c.level, c.coordinate, c.unused]),
      [['breaking', 'User.birthDate', true]],
    );
    assert.equal(report.result, 'pass');
    await gateway.proc.kill();
  });

  it('rolls a variant back to a past version, and the gateway follows', async () => {
    const registry = await newRegistry('rollback');
    await seed(registry);
    assert.deepEqual((await publish(registry, 'products', withSlogan())).json, { status: 'published', version: 5 });
    const gateway = await followingGateway(registry);
    assert.equal((await getJson(`${gateway.base}/ready`)).body.supergraphVersion, 5);

    const rolled = await api(registry.url, 'shop/variants/production/rollback', {
      token: tokens.admin,
      body: { version: 4 },
    });
    assert.deepEqual(rolled.json, { status: 'rolled-back', version: 6 });
    const v4 = await api(registry.url, 'shop/variants/production/versions/4/supergraph', { token: tokens.reader });
    const now = await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader });
    assert.equal(now.text, v4.text);
    await eventually(
      async () => (await getJson(`${gateway.base}/ready`)).body.supergraphVersion === 6,
      2000,
      'the gateway to load version 6',
    );
    const fields = (
      await gql(gateway.url, { query: '{ __type(name: "Product") { fields { name } } }' })
    ).body.data.__type.fields.map((f: any) => f.name);
    assert.ok(!fields.includes('slogan'));
    await gateway.proc.kill();
  });

  it('20 concurrent publishes of different subgraphs: all acknowledged ones composed, history linear', async () => {
    const registry = await newRegistry('concurrent');
    const names = Array.from({ length: 20 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
    const results = await Promise.all(
      names.map((n) => publish(registry, n, `type Query { ${n}Field: String }`, 'load')),
    );
    assert.deepEqual(
      results.map((r) => r.json.status),
      names.map(() => 'published'),
    );
    const versions = (
      await api(registry.url, 'shop/variants/load/versions', { token: tokens.admin })
    ).json.versions.map((v: any) => v.version);
    assert.deepEqual(
      versions,
      Array.from({ length: 20 }, (_, i) => 20 - i),
    );
    assert.deepEqual(
      results.map((r) => r.json.version).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const sdl = (await api(registry.url, 'shop/variants/load/supergraph', { token: tokens.admin })).text;
    for (const n of names) assert.match(sdl, new RegExp(`${n}Field: String`));
  });

  it('kill -9 during a burst of publishes loses no acknowledged publish and leaves an intact database', async () => {
    let registry = await newRegistry('crash');
    const acked: Array<{ version: number; field: string }> = [];
    let n = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const field = `v${++n}`;
        try {
          const r = await publish(registry, 'crash', `type Query { ${field}: String }`, 'crash');
          if (r.status === 200) acked.push({ version: r.json.version, field });
        } catch {
          return; // connection reset: the registry is gone
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    await eventually(async () => acked.length > 5, 20_000, 'a few acknowledged publishes before the kill');
    await sleep(100);
    await registry.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);

    const db = new DatabaseSync(registry.db);
    assert.deepEqual({ ...db.prepare('PRAGMA integrity_check').get() }, { integrity_check: 'ok' });
    db.close();
    registry = await newRegistry('crash', { port: registry.port });
    for (const a of acked) {
      const v = await api(registry.url, `shop/variants/crash/versions/${a.version}/supergraph`, {
        token: tokens.admin,
      });
      assert.equal(v.status, 200, `acknowledged version ${a.version} is present`);
      assert.match(v.text, new RegExp(`${a.field}: String`));
    }
    const versions = (
      await api(registry.url, 'shop/variants/crash/versions?limit=1000', { token: tokens.admin })
    ).json.versions.map((v: any) => v.version);
    assert.deepEqual(
      versions,
      Array.from({ length: versions.length }, (_, i) => versions.length - i),
      'history has no gaps',
    );
  });

  it('with the registry down, a restarted gateway serves its last good supergraph', async () => {
    const registry = await newRegistry('down');
    await seed(registry);
    const cacheFile = join(stack.dir, 'down-last-good.graphql');
    const following = await followingGateway(registry, {}, cacheFile);
    assert.equal((await getJson(`${following.base}/ready`)).body.supergraphVersion, 4);
    assert.ok(existsSync(cacheFile), 'the accepted version was cached');
    await following.proc.kill();
    await registry.proc.kill();

    const fresh = await followingGateway(registry, {}, cacheFile);
    const warned = await fresh.proc.waitForLog('registry unreachable; starting from the last good supergraph');
    assert.equal(warned['version'], 4);
    assert.deepEqual((await gql(fresh.url, { query: '{ users(first: 1) { name } }' })).body, {
      data: { users: [{ name: U[0]!.name }] },
    });
    assert.equal((await getJson(`${fresh.base}/ready`)).body.supergraphVersion, 4);
    await fresh.proc.kill();
  });

  it('an SDL over limits.maxSdlBytes is refused with 413 while the body is read, never buffered whole; nothing is stored', async () => {
    const registry = await newRegistry('limits');
    const tooLargeBody = {
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: 'Body exceeds 4259840 bytes: a subgraph SDL may have at most 2097152 bytes (limits.maxSdlBytes).',
      },
    };

    const fiveMb = bigSubgraphSdl(5_000_000);
    const refused = await publish(registry, 'big', fiveMb, 'big');
    assert.equal(refused.status, 413);
    assert.deepEqual(refused.json, tooLargeBody);

    // Small enough as a body, too large as an SDL: counted in UTF-8 bytes after parsing.
    const justOver = bigSubgraphSdl(2_200_000);
    const over = await publish(registry, 'big', justOver, 'big');
    assert.equal(over.status, 413);
    assert.deepEqual(over.json, {
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: `The SDL of big is ${Buffer.byteLength(justOver)} bytes; at most 2097152 are accepted (limits.maxSdlBytes).`,
      },
    });
    const checked = await api(registry.url, 'shop/variants/big/check', {
      token: tokens.admin,
      body: { subgraphs: [{ name: 'big', sdl: justOver }] },
    });
    assert.equal(checked.status, 413);
    assert.equal(
      checked.json.error.message,
      `The SDL of big is ${Buffer.byteLength(justOver)} bytes; at most 2097152 are accepted (limits.maxSdlBytes).`,
    );

    // Chunked, no Content-Length, 256 MB on offer: the answer comes once the limit is passed.
    const streamed = await new Promise<{ status: number; body: string; written: number }>((resolve, reject) => {
      let written = 0;
      let answered = false;
      const req = request(
        `${registry.url}/v1/graphs/shop/variants/big/subgraphs/big`,
        { method: 'POST', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' } },
        (res) => {
          answered = true;
          let body = '';
          res
            .setEncoding('utf8')
            .on('data', (d) => (body += d))
            .once('end', () => {
              resolve({ status: res.statusCode!, body, written });
              req.destroy();
            });
        },
      );
      req.once('error', (err) => answered || reject(err));
      const chunk = Buffer.alloc(64 * 1024, 'a');
      req.write('{"url":"http://big.local/graphql","sdl":"');
      const pump = () => {
        while (!answered && written < 256 * 1024 * 1024) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end('"}');
      };
      pump();
    });
    assert.equal(streamed.status, 413);
    assert.deepEqual(JSON.parse(streamed.body), tooLargeBody);
    assert.ok(streamed.written < 64 * 1024 * 1024, `the registry answered after ${streamed.written} bytes`);

    assert.deepEqual((await api(registry.url, 'shop/variants/big/supergraph', { token: tokens.admin })).json, {
      error: { code: 'REGISTRY_NOT_FOUND', message: 'shop@big has no published subgraphs.' },
    });
    const status = readFileSync(`/proc/${registry.proc.child.pid}/status`, 'utf8');
    const peakMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
    assert.ok(peakMb < 512, `registry peak RSS ${peakMb.toFixed(0)} MB`);
  });

  it('a publish body that is not UTF-8, or not JSON, is refused with 400 saying which; nothing is stored', async () => {
    const registry = await newRegistry('bad-body');
    const post = async (body: Buffer) => {
      const res = await fetch(`${registry.url}/v1/graphs/shop/variants/bad/subgraphs/accounts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, json: await res.json() };
    };
    // A Latin-1 "é" inside an otherwise valid JSON publish: patched to U+FFFD it would be stored changed.
    const latin1 = Buffer.concat([
      Buffer.from('{"url":"http://accounts.local/graphql","sdl":"type Query { caf'),
      Buffer.from([0xe9]),
      Buffer.from(': Int }"}'),
    ]);
    assert.deepEqual(await post(latin1), {
      status: 400,
      json: { error: { code: 'BAD_REQUEST', message: 'Body is not valid UTF-8.' } },
    });
    assert.deepEqual(await post(Buffer.from('{"url":')), {
      status: 400,
      json: { error: { code: 'BAD_REQUEST', message: 'Body is not valid JSON.' } },
    });
    assert.deepEqual((await api(registry.url, 'shop/variants/bad/supergraph', { token: tokens.admin })).json, {
      error: { code: 'REGISTRY_NOT_FOUND', message: 'shop@bad has no published subgraphs.' },
    });
  });

  it('a long composition runs off the event loop: /health and reads answer throughout, then the publish lands', async () => {
    // The timeout is raised: this is about what happens meanwhile, however long composing takes here.
    const registry = await newRegistry('slow', { config: { composition: { timeoutMs: 300_000 } } });
    await seed(registry);
    // Composing it takes a second or more, the whole of which it stalled the registry before.
    const sdl = bigSubgraphSdl(800_000);
    let landed = false;
    const publishing = publish(registry, 'big', sdl, 'big').finally(() => (landed = true));
    const polls: Array<{ what: string; status: number; ms: number }> = [];
    while (!landed) {
      const health = await timedGet(`${registry.url}/health`);
      polls.push({ what: 'health', status: health.status, ms: health.ms });
      assert.equal(health.text, '{"status":"ok"}');
      const read = await timedGet(`${registry.url}/v1/graphs/shop/variants/production/supergraph`, {
        authorization: `Bearer ${tokens.reader}`,
        'if-none-match': '"shop@production:4"',
      });
      polls.push({ what: 'supergraph', status: read.status, ms: read.ms });
      const versions = await timedGet(`${registry.url}/v1/graphs/shop/variants/production/versions`, {
        authorization: `Bearer ${tokens.reader}`,
      });
      polls.push({ what: 'versions', status: versions.status, ms: versions.ms });
      await sleep(50);
    }
    const published = await publishing;
    assert.deepEqual(published.json, { status: 'published', version: 1 });
    assert.match(
      (await api(registry.url, 'shop/variants/big/supergraph', { token: tokens.admin })).text,
      /^ {2}t500: T500$/m,
    );
    assert.deepEqual([...new Set(polls.map((p) => `${p.what} ${p.status}`))].sort(), [
      'health 200',
      'supergraph 304',
      'versions 200',
    ]);
    // Counting, not timing: the composition outlasted several rounds of polls, and none of them waited for it.
    assert.ok(polls.length >= 15, `only ${polls.length} polls during the composition`);
    const slow = polls.filter((p) => p.ms > 1000);
    assert.deepEqual(
      slow,
      [],
      `no poll waited for the composition (slowest of ${polls.length}: ${Math.max(...polls.map((p) => p.ms)).toFixed(0)} ms)`,
    );
  });

  it('a composition past composition.timeoutMs is stopped: 503 COMPOSITION_TIMEOUT, nothing changed; beyond composition.maxPending, REGISTRY_BUSY', async () => {
    const registry = await newRegistry('timeout', { config: { composition: { timeoutMs: 500, maxPending: 1 } } });
    assert.deepEqual((await publish(registry, 'base', 'type Query { base: String }', 'slow')).json, {
      status: 'published',
      version: 1,
    });
    const before = await api(registry.url, 'shop/variants/slow/supergraph', { token: tokens.admin });

    const big = cli(registry, [
      'subgraph',
      'publish',
      '--graph',
      'shop',
      '--variant',
      'slow',
      '--name',
      'big',
      '--schema',
      writeSchema('big', bigSubgraphSdl(2_000_000)),
      '--url',
      'http://big.local/graphql',
    ]);
    // Logged as the publish is admitted; from then on it holds the one place until it is stopped.
    await registry.proc.waitForLog((line) => line['msg'] === 'publish received' && line['subgraph'] === 'big');
    const busy = await publish(registry, 'other', 'type Query { other: String }', 'slow');
    assert.deepEqual(busy.json, {
      error: {
        code: 'REGISTRY_BUSY',
        message:
          'The registry is busy: 1 publishes and checks are already waiting for composition; nothing changed. Retry later.',
      },
    });
    assert.equal(busy.headers.get('retry-after'), '1');

    const refused = await big;
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      'error[COMPOSITION_TIMEOUT]: Composition did not finish within 500 ms (composition.timeoutMs); nothing changed.\n',
    );
    const after = await api(registry.url, 'shop/variants/slow/supergraph', { token: tokens.admin });
    assert.equal(after.headers.get('etag'), '"shop@slow:1"');
    assert.equal(after.text, before.text);
    assert.deepEqual(
      (await api(registry.url, 'shop/variants/slow/versions', { token: tokens.admin })).json.versions.map(
        (v: any) => v.version,
      ),
      [1],
    );
    const line = await registry.proc.waitForLog((l) => l['msg'] === 'publish refused' && l['subgraph'] === 'big');
    assert.deepEqual([line['subgraph'], line['reason']], ['big', 'composition did not finish within 500 ms']);

    // The stopped worker is replaced: the next publish composes.
    assert.deepEqual((await publish(registry, 'next', 'type Query { next: String }', 'slow')).json, {
      status: 'published',
      version: 2,
    });
  });

  it('a composition past composition.maxHeapMb fails alone: 503 COMPOSITION_OUT_OF_MEMORY, and the registry keeps serving', async () => {
    const registry = await newRegistry('heap', { config: { composition: { maxHeapMb: 256 } } });
    const refused = await publish(registry, 'big', bigSubgraphSdl(2_000_000), 'heap');
    assert.equal(refused.status, 503);
    assert.deepEqual(refused.json, {
      error: {
        code: 'COMPOSITION_OUT_OF_MEMORY',
        message: 'Composition needed more than 256 MB of heap (composition.maxHeapMb); nothing changed.',
      },
    });
    assert.deepEqual((await getJson(`${registry.url}/health`)).body, { status: 'ok' });
    assert.deepEqual(
      (await api(registry.url, 'shop/variants/heap/versions', { token: tokens.admin })).json.versions,
      [],
    );
    assert.deepEqual((await publish(registry, 'small', 'type Query { small: String }', 'heap')).json, {
      status: 'published',
      version: 1,
    });
  });

  it('a bad registry config exits 78 naming each key, before opening a port', async () => {
    const file = join(stack.dir, 'bad-registry.yaml');
    writeFileSync(
      file,
      [
        'server: { port: 70000, bodyLimitBytes: 1000000 }',
        `storage: { sqlite: ${join(stack.dir, 'bad.sqlite')} }`,
        'limits: { maxSdlBytes: 2000000 }',
        'composition: { timeoutMs: 0 }',
        'tokens:',
        `  - { name: a, graph: shop, sha256: ${'a'.repeat(64)}, permissions: [read] }`,
        `  - { name: b, graph: "shop/x", sha256: ${'a'.repeat(64)}, permissions: [publish] }`,
        '',
      ].join('\n'),
    );
    await using proc = runCli(['registry', '--config', file]);
    assert.equal(await proc.exited, 78);
    assert.equal(
      proc.stderr.join(''),
      [
        `CONFIG_INVALID: ${file}`,
        '  server.port: Too big: expected number to be <=65535',
        '  tokens.1.graph: a graph name (letters, digits, _ and -, at most 64), a list of them, or `*`',
        '  tokens.1.sha256: the same token as tokens.0 ("a")',
        '  composition.timeoutMs: Too small: expected number to be >=100',
        '  limits.maxSdlBytes: 2000000 is more than server.bodyLimitBytes (1000000): no request could carry such an SDL',
        '',
      ].join('\n'),
    );
  });
});
