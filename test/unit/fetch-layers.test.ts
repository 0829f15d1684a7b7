import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../gateway/config/load.ts';
import { resolveSubgraphSettings, type SubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { apolloDataSource, operationTypeOf } from '../../gateway/engine/apollo/data-source.ts';
import type { Logger } from '../../gateway/observability/log.ts';
import { Metrics } from '../../gateway/observability/metrics.ts';
import type { GatewayPlugin } from '../../gateway/pipeline/plugin.ts';
import { RequestContext } from '../../gateway/pipeline/request-context.ts';
import { PipelineRunner } from '../../gateway/pipeline/runner.ts';
import { classifyFailure } from '../../gateway/subgraph-client/classify-failure.ts';
import { BOTTOM, clientLayers } from '../../gateway/subgraph-client/client.ts';
import { SubgraphClients } from '../../gateway/subgraph-client/clients.ts';
import {
  compose,
  subgraphRequest,
  type ClientScope,
  type FetchLayer,
  type SubgraphAnswer,
  type SubgraphFetch,
  type SubgraphRequest,
} from '../../gateway/subgraph-client/fetch.ts';
import { answerCheck } from '../../gateway/subgraph-client/layers/answer-check.ts';
import { breaker } from '../../gateway/subgraph-client/layers/breaker.ts';
import { deadline } from '../../gateway/subgraph-client/layers/deadline.ts';
import { dedupe } from '../../gateway/subgraph-client/layers/dedupe.ts';
import { headers } from '../../gateway/subgraph-client/layers/headers.ts';
import { rateCap } from '../../gateway/subgraph-client/layers/rate-cap.ts';
import { retry } from '../../gateway/subgraph-client/layers/retry.ts';
import { SupergraphShapes } from '../../gateway/subgraph-client/response-shape.ts';
import { transportFailure, statusFailure } from '../../gateway/subgraph-client/retry-policy.ts';
import { composeSupergraph } from '../../supergraph/compose.ts';

// Each layer is tested alone, over a fake `next`: a function that records what reached it and
// answers what the test says. The layer under test is the real one, built as a client builds it.

type Settings = Parameters<typeof resolveSubgraphSettings>[0]['subgraphs'][string];

function scopeFor(
  own: Settings = {},
): ClientScope & { metrics: Metrics; lines: Array<Record<string, unknown>>; close(): Promise<void> } {
  const config = parseConfig({ supergraph: { file: 'unused.graphql' }, subgraphs: { s: own } });
  const settings: SubgraphSettings = resolveSubgraphSettings(config, 's', 'http://127.0.0.1:1/graphql');
  const lines: Array<Record<string, unknown>> = [];
  const releases: Array<(force: boolean) => void | Promise<void>> = [];
  return {
    settings,
    log: pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    ),
    metrics: new Metrics(),
    lines,
    onClose: (release) => void releases.push(release),
    close: async () => void (await Promise.all(releases.map((r) => r(true)))),
  };
}

function request(overrides: Partial<Parameters<typeof subgraphRequest>[0]> = {}): SubgraphRequest {
  return subgraphRequest({
    operationType: 'query',
    query: '{ topProducts { upc } }',
    operationName: undefined,
    variables: undefined,
    document: undefined,
    schema: undefined,
    requestId: 'req-1',
    log: undefined,
    incomingHeaders: {},
    context: null,
    ...overrides,
  });
}

/** A fake `next`: records each request it gets and answers from `answers` in turn (the last one repeats). */
function fakeNext(
  ...answers: Array<SubgraphAnswer | ((r: SubgraphRequest) => Promise<SubgraphAnswer>)>
): SubgraphFetch & { calls: SubgraphRequest[] } {
  const calls: SubgraphRequest[] = [];
  const next = async (r: SubgraphRequest) => {
    const a = answers[Math.min(calls.length, answers.length - 1)]!;
    calls.push(r);
    return typeof a === 'function' ? a(r) : a;
  };
  return Object.assign(next, { calls });
}

