import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { products, users } from '../../subgraphs/shared/dataset.ts';
import { eventually, getJson, gql, sleep } from '../harness/http.ts';
import { repoRoot, runCli } from '../harness/process.ts';
import { api, startRegistry, tokens } from '../harness/registry.ts';
import { editSdl, exampleSdl, startStack, type Stack } from '../harness/stack.ts';

const U = users();
const P = products();

describe('schema registry: publish, check, fetch, and gateways that follow a variant', () => {
  let stack: Stack;
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let gateway: Awaited<ReturnType<Stack['startGateway']>>;
  const cacheFile = () => join(stack.dir, 'last-good-supergraph.graphql');
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const p = runCli(args, { env: { TESSERA_REGISTRY_URL: registry.url, TESSERA_REGISTRY_TOKEN: tokens.admin, ...env } });
    const code = await p.exited;
    return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('') };
  };
  const publish = (name: string, sdl: string, variant = 'production', graph = 'shop') =>
    api(registry.url, `${graph}/variants/${variant}/subgraphs/${name}`, { token: tokens.admin, body: { url: stack.subgraphs[name as 'accounts']?.url ?? `http://${name}.local/graphql`, sdl } });

  before(async () => {
    stack = await startStack({ noGateway: true });
    registry = await startRegistry(stack.dir);
  });
  after(async () => {
    await registry?.proc.kill();
    await stack?.[Symbol.asyncDispose]();
  });

  it('publishes through the CLI and the API; identical SDL is a no-op; ETag and 304; tokens are checked', async () => {
    const schemaFile = join(stack.dir, 'accounts.graphql');
    writeFileSync(schemaFile, exampleSdl('accounts'));
    const first = await cli(['subgraph', 'publish', '--graph', 'shop', '--name', 'accounts', '--schema', schemaFile, '--url', stack.subgraphs.accounts.url]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), 'accounts: published (shop@production version 1)');
    for (const n of ['products', 'reviews', 'inventory']) assert.equal((await publish(n, exampleSdl(n as 'products'))).json.status, 'published');
    const again = await publish('inventory', exampleSdl('inventory'));
    assert.deepEqual(again.json, { status: 'unchanged', version: 4 });

    const sg = await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader });
    assert.equal(sg.status, 200);
    assert.equal(sg.headers.get('etag'), '"shop@production:4"');
    assert.match(sg.text, /@join__graph\(name: "inventory"/);
    const notModified = await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader, headers: { 'if-none-match': '"shop@production:4"' } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, '');

    const history = await api(registry.url, 'shop/variants/production/versions', { token: tokens.reader });
    assert.deepEqual(history.json.versions.map((v: any) => [v.version, v.actor, v.action, v.subgraph, v.summary]), [
      [4, 'ci', 'publish', 'inventory', 'added subgraph inventory'],
      [3, 'ci', 'publish', 'reviews', 'added subgraph reviews'],
      [2, 'ci', 'publish', 'products', 'added subgraph products'],
      [1, 'ci', 'publish', 'accounts', 'added subgraph accounts'],
    ]);

    assert.deepEqual((await api(registry.url, 'shop/variants/production/supergraph')).json, { error: { code: 'REGISTRY_UNAUTHENTICATED', message: 'A registry token is required (Authorization: Bearer …).' } });
    assert.equal((await api(registry.url, 'shop/variants/production/supergraph', { token: 'wrong' })).status, 401);
    const forbidden = await api(registry.url, 'shop/variants/production/subgraphs/accounts', { token: tokens.reader, body: { url: 'http://x/graphql', sdl: 'type Query { a: String }' } });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.json.error.code, 'REGISTRY_FORBIDDEN');
    const badCli = await cli(['supergraph', 'fetch', '--graph', 'shop'], { TESSERA_REGISTRY_TOKEN: 'wrong' });
    assert.equal(badCli.code, 2);
    assert.equal(badCli.stderr, 'error[REGISTRY_UNAUTHENTICATED]: Unknown registry token.\n');
  });

  it('a gateway follows the variant: a new field appears within one poll, in-flight requests finish; a failed publish changes nothing', async () => {
    gateway = await stack.startGateway({
      supergraph: { file: undefined, registry: { url: registry.url, graph: 'shop', token: tokens.reader, pollIntervalMs: 300, cacheFile: cacheFile(), usageFlushIntervalMs: 200 } },
    });
    const ready = await getJson(`${gateway.base}/ready`);
    assert.deepEqual(ready.body, { status: 'ready', supergraphGeneration: 1, supergraphVersion: 4 });
    const q = { query: '{ topProducts(first: 1) { name } }' };
    assert.deepEqual((await gql(gateway.url, q)).body, { data: { topProducts: [{ name: P[0]!.name }] } });

    await stack.subgraphs.products.fault({ delayMs: 1500, times: 1 });
    const inFlight = gql(gateway.url, q);
    await sleep(200);
    const withSlogan = editSdl(exampleSdl('products'), '  category: Category!\n', '  category: Category!\n  "Marketing line."\n  slogan: String\n');
    assert.deepEqual((await publish('products', withSlogan)).json, { status: 'published', version: 5 });
    const fields = async () => (await gql(gateway.url, { query: '{ __type(name: "Product") { fields { name } } }' })).body.data.__type.fields.map((f: any) => f.name);
    await eventually(async () => (await fields()).includes('slogan'), 1500, 'the new field within one poll interval');
    assert.deepEqual((await inFlight).body, { data: { topProducts: [{ name: P[0]!.name }] } }, 'the in-flight request finished');
    assert.equal((await getJson(`${gateway.base}/ready`)).body.supergraphVersion, 5);

    const broken = editSdl(exampleSdl('products'), '  price: Int!\n', '  price: String!\n');
    const refused = await publish('products', broken);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.code, 'COMPOSITION_FAILED');
    assert.equal(refused.json.error.version, 5);
    assert.ok(refused.json.error.errors.some((e: any) => /price/.test(e.message)), JSON.stringify(refused.json.error.errors));
    assert.equal((await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader })).headers.get('etag'), '"shop@production:5"');
    await sleep(700);
    assert.equal((await getJson(`${gateway.base}/ready`)).body.supergraphVersion, 5);
    assert.ok((await fields()).includes('slogan'));
  });

  it('checks proposed SDL: classification and exit codes, in text, JSON and Markdown', async () => {
    const write = (name: string, sdl: string) => {
      const f = join(stack.dir, `${name}-${Math.random().toString(36).slice(2)}.graphql`);
      writeFileSync(f, sdl);
      return f;
    };
    const accounts = exampleSdl('accounts');
    const table: Array<{ what: string; name: string; sdl: string; code: number; levels: string[] }> = [
      { what: 'new optional field', name: 'accounts', sdl: editSdl(accounts, '  name: String!\n', '  name: String!\n  nickname: String\n'), code: 0, levels: ['safe'] },
      { what: 'optional argument added', name: 'accounts', sdl: editSdl(accounts, 'users(first: Int = 10)', 'users(first: Int = 10, active: Boolean)'), code: 0, levels: ['dangerous'] },
      { what: 'field removed', name: 'accounts', sdl: editSdl(accounts, '  "Needs both `read:profile` and `read:pii`."\n  birthDate: String @requiresScopes(scopes: [["read:profile", "read:pii"]])\n', ''), code: 1, levels: ['breaking'] },
      { what: 'required argument added', name: 'accounts', sdl: editSdl(accounts, 'user(id: ID!)', 'user(id: ID!, tenant: String!)'), code: 1, levels: ['breaking'] },
      { what: 'output type changed', name: 'accounts', sdl: editSdl(accounts, '  username: String! @shareable', '  username: Int! @shareable'), code: 1, levels: [] },
      { what: 'composition error', name: 'products', sdl: editSdl(exampleSdl('products'), '  price: Int!\n', '  price: String!\n'), code: 1, levels: [] },
    ];
    for (const t of table) {
      const res = await cli(['subgraph', 'check', '--graph', 'shop', '--name', t.name, '--schema', write(t.name, t.sdl), '--format', 'json'], { TESSERA_REGISTRY_TOKEN: tokens.checker });
      assert.equal(res.code, t.code, `${t.what}: ${res.stdout}${res.stderr}`);
      const report = JSON.parse(res.stdout);
      assert.equal(report.baseVersion, 5);
      assert.equal(report.result, t.code ? 'fail' : 'pass', t.what);
      if (t.what === 'composition error' || t.what === 'output type changed') assert.ok(report.compositionErrors.length > 0, `${t.what} fails composition`);
      else assert.deepEqual(report.changes.map((c: any) => c.level), t.levels, t.what);
    }

    const removed = write('accounts', table[2]!.sdl);
    const text = await cli(['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', removed], { TESSERA_REGISTRY_TOKEN: tokens.checker });
    assert.equal(text.code, 1);
    assert.equal(text.stdout, [
      'Check of accounts against shop@production (version 5)',
      '✓ composes',
      '  1 change: 1 breaking, 0 dangerous, 0 safe',
      "  BREAKING  Field 'birthDate' was removed from object type 'User' (User.birthDate)",
      'FAIL',
    ].join('\n'));
    const md = await cli(['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', removed, '--format', 'markdown'], { TESSERA_REGISTRY_TOKEN: tokens.checker });
    const snapshot = join(repoRoot, 'test/fixtures/check-report.md');
    if (process.env['UPDATE_SNAPSHOTS'] || !existsSync(snapshot)) writeFileSync(snapshot, `${md.stdout}\n`);
    assert.equal(`${md.stdout}\n`, readFileSync(snapshot, 'utf8'));

    const all = await cli(['subgraph', 'check', '--graph', 'shop', '--config', join(repoRoot, 'subgraphs/supergraph.yaml')], { TESSERA_REGISTRY_TOKEN: tokens.checker });
    // The checked-in products schema lacks the `slogan` that version 5 added: removing it breaks.
    assert.equal(all.code, 1, all.stdout + all.stderr);
    assert.match(all.stdout, /^Check of accounts, products, reviews, inventory against shop@production \(version 5\)\n✓ composes\n/);
    assert.match(all.stdout, /BREAKING {2}Field 'slogan' was removed from object type 'Product' \(Product.slogan\)/);
    const noPermission = await cli(['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', removed], { TESSERA_REGISTRY_TOKEN: tokens.reader });
    assert.equal(noPermission.code, 2);
  });

  it('usage-aware checks: a removed field that recorded operations use fails with them; an unused one passes', async () => {
    for (let i = 0; i < 3; i++) await gql(gateway.url, { query: 'query ShopPeople { users(first: 1) { name } }', operationName: 'ShopPeople' }, { 'apollographql-client-name': 'web-shop' });
    const accounts = exampleSdl('accounts');
    const check = async (sdl: string) => {
      const f = join(stack.dir, `usage-${Math.random().toString(36).slice(2)}.graphql`);
      writeFileSync(f, sdl);
      return cli(['subgraph', 'check', '--graph', 'shop', '--name', 'accounts', '--schema', f, '--usage-days', '7', '--format', 'json']);
    };
    const used = await eventually(async () => {
      const r = await check(editSdl(accounts, '  name: String!\n', ''));
      const change = JSON.parse(r.stdout).changes[0];
      return change?.operations ? { r, change } : null;
    }, 5000, 'the usage report to reach the registry');
    assert.equal(used.r.code, 1);
    assert.equal(used.change.coordinate, 'User.name');
    assert.deepEqual(used.change.operations.map((o: any) => [o.name, o.client, o.count]), [['ShopPeople', 'web-shop', 3]]);

    const unused = await check(editSdl(accounts, '  "Needs both `read:profile` and `read:pii`."\n  birthDate: String @requiresScopes(scopes: [["read:profile", "read:pii"]])\n', ''));
    assert.equal(unused.code, 0, unused.stdout);
    const report = JSON.parse(unused.stdout);
    assert.deepEqual(report.changes.map((c: any) => [c.level, c.coordinate, c.unused]), [['breaking', 'User.birthDate', true]]);
    assert.equal(report.result, 'pass');
  });

  it('rolls a variant back to a past version, and the gateway follows', async () => {
    const rolled = await api(registry.url, 'shop/variants/production/rollback', { token: tokens.admin, body: { version: 4 } });
    assert.deepEqual(rolled.json, { status: 'rolled-back', version: 6 });
    const v4 = await api(registry.url, 'shop/variants/production/versions/4/supergraph', { token: tokens.reader });
    const now = await api(registry.url, 'shop/variants/production/supergraph', { token: tokens.reader });
    assert.equal(now.text, v4.text);
    await eventually(async () => (await getJson(`${gateway.base}/ready`)).body.supergraphVersion === 6, 2000, 'the gateway to load version 6');
    const fields = (await gql(gateway.url, { query: '{ __type(name: "Product") { fields { name } } }' })).body.data.__type.fields.map((f: any) => f.name);
    assert.ok(!fields.includes('slogan'));
  });

  it('20 concurrent publishes of different subgraphs: all acknowledged ones composed, history linear', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
    const results = await Promise.all(names.map((n) => publish(n, `type Query { ${n}Field: String }`, 'load')));
    assert.deepEqual(results.map((r) => r.json.status), names.map(() => 'published'));
    const versions = (await api(registry.url, 'shop/variants/load/versions', { token: tokens.admin })).json.versions.map((v: any) => v.version);
    assert.deepEqual(versions, Array.from({ length: 20 }, (_, i) => 20 - i));
    assert.deepEqual(results.map((r) => r.json.version).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    const sdl = (await api(registry.url, 'shop/variants/load/supergraph', { token: tokens.admin })).text;
    for (const n of names) assert.match(sdl, new RegExp(`${n}Field: String`));
  });

  it('kill -9 during a burst of publishes loses no acknowledged publish and leaves an intact database', async () => {
    const acked: Array<{ version: number; field: string }> = [];
    let n = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const field = `v${++n}`;
        try {
          const r = await publish('crash', `type Query { ${field}: String }`, 'crash');
          if (r.status === 200) acked.push({ version: r.json.version, field });
        } catch {
          return; // connection reset: the registry is gone
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    await sleep(600);
    await registry.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    assert.ok(acked.length > 5, `only ${acked.length} publishes were acknowledged before the kill`);

    const db = new DatabaseSync(registry.db);
    assert.deepEqual({ ...db.prepare('PRAGMA integrity_check').get() }, { integrity_check: 'ok' });
    db.close();
    registry = await startRegistry(stack.dir, Number(new URL(registry.url).port));
    for (const a of acked) {
      const v = await api(registry.url, `shop/variants/crash/versions/${a.version}/supergraph`, { token: tokens.admin });
      assert.equal(v.status, 200, `acknowledged version ${a.version} is present`);
      assert.match(v.text, new RegExp(`${a.field}: String`));
    }
    const versions = (await api(registry.url, 'shop/variants/crash/versions?limit=1000', { token: tokens.admin })).json.versions.map((v: any) => v.version);
    assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => versions.length - i), 'history has no gaps');
  });

  it('with the registry down, a restarted gateway serves its last good supergraph', async () => {
    await registry.proc.kill();
    const fresh = await stack.startGateway({
      supergraph: { file: undefined, registry: { url: registry.url, graph: 'shop', token: tokens.reader, pollIntervalMs: 300, cacheFile: cacheFile() } },
    });
    const warned = await fresh.proc.waitForLog('registry unreachable; starting from the last good supergraph');
    assert.equal(warned['version'], 6);
    assert.deepEqual((await gql(fresh.url, { query: '{ users(first: 1) { name } }' })).body, { data: { users: [{ name: U[0]!.name }] } });
    assert.equal((await getJson(`${fresh.base}/ready`)).body.supergraphVersion, 6);
  });
});

