import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { products } from '../../subgraphs/shared/dataset.ts';
import { eventually, gql, parseOr } from '../../harness/http.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign, type SigningKey } from '../../harness/jwks.ts';
import { runCliToEnd, type Proc } from '../../harness/process.ts';
import { RedisServer, redisAvailable, redisSkipMessage } from '../../harness/redis.ts';
import { api, startRegistry, tokens } from '../../harness/registry.ts';
import { editSdl, exampleSdl, startStack, type Stack } from '../../harness/stack.ts';

const P = products();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const TOP = 'query TopNames { topProducts(first: 2) { upc name } }';
const TOP_DATA = { topProducts: P.slice(0, 2).map((p) => ({ upc: p.upc, name: p.name })) };
const PRICES = 'query TopPrices { topProducts(first: 1) { upc price } }';
const PRICES_DATA = { topProducts: [{ upc: P[0]!.upc, price: P[0]!.price }] };
/** Reads `Product.category`, which the check test removes. */
const CATEGORY = 'query ProductCategory { topProducts(first: 1) { upc category { id } } }';
const REVIEW =
  'mutation AddReview { createReview(input: { productUpc: "1", authorId: "1", body: "ok", rating: 5 }) { id } }';

const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const err = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });
const preflight = { 'apollo-require-preflight': '1' };