/** A plugin's `wrapSubgraphFetch` as the client layer the pipeline makes of it (gateway/pipeline/runner.ts). */
function pluginLayer(plugin: GatewayPlugin): FetchLayer {
  return new PipelineRunner([plugin], { labels: () => ({ observe: () => {} }) }).fetchLayers()[0]!;
}

/** The client request a fetch serves, as the pipeline makes it. */
function clientRequest(requestId: string, log: Logger = pino({ level: 'silent' })): RequestContext {
  return new RequestContext({ requestId, method: 'POST', headers: {}, remoteAddress: '127.0.0.1', log });
}

const ok = (text = '{"data":{"topProducts":[]}}', status = 200): SubgraphAnswer => ({ ok: true, status, text });
const failed = (code: string): SubgraphAnswer => ({
  ok: false,
  failure: classifyFailure('s', Object.assign(new Error(code), { code })),
  retry: transportFailure(code),
});

async function metricValue(
  metrics: Metrics,
  name: keyof Metrics,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = metrics[name] as unknown as {
    get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }> }>;
  };
  const { values } = await m.get();
  return values
    .filter(
      (v) =>
        !v.metricName?.endsWith('_bucket') &&
        !v.metricName?.endsWith('_sum') &&
        Object.entries(labels).every(([k, val]) => v.labels[k] === val),
    )
    .reduce((n, v) => n + v.value, 0);
}

describe('compose', () => {
  it('runs layers in list order on the way down and in reverse on the way up, and builds each once per client', async () => {
    const trail: string[] = [];
    let built = 0;
    const named =
      (name: string): FetchLayer =>
      (next) => {
        built++;
        return async (r) => {
          trail.push(`${name} ↓`);
          const a = await next(r);
          trail.push(`${name} ↑`);
          return a;
        };
      };
    const scope = scopeFor();
    const fetch = compose([named('a'), named('b')], async () => (trail.push('bottom'), ok()), scope);
    await fetch(request());
    await fetch(request());
    assert.deepEqual(trail.slice(0, 5), ['a ↓', 'b ↓', 'bottom', 'b ↑', 'a ↑']);
    assert.equal(built, 2, 'layers are built when composed, not per fetch');
  });

  it('the client lists its layers in the order docs/subgraph-clients.md documents', () => {
    const doc = readFileSync(new URL('../../docs/subgraph-clients.md', import.meta.url), 'utf8');
    const section = doc.split('\n## Subgraph client layers\n')[1]?.split('\n#')[0] ?? '';
    const documented = [...section.matchAll(/^\d+\. `([a-z-]+)`/gm)].map((m) => m[1]);
    const wrap: FetchLayer = (next) => next;
    assert.deepEqual([...clientLayers({ wrap: [wrap] }).map((l) => l.name), BOTTOM], documented);
  });
});

describe('rate-cap', () => {
  it('refuses past the burst without calling next', async () => {
    const scope = scopeFor({ rateLimit: { requestsPerSecond: 0.001, burst: 2 } });
    const next = fakeNext(ok());
    const fetch = rateCap(next, scope);
    assert.deepEqual(await fetch(request()), ok());
    assert.deepEqual(await fetch(request()), ok());
    assert.deepEqual(await fetch(request()), {
      ok: false,
      failure: {
        code: 'SUBGRAPH_RATE_LIMITED',
        message: 'Subgraph "s" is over the gateway\'s request-rate limit for it',
        cause: 'rate limit',
      },
    });
    assert.equal(next.calls.length, 2);
  });

  it('is not there at all without a rateLimit', () => {
    const next = fakeNext(ok());
    assert.equal(rateCap(next, scopeFor()), next);
  });
});

