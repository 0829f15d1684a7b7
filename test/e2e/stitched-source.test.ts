import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startFaultSubgraph, type FaultSubgraph } from '../../harness/fault-subgraph.ts';
import { gql } from '../../harness/http.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey, sign, type SigningKey } from '../../harness/jwks.ts';
import { metric } from '../../harness/metrics.ts';
import { plainServiceSdl, shipments, shippingOf } from '../../harness/plain-service.ts';
import { repoRoot, runCli, runCliToEnd, runScript, type Proc } from '../../harness/process.ts';
import { startRegistry, tokens } from '../../harness/registry.ts';
import { startSubgraphProc, type RunningSubgraphProc } from '../../harness/stack.ts';
import { generatePki, type TestPki } from '../../harness/certs.ts';
import { products } from '../../subgraphs/shared/dataset.ts';

const P = products();
const byUpc = (upc: string) => P.find((p) => p.upc === upc)!;

/** The merge config of the tests' plain service, as a service team would write it in supergraph.yaml. */
const shippingEntry = (routingUrl: string, schema: Record<string, string> | undefined) => ({
  kind: 'graphql',
  routing_url: routingUrl,
  ...(schema ? { schema } : {}),
  merge: { Product: { selectionSet: '{ upc }', fieldName: 'productsByUpc', key: 'upc', argsFromKeys: null } },
  directives: {
    'Product.shippingCost': ['@cost(weight: 3)'],
    'Query.shipments': ['@listSize(slicingArguments: ["first"])'],
    'Shipment.trackingNumber': ['@requiresScopes(scopes: [["shipping:read"]])'],
  },
});

