import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queries } from '../../bench/queries.ts';
import { eventually, gql } from '../../harness/http.ts';
import { withLogs } from '../../harness/logs.ts';
import { OtlpReceiver, printTree, type ReceivedSpan } from '../../harness/otlp.ts';
import { repoRoot } from '../../harness/process.ts';
import { allSubgraphs, startStack, type Stack } from '../../harness/stack.ts';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/** A fresh W3C trace id and parent span id, as a client that traces would send them. */
function clientTrace(): { traceId: string; parentId: string; traceparent: string } {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const traceId = hex(32);
  const parentId = hex(16);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

const one = (spans: ReceivedSpan[], name: string): ReceivedSpan => {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one span named ${name}, got ${found.length}`);
  return found[0]!;
};

/** The tree in docs/observability.md (the fenced block after the marker comment). */
function documentedTree(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'observability.md'), 'utf8');
  const m = /<!-- span-tree: printed by test\/e2e\/tracing\.test\.ts -->\n```text\n([\s\S]*?)\n```/.exec(doc);
  assert.ok(m, 'docs/observability.md has the span tree block');
  return m[1]!;
}

describe('tracing: OpenTelemetry spans over OTLP/HTTP, one trace through the gateway and every subgraph', () => {
  const receiver = new OtlpReceiver();
  let stack: Stack;

  before(async () => {
    await receiver.start();
    stack = await startStack({
      config: {
        log: { requests: true },
        telemetry: {
          tracing: { enabled: true, otlp: { endpoint: receiver.url, protocol: 'http/json', batchDelayMs: 50 } },
        },
      },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
    await receiver.close();
  });

  it("continues the client's traceparent: the span tree of one federated query, and the same trace id at every subgraph", async () => {
    for (const name of allSubgraphs) await stack.subgraphs[name].resetStats();
    const client = clientTrace();
    const { result: res, lines } = await withLogs(stack.gateway, stack.url, () =>
      gql(
        stack.url,
        { query: queries.standard.query },
        { traceparent: client.traceparent, 'apollographql-client-name': 'web' },
      ),
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.errors, undefined);
    assert.equal(res.body.data.topProducts.length, 10);

    const spans = await receiver.trace(client.traceId, (s) => s.some((x) => x.kind === SERVER));
    // The tree the docs show is the tree the receiver collected. The docs show the default engine's;
    // the Apollo engine plans the same four fetches in another order, so their subgraph operation
    // names (`Standard__<subgraph>__<n>`) differ only in n there.
    if (process.env['TESSERA_ENGINE'] === 'apollo') {
      const positionless = (tree: string) => tree.replace(/(graphql\.operation\.name=Standard__\w+?__)\d+/g, '$1n');
      assert.equal(positionless(printTree(spans)), positionless(documentedTree()));
    } else assert.equal(printTree(spans), documentedTree());

    const server = one(spans, 'POST /graphql');
    assert.equal(server.kind, SERVER);
    assert.equal(server.parentSpanId, client.parentId, "the server span's parent is the client's span");
    assert.deepEqual(server.resource['service.name'], 'tessera-gateway');
    assert.deepEqual(
      { ...server.attributes, 'tessera.request_id': 'x', 'network.peer.address': 'x' },
      {
        'http.request.method': 'POST',
        'url.path': '/graphql',
        'url.scheme': 'http',
        'http.route': '/graphql',
        'network.peer.address': 'x',
        'tessera.request_id': 'x',
        'user_agent.original': 'node',
        'tessera.client.name': 'web',
        'graphql.operation.name': 'Standard',
        'graphql.operation.type': 'query',
        'graphql.document.hash': createHash('sha256').update(queries.standard.query).digest('hex'),
        'http.response.status_code': 200,
      },
    );
    // Parent links: engine steps and policy hooks under the server span, fetches under execute,
    // attempts under their fetch.
    const execute = one(spans, 'graphql.execute');
    for (const name of ['graphql.parse', 'graphql.validate', 'graphql.plan', 'graphql.execute', 'policy authorization'])
      assert.equal(one(spans, name).parentSpanId, server.spanId, `${name} is a child of the server span`);
    for (const name of allSubgraphs) {
      const fetch = one(spans, `subgraph.fetch ${name}`);
      const attempt = one(spans, `subgraph.attempt ${name}`);
      assert.equal(fetch.parentSpanId, execute.spanId);
      assert.equal(attempt.parentSpanId, fetch.spanId);
      assert.equal(attempt.kind, CLIENT);
      assert.equal(attempt.attributes['subgraph.name'], name);
      assert.equal(attempt.attributes['url.full'], stack.subgraphs[name].url);
      // Each subgraph got this trace, with the attempt's span as its parent.
      const received = (await stack.subgraphs[name].stats()).received;
      assert.deepEqual(
        received.map((r) => r.headers['traceparent']),
        [`00-${client.traceId}-${attempt.spanId}-01`],
        `${name} received the trace`,
      );
    }
    // The request log line joins the trace.
    const line = lines.find((l) => l['msg'] === 'request completed' && l['traceId'] === client.traceId);
    assert.ok(line, 'a request line with the trace id');
    assert.deepEqual(
      {
        traceId: line['traceId'],
        spanId: line['spanId'],
        operationName: line['operationName'],
        operationType: line['operationType'],
        client: line['client'],
      },
      {
        traceId: client.traceId,
        spanId: server.spanId,
        operationName: 'Standard',
        operationType: 'query',
        client: 'web',
      },
    );
  });

  it('a repeated document is neither parsed nor validated again, and its plan comes from the cache', async () => {
    const query = 'query Again { topProducts(first: 1) { upc } }';
    const first = clientTrace();
    const second = clientTrace();
    assert.deepEqual((await gql(stack.url, { query }, { traceparent: first.traceparent })).body, {
      data: { topProducts: [{ upc: '1' }] },
    });
    assert.deepEqual((await gql(stack.url, { query }, { traceparent: second.traceparent })).body, {
      data: { topProducts: [{ upc: '1' }] },
    });
    const a = await receiver.trace(first.traceId, (s) => s.some((x) => x.kind === SERVER));
    const b = await receiver.trace(second.traceId, (s) => s.some((x) => x.kind === SERVER));
    assert.equal(one(a, 'graphql.plan').attributes['tessera.plan.cache'], 'miss');
    assert.equal(one(b, 'graphql.plan').attributes['tessera.plan.cache'], 'hit');
    assert.deepEqual(
      b.filter((s) => s.name === 'graphql.parse' || s.name === 'graphql.validate'),
      [],
    );
    assert.equal(a.filter((s) => s.name === 'graphql.parse').length, 1);
  });

  it('spans never carry variables, tokens or the document text', async () => {
    const client = clientTrace();
    const query = 'query Secretive($text: String!) { search(text: $text) { __typename } }';
    const res = await gql(
      stack.url,
      { query, variables: { text: 'variable-value-7f3a' } },
      { traceparent: client.traceparent, authorization: 'Bearer token-value-9c2e', 'x-api-key': 'key-value-41d0' },
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.errors, undefined);
    const spans = await receiver.trace(client.traceId, (s) => s.some((x) => x.kind === SERVER));
    assert.ok(spans.some((s) => s.name === 'subgraph.attempt products'));
    const text = JSON.stringify(spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    for (const secret of ['variable-value-7f3a', 'token-value-9c2e', 'key-value-41d0', 'search(text'])
      assert.equal(text.includes(secret), false, `${secret} is not in any span`);
  });

  it("a retried fetch: two attempt spans under one fetch span, each attempt's own traceparent at the subgraph", async () => {
    const query = 'query Retried { topProducts(first: 2) { upc reviews(first: 1) { id } } }';
    const expected = (await gql(stack.url, { query })).body;
    assert.equal(expected.errors, undefined);
    await stack.subgraphs.reviews.resetStats();
    await stack.subgraphs.reviews.fault({ status: 503, times: 1 });
    const client = clientTrace();
    const res = await gql(stack.url, { query }, { traceparent: client.traceparent });
    assert.deepEqual(res.body, expected, 'the retry served the whole answer');

    const spans = await receiver.trace(client.traceId, (s) => s.some((x) => x.kind === SERVER));
    const fetch = one(spans, 'subgraph.fetch reviews');
    assert.equal(fetch.attributes['tessera.attempts'], 2);
    assert.equal(fetch.status.code, 0);
    const attempts = spans
      .filter((s) => s.name === 'subgraph.attempt reviews')
      .toSorted(
        (x, y) => Number(x.attributes['http.request.resend_count']) - Number(y.attributes['http.request.resend_count']),
      );
    assert.deepEqual(
      attempts.map((s) => ({
        parent: s.parentSpanId,
        resend: s.attributes['http.request.resend_count'],
        status: s.attributes['http.response.status_code'],
        error: s.attributes['error.type'] ?? null,
        code: s.status.code,
      })),
      [
        { parent: fetch.spanId, resend: 0, status: 503, error: 'SUBGRAPH_HTTP_ERROR', code: ERROR },
        { parent: fetch.spanId, resend: 1, status: 200, error: null, code: 0 },
      ],
    );
    const received = (await stack.subgraphs.reviews.stats()).received;
    assert.deepEqual(
      received.map((r) => r.headers['traceparent']),
      attempts.map((s) => `00-${client.traceId}-${s.spanId}-01`),
    );
  });

  it("a failing subgraph: its fetch and attempt spans carry the error; the request's span does not (the client got 200)", async () => {
    await stack.subgraphs.inventory.fault({ status: 500, times: 1 });
    const client = clientTrace();
    const res = await gql(
      stack.url,
      { query: 'query Failing { topProducts(first: 1) { upc inStock } }' },
      { traceparent: client.traceparent },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      data: { topProducts: [{ upc: '1', inStock: null }] },
      errors: [
        {
          message: 'Subgraph "inventory" answered HTTP 500',
          path: ['topProducts', 0, 'inStock'],
          extensions: { code: 'SUBGRAPH_HTTP_ERROR', status: 500, serviceName: 'inventory' },
        },
      ],
    });
    const spans = await receiver.trace(client.traceId, (s) => s.some((x) => x.kind === SERVER));
    const fetch = one(spans, 'subgraph.fetch inventory');
    const attempt = one(spans, 'subgraph.attempt inventory');
    for (const s of [fetch, attempt]) {
      assert.deepEqual(s.status, { code: ERROR, message: 'Subgraph "inventory" answered HTTP 500' });
      assert.equal(s.attributes['error.type'], 'SUBGRAPH_HTTP_ERROR');
      assert.equal(s.attributes['http.response.status_code'], 500);
    }
    assert.equal(one(spans, 'subgraph.fetch products').status.code, 0);
    assert.equal(one(spans, 'POST /graphql').status.code, 0);
  });

  it('probes are not logged at info; /graphql requests are', async () => {
    const { lines } = await withLogs(stack.gateway, stack.url, async () => {
      assert.equal((await fetch(`${stack.base}/health`)).status, 200);
      assert.equal((await fetch(`${stack.base}/ready`)).status, 200);
    });
    assert.deepEqual(
      lines.filter((l) => l['msg'] === 'request completed').map((l) => l['path']),
      ['/graphql'],
      'only the marker request',
    );
  });

  it('trustIncoming: false starts a new trace at the gateway, and subgraphs see that one', async () => {
    const gw = await stack.startGateway({
      log: { requests: true },
      telemetry: {
        tracing: {
          enabled: true,
          trustIncoming: false,
          otlp: { endpoint: receiver.url, protocol: 'http/json', batchDelayMs: 50 },
        },
      },
    });
    await stack.subgraphs.products.resetStats();
    const client = clientTrace();
    const { lines } = await withLogs(gw.proc, gw.url, async () => {
      const res = await gql(
        gw.url,
        { query: 'query Untrusted { topProducts(first: 1) { upc } }' },
        {
          traceparent: client.traceparent,
        },
      );
      assert.deepEqual(res.body, { data: { topProducts: [{ upc: '1' }] } });
    });
    const line = lines.find((l) => l['msg'] === 'request completed' && l['operationName'] === 'Untrusted');
    assert.ok(line);
    const traceId = String(line['traceId']);
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(traceId, client.traceId);
    const spans = await receiver.trace(traceId, (s) => s.some((x) => x.kind === SERVER));
    const server = one(spans, 'POST /graphql');
    assert.equal(server.parentSpanId, '', 'a root span');
    assert.equal(server.spanId, line['spanId']);
    const attempt = one(spans, 'subgraph.attempt products');
    const received = (await stack.subgraphs.products.stats()).received.map((r) => r.headers['traceparent']);
    assert.deepEqual(received, [`00-${traceId}-${attempt.spanId}-01`]);
    assert.equal(
      receiver.spans.some((s) => s.traceId === client.traceId),
      false,
    );
  });

  it('a request the sampler drops still carries a traceparent to the subgraphs, not sampled (flag 00), and exports nothing', async () => {
    const gw = await stack.startGateway({
      log: { requests: true },
      telemetry: {
        tracing: {
          enabled: true,
          samplerRatio: 0,
          otlp: { endpoint: receiver.url, protocol: 'http/json', batchDelayMs: 50 },
        },
      },
    });
    await stack.subgraphs.products.resetStats();
    const { lines } = await withLogs(gw.proc, gw.url, async () => {
      const res = await gql(gw.url, { query: 'query Unsampled { topProducts(first: 1) { upc } }' });
      assert.deepEqual(res.body, { data: { topProducts: [{ upc: '1' }] } });
    });
    const line = lines.find((l) => l['msg'] === 'request completed' && l['operationName'] === 'Unsampled');
    assert.ok(line);
    const received = (await stack.subgraphs.products.stats()).received.map((r) => r.headers['traceparent']);
    assert.equal(received.length, 1);
    // Under the server span (no child spans are made for a dropped trace), flag 00.
    assert.deepEqual(received, [`00-${String(line['traceId'])}-${String(line['spanId'])}-00`]);
    // The sampled requests of the other tests are exported within 50 ms; give this one ten times that.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      receiver.spans.some((s) => s.traceId === line['traceId']),
      false,
    );
  });

  it('http/protobuf: the exporter posts OTLP protobuf to the endpoint', async () => {
    const gw = await stack.startGateway({
      telemetry: {
        tracing: { enabled: true, otlp: { endpoint: receiver.url, protocol: 'http/protobuf', batchDelayMs: 50 } },
      },
    });
    const res = await gql(gw.url, { query: 'query Proto { topProducts(first: 1) { upc } }' });
    assert.deepEqual(res.body, { data: { topProducts: [{ upc: '1' }] } });
    await eventually(async () => (receiver.requests['application/x-protobuf'] ?? 0) > 0, 5_000, 'a protobuf export');
  });
});