describe("headers and the plugins' wraps", () => {
  it('builds the outgoing headers from the rules; the request id is left to the transport', async () => {
    const next = fakeNext(ok());
    const fetch = headers(
      next,
      scopeFor({ headers: { propagate: [{ named: 'x-tenant' }], set: { 'x-gateway': 'tessera' } } }),
    );
    await fetch(request({ incomingHeaders: { 'x-tenant': 'acme', cookie: 'secret' } }));
    assert.deepEqual(next.calls[0]!.headers, {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-tenant': 'acme',
      'x-gateway': 'tessera',
    });
  });

  it("lets a plugin's wrap edit the headers that are sent", async () => {
    const next = fakeNext(ok());
    const seen: Array<[unknown, string]> = [];
    const fetch = pluginLayer({
      name: 'claims',
      wrapSubgraphFetch: (below, subgraph) => (r) => {
        seen.push([r.context, subgraph.name]);
        r.headers['x-user'] = 'u1';
        return below(r);
      },
    })(next, scopeFor());
    const context = clientRequest('req-1');
    await fetch(request({ context }));
    assert.deepEqual(seen, [[context, 's']]);
    assert.deepEqual(next.calls[0]!.headers, { 'x-user': 'u1' });
  });

  it("turns a throwing wrap into this subgraph's failure, without calling next", async () => {
    const next = fakeNext(ok());
    const fetch = pluginLayer({
      name: 'claims',
      wrapSubgraphFetch: () => () => {
        throw new Error('boom');
      },
    })(next, scopeFor());
    const answer = await fetch(request());
    assert.equal(next.calls.length, 0);
    assert.ok(!answer.ok);
    assert.deepEqual(
      { code: answer.failure.code, message: answer.failure.message, retry: answer.retry },
      {
        code: 'SUBGRAPH_FETCH_INTERNAL_ERROR',
        message: 'The gateway failed while calling subgraph "s"',
        retry: undefined,
      },
    );
    assert.match(answer.failure.cause, /^plugin "claims" wrapSubgraphFetch threw: Error: boom\n\s+at /);
  });
});

describe('dedupe', () => {
  it('coalesces identical concurrent queries into one call, and forgets them once answered', async () => {
    const scope = scopeFor();
    let release!: () => void;
    const next = fakeNext(() => new Promise((r) => (release = () => r(ok()))));
    const fetch = dedupe(next, scope);
    const a = fetch(request());
    const b = fetch(request());
    assert.equal(next.calls.length, 1);
    release();
    const [ra, rb] = await Promise.all([a, b]);
    assert.deepEqual(ra, ok());
    assert.equal(ra, rb, 'the callers share the reply (the answer check above parses a copy each)');
    assert.equal(await metricValue(scope.metrics, 'dedupeHits', { subgraph: 's' }), 1);
    const c = fetch(request());
    release();
    await c;
    assert.equal(next.calls.length, 2, 'a fetch after the first was answered is sent again');
  });

  it('never shares mutations, nor queries with different headers or variables', async () => {
    const next = fakeNext(() => new Promise((r) => setImmediate(() => r(ok()))));
    const fetch = dedupe(next, scopeFor());
    const withHeaders = (user: string) => Object.assign(request(), { headers: { 'x-user': user } });
    await Promise.all([
      fetch(request({ operationType: 'mutation', query: 'mutation { a }' })),
      fetch(request({ operationType: 'mutation', query: 'mutation { a }' })),
      fetch(withHeaders('u1')),
      fetch(withHeaders('u2')),
      fetch(request({ variables: { first: 1 } })),
      fetch(request({ variables: { first: 2 } })),
    ]);
    assert.equal(next.calls.length, 6);
  });
});