describe('a plain GraphQL service (kind: graphql) joined through type merging', () => {
  let dir: string;
  let plain: Proc;
  let plainUrl: string;
  let proxy: FaultSubgraph;
  let productsProc: RunningSubgraphProc;
  let supergraphFile: string;
  const gateways: Proc[] = [];
  const jwks = new JwksServer();
  let key: SigningKey;

  const received = async (): Promise<Array<{ query: string; variables: unknown }>> =>
    (
      (await (await fetch(plainUrl.replace(/\/graphql$/, '/_received'))).json()) as Array<{
        query: string;
        variables: unknown;
      }>
    ).map(({ query, variables }) => ({ query, variables }));
  const receivedWithHeaders = async (): Promise<Array<{ query: string; headers: Record<string, string> }>> =>
    (await (await fetch(plainUrl.replace(/\/graphql$/, '/_received'))).json()) as Array<{
      query: string;
      headers: Record<string, string>;
    }>;
  const resetReceived = async () => void (await fetch(plainUrl.replace(/\/graphql$/, '/_reset'), { method: 'POST' }));

  const writeConfig = (name: string, shipping: Record<string, unknown>) => {
    const file = join(dir, name);
    writeFileSync(
      file,
      stringify({
        federation_version: '=2.9.0',
        subgraphs: {
          products: {
            routing_url: productsProc.url,
            schema: { file: join(repoRoot, 'subgraphs/products/schema.graphql') },
          },
          shipping,
        },
      }),
    );
    return file;
  };

  const startGateway = async (config: Record<string, unknown>, supergraph: unknown = { file: supergraphFile }) => {
    const file = join(dir, `tessera-${gateways.length + 1}.yaml`);
    writeFileSync(
      file,
      stringify({
        server: { port: 0, host: '127.0.0.1' },
        metrics: { port: 0 },
        supergraph,
        log: { level: 'info', requests: false },
        ...config,
      }),
    );
    const proc = runCli(['gateway', '--config', file]);
    gateways.push(proc);
    const line = await proc.waitForLog('gateway listening');
    return { proc, url: String(line['url']), metricsUrl: String(line['metricsUrl']) };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-stitch-'));
    plain = runScript(join(repoRoot, 'harness/plain-service.ts'), ['--port', '0']);
    plainUrl = String((await plain.waitForLog('plain service listening'))['url']);
    // The gateway reaches the service through a fault proxy; composition introspects the service itself.
    proxy = await startFaultSubgraph(plainUrl);
    productsProc = await startSubgraphProc('products');
    key = await makeKey('k1');
    jwks.keys = [key];
    await jwks.start();
    supergraphFile = join(dir, 'supergraph.graphql');
    const config = writeConfig('supergraph.yaml', shippingEntry(proxy.url, { subgraph_url: plainUrl }));
    const composed = await runCliToEnd(['compose', '--config', config, '--output', supergraphFile]);
    assert.equal(composed.code, 0, composed.stderr);
  });
  after(async () => {
    await Promise.all([...gateways.map((g) => g.kill()), plain?.kill(), productsProc?.proc.kill(), proxy?.close()]);
    await jwks.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('served through the gateway with policies on', () => {
    let gw: { proc: Proc; url: string; metricsUrl: string };
    before(async () => {
      gw = await startGateway({
        policies: {
          auth: {
            issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }],
            forwardClaims: [{ claim: 'sub', header: 'x-user-id' }],
          },
          operationLimits: { maxDepth: 4 },
          cost: { maxCost: 60 },
        },
      });
    });

    it('a federated Product gets fields from the plain service, all keys in one batched call', async () => {
      await resetReceived();
      const res = await gql(gw.url, { query: '{ topProducts(first: 3) { upc name shippingCost deliveryDays } }' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        data: {
          topProducts: ['1', '2', '3'].map((upc) => ({
            upc,
            name: byUpc(upc).name,
            shippingCost: shippingOf(upc)!.shippingCost,
            deliveryDays: shippingOf(upc)!.deliveryDays,
          })),
        },
      });
      const calls = await received();
      assert.equal(calls.length, 1, JSON.stringify(calls));
      assert.match(calls[0]!.query, /productsByUpc\(upcs: \$upcs\)/);
      assert.doesNotMatch(calls[0]!.query, /_entities|_service/, 'the service is only sent what it serves');
      assert.deepEqual(calls[0]!.variables, { upcs: ['1', '2', '3'] });
    });

    it("the plain service's types reach federated fields", async () => {
      await resetReceived();
      const res = await gql(gw.url, {
        query: '{ shipments(first: 3) { id status product { upc name price shippingCost } } }',
      });
      assert.deepEqual(res.body, {
        data: {
          shipments: shipments.slice(0, 3).map((s) => ({
            id: s.id,
            status: s.status,
            product: {
              upc: s.upc,
              name: byUpc(s.upc).name,
              price: byUpc(s.upc).price,
              shippingCost: shippingOf(s.upc)!.shippingCost,
            },
          })),
        },
      });
      const calls = await received();
      assert.equal(calls.length, 1, 'one root call; name and price come from products');
      assert.match(calls[0]!.query, /shipments\(first: \$\w+\)|shipments\(first: 3\)/);
    });

    it('cost: @cost and @listSize attached in config weigh its fields; over maxCost nothing reaches it', async () => {
      await resetReceived();
      const res = await gql(gw.url, { query: '{ shipments(first: 20) { product { shippingCost } } }' });
      // 20 shipments × (Shipment 1 + Product 1 + shippingCost 3): without the attached @cost it would be 40.
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, {
        errors: [
          {
            message: 'Operation estimated cost 100 exceeds the maximum of 60.',
            extensions: { cost: { estimated: 100, max: 60 }, code: 'COST_ESTIMATED_TOO_EXPENSIVE' },
          },
        ],
      });
      assert.deepEqual(await received(), []);
      const cheaper = await gql(gw.url, { query: '{ shipments(first: 10) { product { shippingCost } } }' });
      assert.equal(cheaper.body.data.shipments.length, 8, 'cost 50 passes (the service has 8 shipments)');
    });

    it('auth: @requiresScopes attached in config guards its field', async () => {
      await resetReceived();
      const query = '{ shipment(id: "s2") { id trackingNumber } }';
      const anonymous = await gql(gw.url, { query });
      // trackingNumber is non-null: its parent is nulled, and the service is never asked for it.
      assert.deepEqual(anonymous.body, {
        errors: [
          {
            message: 'Unauthorized field or type: Shipment.trackingNumber',
            path: ['shipment', 'trackingNumber'],
            extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
          },
        ],
        data: { shipment: null },
      });
      assert.doesNotMatch(JSON.stringify(await received()), /trackingNumber/);
      const token = await sign(key, { scope: 'shipping:read', sub: 'user-7' });
      await resetReceived();
      // A client-sent x-user-id never reaches the service: the auth policy's wrap sets the verified claim.
      const allowed = await gql(gw.url, { query }, { authorization: `Bearer ${token}`, 'x-user-id': 'forged' });
      assert.deepEqual(allowed.body, { data: { shipment: { id: 's2', trackingNumber: 'TRK-1001' } } });
      const [call] = await receivedWithHeaders();
      assert.equal(call!.headers['x-user-id'], 'user-7');
      assert.match(call!.headers['x-request-id'] ?? '', /^[\w-]{8,}$/);
    });

    it('a key the service does not know, and its own errors, as for any subgraph', async () => {
      // The service answers null for UPC 42 (productsByUpc): that entity's fields are null, as a
      // federation subgraph's null entity would be.
      const unknown = await gql(gw.url, { query: '{ product(upc: "42") { name deliveryDays } }' });
      assert.deepEqual(unknown.body, {
        errors: [
          {
            message: 'Cannot return null for non-nullable field Product.deliveryDays.',
            path: ['product', 'deliveryDays'],
            extensions: { serviceName: 'shipping', code: 'DOWNSTREAM_SERVICE_ERROR' },
          },
        ],
        data: { product: null },
      });
      // Its GraphQL errors keep their message and path (subgraphs.<name>.errors decides), nothing else.
      const failing = await gql(gw.url, { query: '{ shipment(id: "held") { id } }' });
      assert.deepEqual(failing.body, {
        errors: [
          {
            message: 'shipment "held" is on hold at customs',
            path: ['shipment'],
            extensions: { serviceName: 'shipping', code: 'DOWNSTREAM_SERVICE_ERROR' },
          },
        ],
        data: { shipment: null },
      });
    });

    it('operation limits apply to its fields', async () => {
      const res = await gql(gw.url, { query: '{ shipments { product { upc } } }' });
      assert.equal(res.status, 200);
      const deep = await gql(gw.url, {
        query: '{ topProducts(first: 1) { category { products(first: 1) { category { name } } } } }',
      });
      assert.equal(deep.body.errors[0].extensions.code, 'MAX_DEPTH_EXCEEDED');
    });

    it('its fetches are counted in the subgraph metrics under its name', async () => {
      assert.ok(
        (await metric(gw.metricsUrl, 'tessera_subgraph_request_duration_seconds_count', {
          subgraph: 'shipping',
          outcome: 'success',
        })) >= 3,
      );
    });
  });
  describe("faults and limits: the subgraph client's retries, deadline, breaker and rate cap", () => {
    it('a failed attempt is retried: one 503, then the answer', async () => {
      const gw = await startGateway({
        subgraphs: { shipping: { breaker: { enabled: false }, retry: { maxAttempts: 2, baseDelayMs: 10 } } },
      });
      let failures = 1;
      proxy.resetStats();
      proxy.setFault(async (_req, forward) =>
        failures-- > 0 ? { status: 503, json: { errors: [{ message: 'down' }] } } : { json: (await forward()).json },
      );
      try {
        const res = await gql(gw.url, { query: '{ topProducts(first: 2) { upc shippingCost } }' });
        assert.deepEqual(res.body, {
          data: { topProducts: ['1', '2'].map((upc) => ({ upc, shippingCost: shippingOf(upc)!.shippingCost })) },
        });
        assert.equal(proxy.requests, 2, 'the _entities fetch was attempted twice');
        assert.equal(await metric(gw.metricsUrl, 'tessera_subgraph_retries_total', { subgraph: 'shipping' }), 1);
      } finally {
        proxy.setFault(null);
      }
    });

    it('a slow service times out under its deadline: SUBGRAPH_TIMEOUT for its fields only', async () => {
      const gw = await startGateway({
        subgraphs: { shipping: { timeoutMs: 400, attemptTimeoutMs: 300, retry: { maxAttempts: 1 } } },
      });
      proxy.setFault(async (_req, forward) => {
        await new Promise((r) => setTimeout(r, 1500));
        return { json: (await forward()).json };
      });
      try {
        const res = await gql(gw.url, { query: '{ topProducts(first: 1) { name deliveryDays } }' });
        assert.deepEqual(res.body, {
          data: null,
          errors: [
            {
              message: 'Subgraph "shipping" did not respond in time',
              path: ['topProducts', 0, 'deliveryDays'],
              extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'shipping' },
            },
          ],
        });
      } finally {
        proxy.setFault(null);
      }
    });

    it('a mutation through it is never retried once it may have reached the service', async () => {
      const gw = await startGateway({ subgraphs: { shipping: { retry: { maxAttempts: 3, baseDelayMs: 10 } } } });
      proxy.resetStats();
      proxy.setFault(() => ({ status: 503, json: { errors: [{ message: 'down' }] } }));
      try {
        const res = await gql(gw.url, { query: 'mutation { createShipment(upc: "3") { id status } }' });
        assert.deepEqual(res.body, {
          data: null,
          errors: [
            {
              message: 'Subgraph "shipping" answered HTTP 503',
              path: ['createShipment'],
              extensions: { code: 'SUBGRAPH_HTTP_ERROR', serviceName: 'shipping', status: 503 },
            },
          ],
        });
        assert.equal(proxy.requests, 1);
        proxy.setFault(null);
        const ok = await gql(gw.url, { query: 'mutation { createShipment(upc: "3") { status product { name } } }' });
        assert.deepEqual(ok.body, { data: { createShipment: { status: 'BOOKED', product: { name: 'Chair' } } } });
      } finally {
        proxy.setFault(null);
      }
    });

    it("the gateway's request-rate cap for it: over the cap its fields are null and nothing is sent", async () => {
      const gw = await startGateway({ subgraphs: { shipping: { rateLimit: { requestsPerSecond: 0.01, burst: 1 } } } });
      proxy.resetStats();
      const query = { query: '{ shipments(first: 1) { id } }' };
      assert.deepEqual((await gql(gw.url, query)).body, { data: { shipments: [{ id: 's1' }] } });
      assert.deepEqual((await gql(gw.url, query)).body, {
        data: null,
        errors: [
          {
            message: 'Subgraph "shipping" is over the gateway\'s request-rate limit for it',
            path: ['shipments'],
            extensions: { code: 'SUBGRAPH_RATE_LIMITED', serviceName: 'shipping' },
          },
        ],
      });
      assert.equal(proxy.requests, 1);
    });

    it('a failing service opens its breaker; then nothing reaches it and other subgraphs serve on', async () => {
      const gw = await startGateway({
        subgraphs: {
          shipping: {
            retry: { maxAttempts: 1 },
            breaker: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
          },
        },
      });
      proxy.setFault(() => ({ status: 500, json: { errors: [{ message: 'internal detail that must not leak' }] } }));
      try {
        const query = { query: '{ topProducts(first: 1) { name shippingCost } }' };
        for (let i = 0; i < 4; i++) {
          const res = await gql(gw.url, query);
          assert.deepEqual(res.body, {
            // shippingCost is non-null, and so are the list items and topProducts: the null reaches data.
            data: null,
            errors: [
              {
                message: 'Subgraph "shipping" answered HTTP 500',
                path: ['topProducts', 0, 'shippingCost'],
                extensions: { code: 'SUBGRAPH_HTTP_ERROR', serviceName: 'shipping', status: 500 },
              },
            ],
          });
        }
        await gw.proc.waitForLog('circuit breaker open', 2000);
        proxy.resetStats();
        const open = await gql(gw.url, query);
        assert.deepEqual(open.body, {
          data: null,
          errors: [
            {
              message: 'Subgraph "shipping" is failing; its circuit breaker is open',
              path: ['topProducts', 0, 'shippingCost'],
              extensions: { code: 'SUBGRAPH_CIRCUIT_OPEN', serviceName: 'shipping' },
            },
          ],
        });
        assert.equal(proxy.requests, 0, 'no request reached the service while open');
        assert.deepEqual((await gql(gw.url, { query: '{ topProducts(first: 1) { name } }' })).body, {
          data: { topProducts: [{ name: 'Table' }] },
        });
        assert.equal(await metric(gw.metricsUrl, 'tessera_subgraph_breaker_state', { subgraph: 'shipping' }), 2);
      } finally {
        proxy.setFault(null);
      }
    });
  });
  describe('composition (tessera compose)', () => {
    it('file-sourced SDL: the composed subgraph carries the config directives; the supergraph, the descriptor', async () => {
      const sdlFile = join(dir, 'shipping.graphql');
      writeFileSync(sdlFile, plainServiceSdl);
      const config = writeConfig('file.yaml', shippingEntry(proxy.url, { file: sdlFile }));
      const out = join(dir, 'file-supergraph.graphql');
      const res = await runCliToEnd(['compose', '--config', config, '--output', out]);
      assert.equal(res.code, 0, res.stderr);
      const sdl = readFileSync(out, 'utf8');
      assert.match(sdl, /SHIPPING @join__graph\(name: "shipping", url: "http:\/\/127\.0\.0\.1:\d+\/graphql"\)/);
      assert.match(sdl, /@join__type\(graph: SHIPPING, key: "upc"\)/);
      assert.match(sdl, /shippingCost: Int! @join__field\(graph: SHIPPING\) @cost\(weight: 3\)/);
      assert.match(sdl, /^# tessera:stitched-source shipping v1 [\w-]+$/m);
      // Nothing of the stitching machinery reaches the API: no _entities, no descriptor type.
      assert.doesNotMatch(sdl, /_entities|tessera__/);
    });

    it('no schema entry: the routing URL is introspected', async () => {
      const config = writeConfig('introspect.yaml', shippingEntry(plainUrl, undefined));
      const res = await runCliToEnd(['compose', '--config', config]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /productsByUpc\(upcs: \[String!\]!\): \[Product\]! @join__field\(graph: SHIPPING\)/);
    });

    it('a merge conflict is reported by composition, the source named, at its line in the service SDL', async () => {
      // The service also has a Product.name, of another type than the products subgraph's.
      const sdlFile = join(dir, 'conflict.graphql');
      writeFileSync(sdlFile, plainServiceSdl.replace('  upc: String!\n', '  upc: String!\n  name: Int\n'));
      const config = writeConfig('conflict.yaml', shippingEntry(proxy.url, { file: sdlFile }));
      const out = join(dir, 'never.graphql');
      const res = await runCliToEnd(['compose', '--config', config, '--output', out]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^error\[COMPOSITION_FAILED\]: composition of 2 subgraphs failed with 2 errors/);
      assert.ok(
        res.stderr.includes(
          'error[FIELD_TYPE_MISMATCH]: Type of field "Product.name" is incompatible across subgraphs: it has type "String!" in subgraph "products" but type "Int" in subgraph "shipping"\n',
        ),
        res.stderr,
      );
      assert.ok(
        res.stderr.includes(
          'error[INVALID_FIELD_SHARING]: Non-shareable field "Product.name" is resolved from multiple subgraphs: it is resolved from subgraphs "products" and "shipping" and defined as non-shareable in all of them\n',
        ),
      );
      // The location is the line of `  name: Int` in the service's own file.
      const line = readFileSync(sdlFile, 'utf8').split('\n').indexOf('  name: Int') + 1;
      assert.ok(line > 1);
      assert.ok(res.stderr.includes(`\n    at shipping:${line}:3\n`), res.stderr);
      assert.equal(existsSync(out), false);
    });

    it('a merge config that does not fit the service fails, each problem named with its source', async () => {
      const entry = shippingEntry(proxy.url, { subgraph_url: plainUrl });
      entry.merge.Product.fieldName = 'productByUpc';
      const config = writeConfig('bad-merge.yaml', {
        ...entry,
        merge: { ...entry.merge, Parcel: { selectionSet: '{ id }' } },
        directives: { ...entry.directives, 'Shipment.weight': ['@cost(weight: 1)'], Shipment: ['@key(fields: "id")'] },
      });
      const res = await runCliToEnd(['compose', '--config', config]);
      assert.equal(res.code, 1);
      assert.equal(
        res.stderr,
        [
          'error[STITCHED_SOURCE_INVALID]: [shipping] merge.Product.fieldName: the service has no field Query.productByUpc',
          'error[STITCHED_SOURCE_INVALID]: [shipping] merge.Parcel: the service has no object type "Parcel"',
          'error[STITCHED_SOURCE_INVALID]: [shipping] directives.Shipment.weight: the service has no field Shipment.weight',
          'error[STITCHED_SOURCE_INVALID]: [shipping] directives.Shipment: @key cannot be attached (one of @shareable, @inaccessible, @tag, @override, @authenticated, @requiresScopes, @policy, @cost, @listSize)',
          'composition failed: subgraph "shipping" (kind graphql) is not valid; nothing was written.',
          '',
        ].join('\n'),
      );
    });
  });
  describe('mTLS: the service behind HTTPS demanding a client certificate', () => {
    let pki: TestPki;
    let tlsPlain: Proc;
    let tlsSupergraph: string;
    before(async () => {
      pki = generatePki();
      tlsPlain = runScript(join(repoRoot, 'harness/plain-service.ts'), [
        ...['--port', '0', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--tls-ca', pki.ca],
      ]);
      const url = String((await tlsPlain.waitForLog('plain service listening'))['url']);
      assert.match(url, /^https:/);
      const sdlFile = join(dir, 'tls-shipping.graphql');
      writeFileSync(sdlFile, plainServiceSdl);
      tlsSupergraph = join(dir, 'tls-supergraph.graphql');
      const config = writeConfig('tls.yaml', shippingEntry(url, { file: sdlFile }));
      const composed = await runCliToEnd(['compose', '--config', config, '--output', tlsSupergraph]);
      assert.equal(composed.code, 0, composed.stderr);
    });
    after(async () => {
      await tlsPlain?.kill();
      rmSync(pki.dir, { recursive: true, force: true });
    });
    const query = { query: '{ topProducts(first: 1) { name shippingCost } }' };

    it("works with the client certificate in the service's subgraph settings", async () => {
      const gw = await startGateway(
        { subgraphs: { shipping: { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } } } },
        { file: tlsSupergraph },
      );
      assert.deepEqual((await gql(gw.url, query)).body, {
        data: { topProducts: [{ name: 'Table', shippingCost: shippingOf('1')!.shippingCost }] },
      });
    });

    it('is refused without one: SUBGRAPH_UNAVAILABLE for its fields, the TLS cause in the log', async () => {
      const gw = await startGateway(
        { subgraphs: { shipping: { tls: { ca: pki.ca }, retry: { maxAttempts: 1 } } } },
        { file: tlsSupergraph },
      );
      assert.deepEqual((await gql(gw.url, query)).body, {
        data: null,
        errors: [
          {
            message: 'Subgraph "shipping" is unavailable',
            path: ['topProducts', 0, 'shippingCost'],
            extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'shipping' },
          },
        ],
      });
      const line = await gw.proc.waitForLog('subgraph request failed');
      assert.equal(line['subgraph'], 'shipping');
      assert.match(String(line['cause']), /certificate|alert|ECONNRESET|UND_ERR_SOCKET/i);
    });
  });

  describe('the registry: publish and check with --config, a gateway following the variant', () => {
    let registry: Awaited<ReturnType<typeof startRegistry>>;
    before(async () => {
      registry = await startRegistry(dir);
    });
    after(async () => {
      await registry?.proc.kill();
    });
    const cli = (args: string[], token: string = tokens.admin) =>
      runCliToEnd(args, { env: { TESSERA_REGISTRY_URL: registry.url, TESSERA_REGISTRY_TOKEN: token } });

    it('publishes the plain service as a subgraph; the gateway serves it from the registry', async () => {
      const config = writeConfig('registry.yaml', shippingEntry(proxy.url, { subgraph_url: plainUrl }));
      const published = await cli(['subgraph', 'publish', '--graph', 'shop', '--config', config]);
      assert.equal(published.code, 0, published.stderr);
      assert.equal(
        published.stdout,
        'products: published (shop@production version 1)\nshipping: published (shop@production version 2)\n',
      );
      const again = await cli(['subgraph', 'publish', '--graph', 'shop', '--config', config]);
      assert.equal(
        again.stdout,
        'products: unchanged (shop@production version 2)\nshipping: unchanged (shop@production version 2)\n',
      );
      const gw = await startGateway(
        {},
        {
          registry: {
            url: registry.url,
            graph: 'shop',
            token: tokens.reader,
            pollIntervalMs: 300,
            cacheFile: join(dir, 'last-good.graphql'),
          },
        },
      );
      await resetReceived();
      assert.deepEqual(
        (await gql(gw.url, { query: '{ shipments(first: 1) { id product { name shippingCost } } }' })).body,
        {
          data: { shipments: [{ id: 's1', product: { name: 'Table', shippingCost: shippingOf('1')!.shippingCost } }] },
        },
      );
      assert.equal((await received()).length, 1);
    });

    it('check: a conflicting change of the service fails with the conflict named', async () => {
      const sdlFile = join(dir, 'check-conflict.graphql');
      writeFileSync(sdlFile, plainServiceSdl.replace('  upc: String!\n', '  upc: String!\n  price: String\n'));
      const config = writeConfig('check.yaml', shippingEntry(proxy.url, { file: sdlFile }));
      const res = await cli(['subgraph', 'check', '--graph', 'shop', '--config', config], tokens.checker);
      assert.equal(res.code, 1, res.stderr);
      assert.ok(
        res.stdout.includes(
          'Type of field "Product.price" is incompatible across subgraphs: it has type "Int!" in subgraph "products" but type "String" in subgraph "shipping"',
        ),
        res.stdout,
      );
      const entry = shippingEntry(proxy.url, { subgraph_url: plainUrl });
      const bad = writeConfig('check-bad.yaml', {
        ...entry,
        merge: { Product: { ...entry.merge.Product, key: 'sku' } },
      });
      const refused = await cli(['subgraph', 'check', '--graph', 'shop', '--config', bad], tokens.checker);
      assert.deepEqual(refused, {
        code: 1,
        stdout: '',
        stderr:
          'error[STITCHED_SOURCE_INVALID]: [shipping] merge.Product.key: "sku" is not one of the key fields (upc)\n',
      });
      const same = writeConfig('check-same.yaml', shippingEntry(proxy.url, { subgraph_url: plainUrl }));
      const pass = await cli(['subgraph', 'check', '--graph', 'shop', '--config', same], tokens.checker);
      assert.equal(pass.code, 0, pass.stdout + pass.stderr);
    });
  });
  describe('hot reload', () => {
    it("a recomposed service schema reaches a new adapter: the reload makes the service's client again", async () => {
      // The first composition knows the service without deliveryDays (an older schema file).
      const sdlFile = join(dir, 'reload-shipping.graphql');
      writeFileSync(sdlFile, plainServiceSdl.replace('  "Days to deliver."\n  deliveryDays: Int!\n', ''));
      const config = writeConfig('reload.yaml', shippingEntry(proxy.url, { file: sdlFile }));
      const file = join(dir, 'reload-supergraph.graphql');
      assert.equal((await runCliToEnd(['compose', '--config', config, '--output', file])).code, 0);
      const gw = await startGateway({}, { file, watchDebounceMs: 50 });
      const query = { query: '{ topProducts(first: 1) { upc shippingCost deliveryDays } }' };
      assert.equal((await gql(gw.url, query)).body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');

      writeFileSync(sdlFile, plainServiceSdl);
      assert.equal((await runCliToEnd(['compose', '--config', config, '--output', file])).code, 0);
      await gw.proc.waitForLog('supergraph reloaded', 10_000);
      assert.deepEqual((await gql(gw.url, query)).body, {
        data: { topProducts: [{ upc: '1', shippingCost: shippingOf('1')!.shippingCost, deliveryDays: 2 }] },
      });
      // The old generation's client closes once it has drained (asynchronously after the reload).
      await gw.proc.waitForLog((l) => l['msg'] === 'subgraph client closed' && l['subgraph'] === 'shipping', 5000);
      const clients = gw.proc
        .logs()
        .filter((l) => l['subgraph'] === 'shipping' && /subgraph client/.test(String(l['msg'])));
      assert.deepEqual(
        clients.map((l) => l['msg']),
        ['subgraph client created', 'subgraph client created', 'subgraph client closed'],
      );
    });
  });
});