/** A GET /graphql with the given parameters (JSON-encoded where GraphQL-over-HTTP says so). */
async function get(url: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) search.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  const res = await fetch(`${url}?${search}`, { headers: { ...preflight, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: parseOr(text, text) };
}

describe('persisted operations: APQ, trusted documents from the registry, the allow-list', () => {
  let stack: Stack;
  const procs: Proc[] = [];

  before(async () => {
    stack = await startStack({ noGateway: true });
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await stack?.[Symbol.asyncDispose]();
  });

  const productRequests = async () => (await stack.subgraphs.products.stats()).requests;

  it('APQ: a hash-only miss is 200 PERSISTED_QUERY_NOT_FOUND and never cached; query + hash registers it (the hash is verified); then the hash alone runs it, by POST and by GET with CDN headers', async () => {
    const g = await stack.startGateway();
    const hash = sha256(TOP);
    await stack.subgraphs.products.resetStats();

    const miss = await gql(g.url, { extensions: apq(hash) });
    assert.equal(miss.status, 200);
    assert.deepEqual(miss.body, err('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound'));
    assert.equal(miss.headers.get('cache-control'), 'private, no-cache, must-revalidate');
    const getMiss = await get(g.url, { extensions: apq(hash) });
    assert.equal(getMiss.status, 200);
    assert.deepEqual(getMiss.body, err('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound'));
    assert.equal(getMiss.headers.get('cache-control'), 'private, no-cache, must-revalidate');

    // A registration whose hash is not the query's plants nothing and runs nothing.
    const forged = await gql(g.url, { query: '{ users(first: 1) { id } }', extensions: apq(hash) });
    assert.equal(forged.status, 400);
    assert.deepEqual(
      forged.body,
      err('PERSISTED_QUERY_HASH_MISMATCH', 'The provided sha256Hash does not match the query.'),
    );
    assert.deepEqual(
      (await gql(g.url, { extensions: apq(hash) })).body.errors[0].extensions.code,
      'PERSISTED_QUERY_NOT_FOUND',
    );
    assert.equal(await productRequests(), 0, 'no miss and no forged registration reached a subgraph');

    const register = await gql(g.url, { query: TOP, extensions: apq(hash) });
    assert.equal(register.status, 200);
    assert.deepEqual(register.body, { data: TOP_DATA });

    const hit = await gql(g.url, { extensions: apq(hash) });
    assert.equal(hit.status, 200);
    assert.deepEqual(hit.body, { data: TOP_DATA });
    assert.equal(hit.headers.get('cache-control'), null, 'POST answers carry no caching headers');
    // Upper-case hex names the same hash.
    assert.deepEqual((await gql(g.url, { extensions: apq(hash.toUpperCase()) })).body, { data: TOP_DATA });

    const byGet = await get(g.url, { extensions: apq(hash) });
    assert.equal(byGet.status, 200);
    assert.deepEqual(byGet.body, { data: TOP_DATA });
    assert.equal(byGet.headers.get('cache-control'), 'public, max-age=60');
    const withCredentials = await get(g.url, { extensions: apq(hash) }, { authorization: 'Bearer opaque' });
    assert.deepEqual(withCredentials.body, { data: TOP_DATA });
    assert.equal(withCredentials.headers.get('cache-control'), 'private, max-age=60');
    assert.equal(await productRequests(), 5, 'registration, two POST hits, two GET hits');

    // A query whose answer is an error is never cached: here, variables that do not coerce.
    const withVar = 'query One($first: Int!) { topProducts(first: $first) { upc } }';
    await gql(g.url, { query: withVar, variables: { first: 1 }, extensions: apq(sha256(withVar)) });
    const bad = await get(g.url, { variables: { first: 'x' }, extensions: apq(sha256(withVar)) });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.equal(bad.headers.get('cache-control'), 'no-store');

    // A mutation registers by POST (and runs once); by GET its hash is refused like any GET mutation, uncached.
    const reg = await gql(g.url, { query: REVIEW, extensions: apq(sha256(REVIEW)) });
    assert.equal(reg.status, 200);
    assert.ok(reg.body.data.createReview.id);
    const mutationByGet = await get(g.url, { extensions: apq(sha256(REVIEW)) });
    assert.equal(mutationByGet.status, 405);
    assert.equal(mutationByGet.body.errors[0].extensions.code, 'METHOD_NOT_ALLOWED');
    assert.equal(mutationByGet.headers.get('cache-control'), 'no-store');
  });

  it('APQ with hostile input: malformed extensions are 400 with a specific message; the store is bounded by entries and query size', async () => {
    const g = await stack.startGateway({ persistedOperations: { apq: { maxEntries: 2, maxQueryBytes: 200 } } });
    const cases: Array<[unknown, number, unknown]> = [
      [
        { extensions: apq('abc') },
        400,
        err(
          'BAD_REQUEST',
          '`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the query: 64 hexadecimal characters.',
        ),
      ],
      [
        { extensions: apq(`${'g'.repeat(64)}`) },
        400,
        err(
          'BAD_REQUEST',
          '`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the query: 64 hexadecimal characters.',
        ),
      ],
      [
        { extensions: { persistedQuery: { version: 2, sha256Hash: sha256(TOP) } } },
        400,
        err('BAD_REQUEST', 'Unsupported persisted query version: only 1 is known.'),
      ],
      [
        { query: TOP, extensions: { persistedQuery: 'x' } },
        400,
        err('BAD_REQUEST', '`extensions.persistedQuery` must be an object.'),
      ],
      [{ query: 5, extensions: apq(sha256(TOP)) }, 400, err('BAD_REQUEST', 'GraphQL queries must be strings.')],
      [
        { documentId: 7 },
        400,
        err('BAD_REQUEST', '`documentId` must be a string of 1–200 letters, digits or _ . : -.'),
      ],
      [
        { documentId: 'x'.repeat(201) },
        400,
        err('BAD_REQUEST', '`documentId` must be a string of 1–200 letters, digits or _ . : -.'),
      ],
      [{ documentId: 'abc', query: TOP }, 400, err('BAD_REQUEST', 'Send either `documentId` or `query`, not both.')],
      // No manifests configured: a documentId can name nothing.
      [{ documentId: 'abc' }, 404, err('PERSISTED_DOCUMENT_NOT_FOUND', 'No published operation has the id "abc".')],
    ];
    for (const [body, status, expected] of cases) {
      const r = await gql(g.url, body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.deepEqual(r.body, expected, JSON.stringify(body));
    }

    // Three registrations into a store of two: the least recently used one is gone.
    const q = (n: number) => `query Q${n} { topProducts(first: ${n}) { upc } }`;
    for (const n of [1, 2, 3])
      assert.equal((await gql(g.url, { query: q(n), extensions: apq(sha256(q(n))) })).status, 200);
    const code = async (text: string) =>
      (await gql(g.url, { extensions: apq(sha256(text)) })).body.errors?.[0]?.extensions?.code ?? 'hit';
    assert.equal(await code(q(1)), 'PERSISTED_QUERY_NOT_FOUND');
    assert.equal(await code(q(3)), 'hit');
    assert.equal(await code(q(2)), 'hit');

    // Over apq.maxQueryBytes: it runs, and is not registered.
    const big = `query Big { topProducts(first: 1) { upc ${'name '.repeat(50)} } }`;
    const ran = await gql(g.url, { query: big, extensions: apq(sha256(big)) });
    assert.deepEqual(ran.body, { data: { topProducts: [{ upc: P[0]!.upc, name: P[0]!.name }] } });
    assert.equal(await code(big), 'PERSISTED_QUERY_NOT_FOUND');

    // The gateway keeps serving everyone else.
    assert.deepEqual((await gql(g.url, { query: TOP })).body, { data: TOP_DATA });
  });

  it('APQ turned off: a hash alone is 200 PERSISTED_QUERY_NOT_SUPPORTED (uncacheable), so clients resend the text; text with a hash still runs, and nothing is registered', async () => {
    const g = await stack.startGateway({ persistedOperations: { apq: { enabled: false } } });
    const hash = sha256(TOP);
    for (let i = 0; i < 2; i++) {
      const r = await gql(g.url, { extensions: apq(hash) });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, err('PERSISTED_QUERY_NOT_SUPPORTED', 'PersistedQueryNotSupported'));
      assert.equal(r.headers.get('cache-control'), 'private, no-cache, must-revalidate');
      // The client's fallback: the text with the hash, which runs (and, APQ being off, registers nothing).
      const fallback = await gql(g.url, { query: TOP, extensions: apq(hash) });
      assert.equal(fallback.status, 200);
      assert.deepEqual(fallback.body, { data: TOP_DATA });
    }
  });

  it('APQ through a real Redis: registered on one replica, served by another; with Redis gone, a replica still serves what it registered', async (t) => {
    if (!redisAvailable()) return t.skip(redisSkipMessage);
    const redis = await new RedisServer().start();
    try {
      const config = { redis: { url: redis.url, keyPrefix: 'apq-test:', commandTimeoutMs: 300 } };
      const a = await stack.startGateway(config);
      const b = await stack.startGateway(config);
      const hash = sha256(PRICES);
      assert.equal(
        (await gql(b.url, { extensions: apq(hash) })).body.errors[0].extensions.code,
        'PERSISTED_QUERY_NOT_FOUND',
      );
      assert.deepEqual((await gql(a.url, { query: PRICES, extensions: apq(hash) })).body, { data: PRICES_DATA });
      const onB = await gql(b.url, { extensions: apq(hash) });
      assert.equal(onB.status, 200);
      assert.deepEqual(onB.body, { data: PRICES_DATA });

      await redis.kill();
      const local = 'query Local { topProducts(first: 1) { upc } }';
      const registered = await gql(b.url, { query: local, extensions: apq(sha256(local)) });
      assert.deepEqual(registered.body, { data: { topProducts: [{ upc: P[0]!.upc }] } });
      assert.deepEqual((await gql(b.url, { extensions: apq(sha256(local)) })).body, {
        data: { topProducts: [{ upc: P[0]!.upc }] },
      });
      // A's memory never saw it, and Redis is gone: a miss, so the client sends the text again.
      assert.equal(
        (await gql(a.url, { extensions: apq(sha256(local)) })).body.errors[0].extensions.code,
        'PERSISTED_QUERY_NOT_FOUND',
      );
      await b.proc.waitForLog('redis unavailable for persisted queries; serving from this replica only');
    } finally {
      await redis.kill();
    }
  });

  // ---- trusted documents ------------------------------------------------------------------------

  type Registry = Awaited<ReturnType<typeof startRegistry>>;
  const newRegistry = async (name: string) => {
    const r = await startRegistry(stack.dir, { name });
    procs.push(r.proc);
    for (const n of ['accounts', 'products', 'reviews', 'inventory'] as const) {
      const res = await api(r.url, `shop/variants/production/subgraphs/${n}`, {
        token: tokens.admin,
        body: { url: stack.subgraphs[n].url, sdl: exampleSdl(n) },
      });
      assert.equal(res.json.status, 'published');
    }
    return r;
  };
  const cli = (registry: Registry, args: string[]) =>
    runCliToEnd(args, {
      env: { TESSERA_REGISTRY_URL: registry.url, TESSERA_REGISTRY_TOKEN: tokens.admin },
      timeoutMs: 60_000,
    });
  const file = (name: string, content: unknown) => {
    const f = join(stack.dir, `${name}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return f;
  };
  /** Apollo's persisted-query manifest, as `generate-persisted-query-manifest` writes it. */
  const apolloManifest = (...bodies: string[]) => ({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: bodies.map((body) => ({
      id: sha256(body),
      name: /^(?:query|mutation) (\w+)/.exec(body)![1],
      type: body.startsWith('mutation') ? 'mutation' : 'query',
      body,
    })),
  });
  const following = (registry: Registry, persisted: Record<string, unknown>, tag: string) =>
    stack.startGateway({
      supergraph: {
        file: undefined,
        registry: {
          url: registry.url,
          graph: 'shop',
          token: tokens.reader,
          pollIntervalMs: 300,
          cacheFile: join(stack.dir, `${tag}-supergraph.graphql`),
        },
      },
      persistedOperations: {
        ...persisted,
        manifests: { pollIntervalMs: 300, cacheFile: join(stack.dir, `${tag}-operations.json`) },
      },
    });

  it('trusted documents: `operations publish` validates a manifest against the supergraph; a following gateway serves it by documentId and by hash, and picks up a new version', async () => {
    const registry = await newRegistry('td-serve');
    const web = file('web', apolloManifest(TOP, PRICES));
    const published = await cli(registry, [
      'operations',
      'publish',
      '--graph',
      'shop',
      '--client',
      'web',
      '--version',
      '1.4.0',
      web,
    ]);
    assert.deepEqual(published, {
      code: 0,
      stdout: 'web@1.4.0: published (2 operations; shop@production manifests revision 1)\n',
      stderr: '',
    });
    const again = await cli(registry, [
      'operations',
      'publish',
      '--graph',
      'shop',
      '--client',
      'web',
      '--version',
      '1.4.0',
      web,
    ]);
    assert.equal(again.stdout, 'web@1.4.0: unchanged (2 operations; shop@production manifests revision 1)\n');

    // One operation that does not validate fails the whole manifest, naming it; nothing is stored.
    const broken = 'query Broken { topProducts { upc colour } }';
    const bad = await cli(registry, [
      'operations',
      'publish',
      '--graph',
      'shop',
      '--client',
      'web',
      '--version',
      '1.5.0',
      file('bad', apolloManifest(TOP, broken)),
    ]);
    assert.deepEqual(bad, {
      code: 1,
      stdout: '',
      stderr:
        'web@1.5.0: error[OPERATIONS_INVALID]: 1 operation of web@1.5.0 does not validate against shop@production; nothing was stored.\n' +
        `  operation Broken [${sha256(broken).slice(0, 12)}…]: Cannot query field "colour" on type "Product". (1:34)\n`,
    });
    const notJson = await cli(registry, [
      'operations',
      'publish',
      '--graph',
      'shop',
      '--client',
      'web',
      '--version',
      '1.5.0',
      file('nj', '{'),
    ]);
    assert.equal(notJson.code, 1);
    const denied = await runCliToEnd(
      ['operations', 'publish', '--graph', 'shop', '--client', 'web', '--version', '1.5.0', web],
      { env: { TESSERA_REGISTRY_URL: registry.url, TESSERA_REGISTRY_TOKEN: tokens.reader } },
    );
    assert.deepEqual(denied, {
      code: 2,
      stdout: '',
      stderr: 'error[REGISTRY_FORBIDDEN]: Token "gateway" may not publish graph "shop".\n',
    });
    const listed = await api(registry.url, 'shop/variants/production/operations', { token: tokens.reader });
    assert.equal(listed.status, 200);
    assert.equal(listed.headers.get('etag'), '"ops:shop@production:1"');
    assert.deepEqual(
      listed.json.manifests.map((m: { client: string; version: string }) => `${m.client}@${m.version}`),
      ['web@1.4.0'],
    );
    const unchanged = await api(registry.url, 'shop/variants/production/operations', {
      token: tokens.reader,
      headers: { 'if-none-match': '"ops:shop@production:1"' },
    });
    assert.equal(unchanged.status, 304);

    // Relay's persisted queries file: id → text.
    const relayId = 'b1946ac92492d2347c6235b4d2611184';
    const relay = await cli(registry, [
      'operations',
      'publish',
      '--graph',
      'shop',
      '--client',
      'ios',
      '--version',
      '2.0.0',
      file('relay', { [relayId]: 'query UserNames { users(first: 2) { id name } }' }),
    ]);
    assert.equal(relay.code, 0, relay.stderr);

    const g = await following(registry, {}, 'td-serve');
    await stack.subgraphs.products.resetStats();
    for (const body of [
      { documentId: `sha256:${sha256(TOP)}` },
      { documentId: sha256(TOP) },
      { extensions: apq(sha256(TOP)) },
    ]) {
      const r = await gql(g.url, body);
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.deepEqual(r.body, { data: TOP_DATA });
    }
    const byGet = await get(g.url, { documentId: `sha256:${sha256(PRICES)}` });
    assert.deepEqual(byGet.body, { data: PRICES_DATA });
    assert.equal(byGet.headers.get('cache-control'), 'public, max-age=60');
    assert.equal(await productRequests(), 4);
    const users = await gql(g.url, { documentId: relayId });
    assert.equal(users.status, 200);
    assert.equal(users.body.data.users.length, 2);
    const unknown = await gql(g.url, { documentId: 'sha256:' + '0'.repeat(64) });
    assert.equal(unknown.status, 404);
    assert.deepEqual(
      unknown.body,
      err('PERSISTED_DOCUMENT_NOT_FOUND', `No published operation has the id "sha256:${'0'.repeat(64)}".`),
    );

    // A new client version is served within a poll or two (the gateway polls with If-None-Match).
    const next = 'query Cheapest { topProducts(first: 3) { upc } }';
    assert.equal(
      (
        await cli(registry, [
          'operations',
          'publish',
          '--graph',
          'shop',
          '--client',
          'web',
          '--version',
          '1.5.0',
          file('next', apolloManifest(TOP, next)),
        ])
      ).code,
      0,
    );
    await eventually(
      async () => (await gql(g.url, { documentId: sha256(next) })).status === 200,
      10_000,
      'the new manifest',
    );
    // An id published with another body is refused: one id always means one document.
    const conflict = await cli(registry, [
      'operations',
      'publish',
      '--graph',
      'shop',
      '--client',
      'android',
      '--version',
      '1.0.0',
      file('conflict', { [relayId]: 'query Other { users(first: 1) { id } }' }),
    ]);
    assert.deepEqual(conflict, {
      code: 1,
      stdout: '',
      stderr:
        'android@1.0.0: error[OPERATIONS_CONFLICT]: android@1.0.0: nothing was stored.\n' +
        `  id ${relayId} is published with another body\n`,
    });
  });

  it('allowList refuses free text with 403 before any subgraph; text in a manifest runs; a verified bypass claim passes; logOnly runs and logs', async () => {
    const registry = await newRegistry('td-allow');
    assert.equal(
      (
        await cli(registry, [
          'operations',
          'publish',
          '--graph',
          'shop',
          '--client',
          'web',
          '--version',
          '1.0.0',
          file('web', apolloManifest(TOP)),
        ])
      ).code,
      0,
    );
    const jwks = new JwksServer();
    const key: SigningKey = await makeKey('k1');
    jwks.keys = [key];
    await jwks.start();
    try {
      const auth = { issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }] };
      const g = await stack.startGateway({
        supergraph: {
          file: undefined,
          registry: {
            url: registry.url,
            graph: 'shop',
            token: tokens.reader,
            cacheFile: join(stack.dir, 'allow-sg.graphql'),
          },
        },
        policies: { auth },
        persistedOperations: {
          mode: 'allowList',
          manifests: { cacheFile: join(stack.dir, 'allow-ops.json') },
          bypass: { claim: 'internal', equals: true },
        },
      });
      await stack.subgraphs.products.resetStats();
      const free = 'query Free { topProducts(first: 1) { upc } }';
      const refused = await gql(g.url, { query: free });
      assert.equal(refused.status, 403);
      assert.deepEqual(
        refused.body,
        err(
          'PERSISTED_QUERY_NOT_ALLOWED',
          'This gateway runs only published operations: send a `documentId` from your client manifest.',
        ),
      );
      // APQ cannot smuggle free text in: its registration is free text too.
      assert.equal((await gql(g.url, { query: free, extensions: apq(sha256(free)) })).status, 403);
      const notClaimed = await gql(
        g.url,
        { query: free },
        { authorization: `Bearer ${await sign(key, { internal: false })}` },
      );
      assert.equal(notClaimed.status, 403);
      assert.equal(await productRequests(), 0, 'nothing refused reached a subgraph');

      assert.deepEqual(
        (await gql(g.url, { query: TOP })).body,
        { data: TOP_DATA },
        'the exact text of a published operation',
      );
      assert.deepEqual((await gql(g.url, { documentId: sha256(TOP) })).body, { data: TOP_DATA });
      const internal = await gql(
        g.url,
        { query: free },
        { authorization: `Bearer ${await sign(key, { internal: true })}` },
      );
      assert.equal(internal.status, 200);
      assert.deepEqual(internal.body, { data: { topProducts: [{ upc: P[0]!.upc }] } });

      const logOnly = await stack.startGateway({
        supergraph: {
          file: undefined,
          registry: {
            url: registry.url,
            graph: 'shop',
            token: tokens.reader,
            cacheFile: join(stack.dir, 'log-sg.graphql'),
          },
        },
        persistedOperations: { mode: 'logOnly', manifests: { cacheFile: join(stack.dir, 'log-ops.json') } },
      });
      const logged = await gql(
        logOnly.url,
        { query: free, operationName: 'Free' },
        { 'apollographql-client-name': 'admin-tool' },
      );
      assert.equal(logged.status, 200);
      assert.deepEqual(logged.body, { data: { topProducts: [{ upc: P[0]!.upc }] } });
      const line = await logOnly.proc.waitForLog('operation not in any published manifest');
      assert.deepEqual(
        { operationName: line['operationName'], sha256: line['sha256'], client: line['client'] },
        { operationName: 'Free', sha256: sha256(free), client: 'admin-tool' },
      );
      await gql(logOnly.url, { query: TOP });
      await gql(logOnly.url, { query: free, operationName: 'Free' });
      assert.equal(
        logOnly.proc.logs().filter((l) => l['msg'] === 'operation not in any published manifest').length,
        1,
        'a published text is not logged, and an unlisted one once per 10 minutes',
      );
    } finally {
      await jwks.stop();
    }
  });

  it('subgraph check fails when a schema change breaks a published operation, naming it in text, JSON and Markdown', async () => {
    const registry = await newRegistry('td-check');
    assert.equal(
      (
        await cli(registry, [
          'operations',
          'publish',
          '--graph',
          'shop',
          '--client',
          'web',
          '--version',
          '1.4.0',
          file('web', apolloManifest(TOP, CATEGORY)),
        ])
      ).code,
      0,
    );
    const noPrice = file('products', editSdl(exampleSdl('products'), '  category: Category!\n', ''));
    const args = [
      'subgraph',
      'check',
      '--graph',
      'shop',
      '--name',
      'products',
      '--schema',
      noPrice,
      '--usage-days',
      '7',
    ];
    const id = sha256(CATEGORY).slice(0, 12);
    const text = await cli(registry, args);
    assert.equal(text.code, 1, text.stderr);
    // No recorded usage: the removed field alone would pass as unused; the published operation fails it.
    assert.match(
      text.stdout,
      /unused {4}Field 'category' was removed from object type 'Product' \(Product\.category\)/,
    );
    assert.ok(
      text.stdout.endsWith(
        '  published operations: 2 checked, 1 broken\n' +
          `  BROKEN    operation ProductCategory [${id}…] (web@1.4.0)\n` +
          '            Cannot query field "category" on type "Product". (1:53)\n' +
          'FAIL\n',
      ),
      text.stdout,
    );

    const json = await cli(registry, [...args, '--format', 'json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout);
    assert.equal(report.result, 'fail');
    assert.equal(report.operationsChecked, 2);
    assert.deepEqual(report.brokenOperations, [
      {
        id: sha256(CATEGORY),
        name: 'ProductCategory',
        clients: ['web@1.4.0'],
        errors: ['Cannot query field "category" on type "Product". (1:53)'],
      },
    ]);

    const md = await cli(registry, [...args, '--format', 'markdown']);
    assert.equal(md.code, 1);
    assert.ok(
      md.stdout.endsWith(
        '**Published operations that would break** (1 of 2)\n\n' +
          '| operation | clients | errors |\n| --- | --- | --- |\n' +
          `| \`ProductCategory [${id}…]\` | web@1.4.0 | Cannot query field "category" on type "Product". (1:53) |\n`,
      ),
      md.stdout,
    );

    // A change no published operation depends on passes.
    const withSlogan = file(
      'slogan',
      editSdl(exampleSdl('products'), '  category: Category!\n', '  category: Category!\n  slogan: String\n'),
    );
    const ok = await cli(registry, [
      'subgraph',
      'check',
      '--graph',
      'shop',
      '--name',
      'products',
      '--schema',
      withSlogan,
    ]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /published operations: 2 checked, 0 broken\nPASS\n$/);
  });

  it('registry outage: a gateway restarted while the registry is down serves the manifests it cached', async () => {
    const registry = await newRegistry('td-outage');
    assert.equal(
      (
        await cli(registry, [
          'operations',
          'publish',
          '--graph',
          'shop',
          '--client',
          'web',
          '--version',
          '1.4.0',
          file('web', apolloManifest(TOP)),
        ])
      ).code,
      0,
    );
    const first = await following(registry, { mode: 'allowList' }, 'outage');
    assert.deepEqual((await gql(first.url, { documentId: sha256(TOP) })).body, { data: TOP_DATA });
    await first.proc.kill();
    await registry.proc.kill();

    const second = await following(registry, { mode: 'allowList' }, 'outage');
    const warned = await second.proc.waitForLog('registry unreachable; serving the last operation manifests loaded');
    assert.equal(warned['operations'], 1);
    const r = await gql(second.url, { documentId: sha256(TOP) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { data: TOP_DATA });
    assert.deepEqual((await gql(second.url, { query: TOP })).body, { data: TOP_DATA });
    assert.equal((await gql(second.url, { query: '{ users(first: 1) { id } }' })).status, 403);
  });
});