describe('retry', () => {
  const fast = { retry: { baseDelayMs: 0, maxDelayMs: 0 } };

  it('retries a query on a retryable failure, then answers', async () => {
    const scope = scopeFor(fast);
    const next = fakeNext(failed('ECONNRESET'), failed('UND_ERR_SOCKET'), ok());
    const answer = await retry(next, scope)(request());
    assert.deepEqual(answer, ok());
    assert.equal(next.calls.length, 3);
    assert.equal(await metricValue(scope.metrics, 'subgraphRetries', { subgraph: 's' }), 2);
    const debug = scope.lines
      .filter((l) => l['msg'] === 'retrying subgraph request')
      .map((l) => [l['attempt'], l['reason'], l['requestId']]);
    assert.deepEqual(debug, [
      [1, 'ECONNRESET', 'req-1'],
      [2, 'UND_ERR_SOCKET', 'req-1'],
    ]);
  });

  it('stops at maxAttempts and says how many attempts were made', async () => {
    const next = fakeNext(failed('ECONNRESET'));
    const answer = await retry(next, scopeFor(fast))(request());
    assert.equal(next.calls.length, 3);
    assert.ok(!answer.ok);
    assert.equal(answer.failure.cause, 'ECONNRESET: ECONNRESET (after 3 attempts)');
  });

  it('never retries a mutation that may have been sent; retries one that provably was not', async () => {
    const sent = fakeNext(failed('ECONNRESET'));
    const answer = await retry(sent, scopeFor(fast))(request({ operationType: 'mutation' }));
    assert.equal(sent.calls.length, 1);
    assert.deepEqual(answer, failed('ECONNRESET'));
    const http503 = fakeNext({
      ok: false,
      failure: { code: 'SUBGRAPH_HTTP_ERROR', message: 'm', cause: 'c', status: 503 },
      retry: statusFailure(503, undefined),
    });
    await retry(http503, scopeFor(fast))(request({ operationType: 'mutation' }));
    assert.equal(http503.calls.length, 1);
    const refused = fakeNext(failed('ECONNREFUSED'), ok());
    assert.deepEqual(await retry(refused, scopeFor(fast))(request({ operationType: 'mutation' })), ok());
    assert.equal(refused.calls.length, 2);
  });

  it('does not retry what is not transient (a 400, an oversized answer)', async () => {
    const next = fakeNext(failed('UND_ERR_RES_EXCEEDED_MAX_SIZE'));
    await retry(next, scopeFor(fast))(request());
    assert.equal(next.calls.length, 1);
  });

  it('respects the budget: with no room, the first failure is final', async () => {
    const scope = scopeFor({ retry: { ...fast.retry, budgetRatio: 0, budgetMinPerSecond: 0 } });
    const next = fakeNext(failed('ECONNRESET'), ok());
    const answer = await retry(next, scope)(request());
    assert.equal(next.calls.length, 1);
    assert.deepEqual(answer, failed('ECONNRESET'));
    assert.equal(await metricValue(scope.metrics, 'subgraphRetryBudgetExhausted', { subgraph: 's' }), 1);
  });

  it('sets the overall deadline every attempt shares', async () => {
    const next = fakeNext(failed('ECONNRESET'), ok());
    const before = performance.now();
    await retry(next, scopeFor({ ...fast, timeoutMs: 60_000 }))(request());
    const deadlines = next.calls.map((r) => r.deadlineAt);
    assert.equal(deadlines[0], deadlines[1]);
    assert.ok(deadlines[0]! >= before + 60_000 && deadlines[0]! <= performance.now() + 60_000);
  });
});

describe('breaker', () => {
  const eager = { breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 } };

  it('opens after the threshold and then short-circuits without calling next', async () => {
    const scope = scopeFor(eager);
    const next = fakeNext(failed('ECONNRESET'));
    const fetch = breaker(next, scope);
    try {
      assert.deepEqual(await fetch(request()), failed('ECONNRESET'));
      assert.deepEqual(await fetch(request()), failed('ECONNRESET'));
      const open = await fetch(request());
      assert.deepEqual(open, {
        ok: false,
        failure: {
          code: 'SUBGRAPH_CIRCUIT_OPEN',
          message: 'Subgraph "s" is failing; its circuit breaker is open',
          cause: 'EOPENBREAKER',
        },
        retry: { transient: false, neverSent: true, reason: 'EOPENBREAKER' },
      });
      assert.equal(next.calls.length, 2);
      assert.equal(await metricValue(scope.metrics, 'breakerState', { subgraph: 's' }), 2);
    } finally {
      await scope.close();
    }
  });

  it('does not count oversized answers (the query asked for too much)', async () => {
    const scope = scopeFor(eager);
    const next = fakeNext(failed('UND_ERR_RES_EXCEEDED_MAX_SIZE'));
    const fetch = breaker(next, scope);
    try {
      for (let i = 0; i < 5; i++) assert.deepEqual(await fetch(request()), failed('UND_ERR_RES_EXCEEDED_MAX_SIZE'));
      assert.equal(next.calls.length, 5, 'the circuit stayed closed');
      assert.equal(await metricValue(scope.metrics, 'breakerState', { subgraph: 's' }), 0);
    } finally {
      await scope.close();
    }
  });
});

describe('deadline', () => {
  /** A next that waits for its signal and answers the way the transport classifies the abort. */
  const waitsForAbort = fakeNext(
    (r) =>
      new Promise((resolve) =>
        r.signal!.addEventListener('abort', () =>
          resolve({
            ok: false,
            failure: classifyFailure('s', r.signal!.reason),
            retry: transportFailure((r.signal!.reason as { code: string }).code),
          }),
        ),
      ),
  );

  it('aborts next with its signal at the fetch deadline when that comes first', async () => {
    const scope = scopeFor({ timeoutMs: 10_000, attemptTimeoutMs: 10_000 });
    const r = request();
    r.deadlineAt = performance.now() + 20;
    const answer = await deadline(waitsForAbort, scope)(r);
    assert.ok(!answer.ok);
    assert.deepEqual(
      [answer.failure.code, answer.retry?.reason, answer.retry?.transient],
      ['SUBGRAPH_TIMEOUT', 'DEADLINE_EXCEEDED', false],
    );
    assert.equal(await metricValue(scope.metrics, 'subgraphTimeouts', { subgraph: 's' }), 1);
    assert.equal(r.signal, undefined, 'the signal travels on a per-attempt copy');
  });

  it('aborts at attemptTimeoutMs when the deadline is further, and the abort is retryable', async () => {
    const answer = await deadline(waitsForAbort, scopeFor({ attemptTimeoutMs: 20 }))(request());
    assert.ok(!answer.ok);
    assert.deepEqual(
      [answer.failure.code, answer.retry?.reason, answer.retry?.transient],
      ['SUBGRAPH_TIMEOUT', 'ATTEMPT_TIMEOUT', true],
    );
  });

  it('clears its timer when next answers in time', async () => {
    const next = fakeNext(ok());
    await deadline(next, scopeFor({ attemptTimeoutMs: 10 }))(request());
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(next.calls[0]!.signal!.aborted, false);
  });
});

describe('answer-check', () => {
  const composed = composeSupergraph([
    {
      name: 's',
      url: 'http://s/graphql',
      sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
        type Item @key(fields: "id") { id: ID! name: String count: Int }
        type Query { item(id: ID!): Item items: [Item!]! }`,
    },
  ]);
  if (!composed.ok) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const shapes = new SupergraphShapes();
  const schemaKey = {};
  shapes.set(schemaKey, composed.supergraphSdl);
  const itemQuery = request({ query: '{ item(id: "1") { id name count } }', schema: schemaKey });

  it('nulls a value of the wrong shape, with an error at its path', async () => {
    const scope = scopeFor();
    const next = fakeNext(ok('{"data":{"item":{"id":"1","name":"a","count":"three"}}}'));
    const answer = await answerCheck(shapes)(next, scope)(itemQuery);
    assert.deepEqual(answer, {
      ok: true,
      status: 200,
      text: '{"data":{"item":{"id":"1","name":"a","count":"three"}}}',
      result: {
        data: { item: { id: '1', name: 'a', count: null } },
        errors: [
          {
            message: 'Subgraph "s" sent an invalid value: expected a Int, got a string',
            path: ['item', 'count'],
            extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
          },
        ],
      },
    });
    assert.equal(await metricValue(scope.metrics, 'subgraphInvalidResponses', { subgraph: 's' }), 1);
  });

  it('gives each caller of a shared reply its own objects', async () => {
    const shared = ok('{"data":{"item":{"id":"1","name":"a","count":3}}}');
    const fetch = answerCheck(shapes)(fakeNext(shared), scopeFor());
    const [a, b] = await Promise.all([fetch(itemQuery), fetch(itemQuery)]);
    assert.ok(a.ok && b.ok);
    assert.deepEqual(a.result, { data: { item: { id: '1', name: 'a', count: 3 } } });
    assert.notEqual(a.result!.data, b.result!.data);
  });

  it('refuses a non-GraphQL body and an error status; passes a GraphQL 4xx carrying only errors, redacted', async () => {
    const fetch = (answer: SubgraphAnswer) => answerCheck(shapes)(fakeNext(answer), scopeFor())(itemQuery);
    assert.deepEqual(await fetch(ok('<html>', 200)), {
      ok: false,
      failure: {
        code: 'SUBGRAPH_HTTP_ERROR',
        message: 'Subgraph "s" answered HTTP 200',
        cause: 'not a GraphQL response: <html>',
        status: 200,
      },
    });
    assert.deepEqual(await fetch(ok('{"data":{"item":null}}', 404)), {
      ok: false,
      failure: {
        code: 'SUBGRAPH_HTTP_ERROR',
        message: 'Subgraph "s" answered HTTP 404',
        cause: 'GraphQL body with an error status',
        status: 404,
      },
    });
    const denied = '{"errors":[{"message":"no","extensions":{"code":"FORBIDDEN","stacktrace":["at x"]}}]}';
    assert.deepEqual(await fetch(ok(denied, 403)), {
      ok: true,
      status: 403,
      text: denied,
      result: { errors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] },
    });
  });

  it("loses the whole fetch when `data` is not an object, keeping the subgraph's errors", async () => {
    const answer = await answerCheck(shapes)(fakeNext(ok('{"data":"oops","errors":[{"message":"x"}]}')), scopeFor())(
      itemQuery,
    );
    assert.deepEqual(answer, {
      ok: false,
      failure: {
        code: 'SUBGRAPH_INVALID_RESPONSE',
        message: 'Subgraph "s" sent an invalid response',
        cause: 'data is a string',
      },
      errors: [{ message: 'x', extensions: {} }],
    });
  });

  it('passes failures through untouched', async () => {
    assert.deepEqual(
      await answerCheck(shapes)(fakeNext(failed('ECONNRESET')), scopeFor())(itemQuery),
      failed('ECONNRESET'),
    );
  });
});

describe('the operation type comes from the engine', () => {
  type Options = Parameters<typeof operationTypeOf>[0];
  const fetchOf = (operation: string | undefined, path: Array<string | number> | undefined) =>
    ({
      kind: 'incoming operation',
      request: { query: 'query { x }' },
      incomingRequestContext: { operation: operation ? { operation } : undefined },
      context: {},
      pathInIncomingRequest: path,
    }) as unknown as Options;

  it("a query's fetches are queries; a mutation's root fetches are mutations and its entity fetches queries", () => {
    assert.equal(operationTypeOf(fetchOf('query', [])), 'query');
    assert.equal(operationTypeOf(fetchOf('query', ['topProducts', '@'])), 'query');
    assert.equal(operationTypeOf(fetchOf('mutation', [])), 'mutation');
    assert.equal(operationTypeOf(fetchOf('mutation', ['createReview'])), 'query');
    // Whatever the subgraph operation's text says: the type is not read from it.
    assert.equal(
      operationTypeOf({ ...fetchOf('mutation', []), request: { query: 'query { x }' } } as Options),
      'mutation',
    );
  });

  it('unknown is treated as a mutation; health checks are queries', () => {
    assert.equal(operationTypeOf(fetchOf(undefined, [])), 'mutation');
    assert.equal(
      operationTypeOf({
        kind: 'health check',
        request: { query: '{ __typename }' },
        context: {},
      } as unknown as Options),
      'query',
    );
  });
});

describe('the Apollo data source over a real subgraph', () => {
  async function recordingSubgraph(answer: string) {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
      received,
      close: () => new Promise((r) => server.close(r)),
    };
  }
  const config = parseConfig({ supergraph: { file: 'unused.graphql' } });
  const options = (operation: 'query' | 'mutation', query: string, path: string[] = [], log?: Logger) =>
    ({
      kind: 'incoming operation',
      request: { query, variables: {} },
      incomingRequestContext: { operation: { operation } },
      context: { tessera: clientRequest('req-9', log) },
      pathInIncomingRequest: path,
    }) as never;

  it('a throwing plugin wrap is a field-level error for that subgraph, and nothing is sent', async () => {
    const subgraph = await recordingSubgraph('{"data":{"topProducts":[]}}');
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const clients = new SubgraphClients(config, {
      log,
      metrics: new Metrics(),
      wrap: [
        pluginLayer({
          name: 'auth',
          wrapSubgraphFetch: () => () => {
            throw new TypeError("Cannot read properties of undefined (reading 'claims')");
          },
        }),
      ],
    });
    try {
      const lease = clients.lease([{ name: 'products', url: subgraph.url }]);
      // The request's logger is the gateway's (lines carry its request id).
      const response = await apolloDataSource(clients.live('products', subgraph.url)).process(
        options('query', '{topProducts{upc}}', [], log),
      );
      assert.deepEqual(response, {
        errors: [
          {
            message: 'The gateway failed while calling subgraph "products"',
            path: ['topProducts'],
            extensions: { code: 'SUBGRAPH_FETCH_INTERNAL_ERROR' },
          },
        ],
      });
      assert.equal(subgraph.received.length, 0);
      const logged = lines.find((l) => l['msg'] === 'subgraph request failed');
      assert.deepEqual(
        [logged?.['level'], logged?.['subgraph'], logged?.['code'], logged?.['requestId']],
        [40, 'products', 'SUBGRAPH_FETCH_INTERNAL_ERROR', 'req-9'],
      );
      assert.match(
        String(logged?.['cause']),
        /^plugin "auth" wrapSubgraphFetch threw: TypeError: Cannot read properties of undefined \(reading 'claims'\)\n\s+at /,
      );
      await lease.release();
    } finally {
      await clients.closeAll();
      await subgraph.close();
    }
  });

  it("plugin wraps see the operation type from the engine, the final headers (the request id is the transport's) and the checked answer", async () => {
    const subgraph = await recordingSubgraph('{"data":{"createReview":{"id":"r1"}}}');
    const seen: Array<{ operationType: string; headers: Record<string, string>; result: unknown }> = [];
    const tracing: FetchLayer = (next) => async (r) => {
      const sent = { ...r.headers };
      const answer = await next(r);
      seen.push({
        operationType: r.operationType,
        headers: sent,
        result: answer.ok ? answer.result : answer.failure.code,
      });
      return answer;
    };
    const claims = pluginLayer({
      name: 'auth',
      wrapSubgraphFetch: (next) => (r) => ((r.headers['x-claims'] = '{}'), next(r)),
    });
    const clients = new SubgraphClients(config, {
      log: pino({ level: 'silent' }),
      metrics: new Metrics(),
      wrap: [claims, tracing],
    });
    try {
      const lease = clients.lease([{ name: 'reviews', url: subgraph.url }]);
      const response = await apolloDataSource(clients.live('reviews', subgraph.url)).process(
        options('mutation', 'mutation{createReview{id}}'),
      );
      assert.deepEqual(response, { data: { createReview: { id: 'r1' } } });
      assert.deepEqual(seen, [
        {
          operationType: 'mutation',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-claims': '{}' },
          result: { data: { createReview: { id: 'r1' } } },
        },
      ]);
      assert.deepEqual(
        subgraph.received.map((r) => [r.headers['x-claims'], r.headers['x-request-id'], r.body]),
        [['{}', 'req-9', '{"query":"mutation{createReview{id}}","variables":{}}']],
      );
      await lease.release();
    } finally {
      await clients.closeAll();
      await subgraph.close();
    }
  });
});
