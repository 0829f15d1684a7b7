import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch } from 'undici';
import { startFaultSubgraph, type FaultHandler, type FaultSubgraph } from '../../harness/fault-subgraph.ts';
import { eventually, gql, sleep } from '../../harness/http.ts';
import { metric } from '../../harness/metrics.ts';
import { memory, openFds } from '../../harness/proc-status.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const MiB = 2 ** 20;

/** Queries that touch only products and inventory: what the faults must leave alone. */
const healthyQueries = [
  '{ topProducts(first: 3) { upc name inStock } }',
  '{ product(upc: "2") { name price inStock } }',
];

/**
 * Runs `fn` while 8 connections send healthy queries back to back, and checks every one of
 * those answers byte for byte against the same query's answer before any fault.
 */
async function underHealthyLoad<T>(
  url: string,
  expected: readonly string[],
  fn: () => Promise<T>,
): Promise<{ result: T; served: number; wrong: string[] }> {
  const agent = new Agent({ connections: 8 });
  let stop = false;
  let served = 0;
  const wrong: string[] = [];
  const loops = Array.from({ length: 8 }, async (_, i) => {
    while (!stop) {
      const q = i % healthyQueries.length;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: healthyQueries[q] }),
        dispatcher: agent,
      });
      const text = await res.text();
      served++;
      if (res.status !== 200 || text !== expected[q]) wrong.push(`${res.status} ${text.slice(0, 300)}`);
    }
  });
  try {
    const result = await fn();
    // However fast the faulted requests were, every healthy connection must have been answered
    // at least once while the fault was active, or the test would prove nothing about them.
    const deadline = Date.now() + 20_000;
    while (served < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return { result, served, wrong };
  } finally {
    stop = true;
    await Promise.all(loops);
    await agent.close();
  }
}

/** Forwards to the real subgraph and edits what it answered to entity fetches. */
const editEntities =
  (edit: (json: any) => void): FaultHandler =>
  async (req, forward) => {
    const { json } = await forward();
    if (req.query.includes('_entities')) edit(json);
    return { json };
  };

describe('what a subgraph answers', () => {
  let stack: Stack;
  let reviews: FaultSubgraph;
  let accounts: FaultSubgraph;
  let gateway: Awaited<ReturnType<Stack['startGateway']>>;
  let healthyAnswers: string[];

  before(async () => {
    stack = await startStack({ noGateway: true });
    reviews = await startFaultSubgraph(stack.subgraphs.reviews.url);
    accounts = await startFaultSubgraph(stack.subgraphs.accounts.url);
    gateway = await stack.startGateway({
      subgraphs: {
        all: { pool: { keepAliveTimeoutMs: 500 } },
        // A breaker this eager would open on the oversized answers if they counted against it.
        reviews: { url: reviews.url, breaker: { volumeThreshold: 2, errorThresholdPercentage: 50 } },
        accounts: { url: accounts.url },
      },
    });
    healthyAnswers = await Promise.all(healthyQueries.map(async (query) => (await gql(gateway.url, { query })).text));
  });
  after(async () => {
    await reviews?.close();
    await accounts?.close();
    await stack?.[Symbol.asyncDispose]();
  });

  const query = '{ topProducts(first: 2) { upc name reviews(first: 1) { body author { username } } } }';
  const whole = {
    topProducts: [
      { upc: '1', name: 'Table', reviews: [{ body: 'Would buy again.', author: { username: '@ada1' } }] },
      { upc: '2', name: 'Couch', reviews: [{ body: 'Love it!', author: { username: '@linus4' } }] },
    ],
  };
  /** The healthy answer with product i's reviews null. */
  const withoutReviews = (...indexes: number[]) => ({
    topProducts: whole.topProducts.map((p, i) => (indexes.includes(i) ? { ...p, reviews: null } : p)),
  });

  it('the example subgraphs answer the test query whole', async () => {
    reviews.setFault(null);
    assert.deepEqual((await gql(gateway.url, { query })).body, { data: whole });
  });

  it("a 50 MB answer is refused while it streams: SUBGRAPH_RESPONSE_TOO_LARGE on that subgraph's fields only, no retry, memory and fds bounded", async () => {
    const pid = gateway.proc.child.pid!;
    // Baseline: the same healthy load without the fault, so the peak it reaches is not counted.
    const warm = await underHealthyLoad(gateway.url, healthyAnswers, () => sleep(3000));
    assert.deepEqual(warm.wrong, []);
    await sleep(1000); // idle subgraph sockets past keepAliveTimeoutMs close
    const peakBefore = memory(pid).hwm;
    const fdsBefore = openFds(pid);

    const tooLarge = {
      data: withoutReviews(0, 1),
      errors: [
        {
          message: 'Subgraph "reviews" answered with more data than the gateway accepts from it',
          path: ['topProducts', 0, 'reviews'],
          extensions: { code: 'SUBGRAPH_RESPONSE_TOO_LARGE', serviceName: 'reviews' },
        },
      ],
    };
    const fiftyMiB =
      (contentLength: boolean): FaultHandler =>
      (req, forward) =>
        req.query.includes('_entities')
          ? {
              stream: {
                bytes: 50 * MiB,
                prefix: '{"data":{"_entities":[{"reviews":[',
                item: `{"body":"${'x'.repeat(200)}","author":{"username":"@x"}}`,
                suffix: ']},{"reviews":[]}]}}',
                contentLength,
              },
            }
          : forward().then(({ json }) => ({ json }));

    const { served, wrong } = await underHealthyLoad(gateway.url, healthyAnswers, async () => {
      // Chunked: nothing announces the size, so the gateway counts what arrives.
      reviews.resetStats();
      reviews.setFault(fiftyMiB(false));
      for (let i = 0; i < 4; i++) assert.deepEqual((await gql(gateway.url, { query })).body, tooLarge);
      assert.equal(reviews.requests, 4, 'one request per query: an oversized answer is not retried');
      await eventually(async () => reviews.streamsCutShort === 4, 2000, 'the gateway to hang up on every one');
      // What left the fault subgraph: the 16 MiB the gateway read, plus what socket buffers hold.
      assert.ok(
        reviews.streamedBytes < 4 * 24 * MiB,
        `${(reviews.streamedBytes / MiB).toFixed(1)} MiB streamed for 4 × 50 MiB`,
      );

      // Content-Length announces 50 MB: refused before the body is read.
      reviews.resetStats();
      reviews.setFault(fiftyMiB(true));
      for (let i = 0; i < 4; i++) assert.deepEqual((await gql(gateway.url, { query })).body, tooLarge);
      assert.equal(reviews.requests, 4);
      await eventually(async () => reviews.streamsCutShort === 4, 2000, 'the gateway to hang up on every one');
      assert.ok(
        reviews.streamedBytes < 4 * 8 * MiB,
        `${(reviews.streamedBytes / MiB).toFixed(1)} MiB streamed for 4 announced 50 MiB bodies`,
      );
    });
    reviews.setFault(null);
    assert.deepEqual(wrong, [], 'every healthy answer was exact');
    assert.ok(served >= 8, `healthy answers served during the fault: ${served}`);

    const peakAfter = memory(pid).hwm;
    assert.ok(
      peakAfter < peakBefore + 100 * MiB,
      `peak RSS ${Math.round(peakAfter / MiB)} MiB, ${Math.round(peakBefore / MiB)} MiB before the 50 MB answers`,
    );
    await eventually(
      async () => openFds(pid) <= fdsBefore,
      5000,
      `fds to return to ${fdsBefore} (now ${openFds(pid)})`,
    );
    assert.equal(
      await metric(gateway.metricsUrl, 'tessera_subgraph_request_duration_seconds_count', {
        subgraph: 'reviews',
        outcome: 'SUBGRAPH_RESPONSE_TOO_LARGE',
      }),
      8,
    );
    assert.equal(
      await metric(gateway.metricsUrl, 'tessera_subgraph_breaker_state', { subgraph: 'reviews' }),
      0,
      'oversized answers do not open the circuit',
    );
    assert.deepEqual((await gql(gateway.url, { query })).body, { data: whole }, 'the next normal answer is served');
  });

  const invalid = (message: string, path: Array<string | number>, serviceName = 'reviews') => ({
    message: `Subgraph "${serviceName}" sent an invalid value: ${message}`,
    path,
    extensions: { code: 'SUBGRAPH_INVALID_RESPONSE', serviceName },
  });
  const shapes: Array<{ name: string; fault: FaultHandler; expected: unknown }> = [
    {
      name: 'a string where an object is expected',
      fault: editEntities((j) => (j.data._entities[0].reviews[0].author = 'oops')),
      // Review.author and the list items are non-null: the nearest nullable position is Product.reviews.
      expected: {
        data: withoutReviews(0),
        errors: [invalid('expected an object, got a string', ['topProducts', 0, 'reviews', 0, 'author'])],
      },
    },
    {
      name: 'a list where an entity is expected',
      fault: editEntities((j) => (j.data._entities[1] = [j.data._entities[1]])),
      expected: {
        data: withoutReviews(1),
        errors: [invalid('expected an object, got a list', ['topProducts', 1, 'reviews'])],
      },
    },
    {
      name: '_entities short by one',
      fault: editEntities((j) => j.data._entities.pop()),
      // Which item answers which representation is unknown: all of the fetch's entities.
      expected: {
        data: withoutReviews(0, 1),
        errors: [
          {
            message: 'Subgraph "reviews" sent an invalid response',
            path: ['topProducts', 0, 'reviews'],
            extensions: { code: 'SUBGRAPH_INVALID_RESPONSE', serviceName: 'reviews' },
          },
        ],
      },
    },
    {
      name: 'non-object _entities items',
      fault: editEntities((j) => (j.data._entities[0] = 42)),
      expected: {
        data: withoutReviews(0),
        errors: [invalid('expected an object, got a number', ['topProducts', 0, 'reviews'])],
      },
    },
    {
      name: 'null for a non-null field',
      fault: editEntities((j) => (j.data._entities[1].reviews[0].body = null)),
      expected: {
        data: withoutReviews(1),
        errors: [invalid('got null for a non-null field', ['topProducts', 1, 'reviews', 0, 'body'])],
      },
    },
    {
      name: 'a string where a list is expected',
      fault: editEntities((j) => (j.data._entities[0].reviews = 'oops')),
      expected: {
        data: withoutReviews(0),
        errors: [invalid('expected a list, got a string', ['topProducts', 0, 'reviews'])],
      },
    },
  ];

  for (const { name, fault, expected } of shapes) {
    it(`${name}: null at the nearest nullable position, SUBGRAPH_INVALID_RESPONSE with serviceName and path, the rest served`, async () => {
      reviews.setFault(fault);
      // 3 × 10 faulted queries interleaved with the healthy load.
      const { result, served, wrong } = await underHealthyLoad(gateway.url, healthyAnswers, async () => {
        const answers = await Promise.all(
          [1, 2, 3].map(async () => {
            const out = [];
            for (let i = 0; i < 10; i++) out.push(await gql(gateway.url, { query }));
            return out;
          }),
        );
        return answers.flat();
      });
      reviews.setFault(null);
      assert.equal(result.length, 30);
      for (const res of result) {
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, expected);
      }
      assert.deepEqual(wrong, []);
      assert.ok(served >= 8, `healthy answers served during the fault: ${served}`);
    });
  }

  it('a root field of the wrong shape nulls only that field; a `data` that is not an object loses only that fetch', async () => {
    const rootQuery = '{ user(id: "1") { id name } topProducts(first: 1) { upc } }';
    accounts.setFault(async (_req, forward) => {
      const { json } = await forward();
      json.data.user = 'oops';
      return { json };
    });
    assert.deepEqual((await gql(gateway.url, { query: rootQuery })).body, {
      data: { user: null, topProducts: [{ upc: '1' }] },
      errors: [invalid('expected an object, got a string', ['user'], 'accounts')],
    });
    accounts.setFault(() => ({ json: { data: 'oops' } }));
    assert.deepEqual((await gql(gateway.url, { query: rootQuery })).body, {
      data: { user: null, topProducts: [{ upc: '1' }] },
      errors: [
        {
          message: 'Subgraph "accounts" sent an invalid response',
          path: ['user'],
          extensions: { code: 'SUBGRAPH_INVALID_RESPONSE', serviceName: 'accounts' },
        },
      ],
    });
    accounts.setFault(null);
    assert.ok(
      (await metric(gateway.metricsUrl, 'tessera_subgraph_invalid_responses_total', { subgraph: 'accounts' })) >= 2,
    );
    const logged = await eventually(
      async () =>
        gateway.proc.logs().find((l) => l['msg'] === 'subgraph answer invalid' && l['subgraph'] === 'accounts'),
      2000,
      'the log line',
    );
    assert.deepEqual((logged['first'] as unknown[])[0], {
      path: ['user'],
      message: 'expected an object, got a string',
      expected: 'Query.user',
    });
  });

  const leaky: FaultHandler = async (req, forward) => {
    const { json } = await forward();
    if (!req.query.includes('_entities')) return { json };
    return {
      json: {
        data: { _entities: json.data._entities.map(() => ({ reviews: null })) },
        errors: [
          {
            message: 'reviews store failed',
            path: ['_entities', 0, 'reviews'],
            locations: [{ line: 1, column: 80 }],
            extensions: {
              code: 'REVIEWS_STORE_DOWN',
              stacktrace: ['Error: connect ECONNREFUSED', '    at Pool.connect (db.ts:10)'],
              exception: { host: 'db-primary.internal:5432', errno: -111 },
              host: 'db-primary.internal:5432',
            },
          },
          {
            message: 'connect ECONNREFUSED 10.0.0.7:5432',
            path: ['_entities', 1, 'reviews'],
            extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['Error: connect ECONNREFUSED 10.0.0.7:5432'] },
          },
        ],
      },
    };
  };

  it('subgraph errors reach the client as message, path, code and serviceName; stack traces and hosts go to the log with the request id', async () => {
    reviews.setFault(leaky);
    const { result: res, wrong } = await underHealthyLoad(gateway.url, healthyAnswers, () =>
      gql(gateway.url, { query }, { 'x-request-id': 'leaky-1' }),
    );
    reviews.setFault(null);
    assert.deepEqual(wrong, []);
    assert.deepEqual(res.body, {
      data: withoutReviews(0, 1),
      errors: [
        {
          message: 'reviews store failed',
          path: ['topProducts', 0, 'reviews'],
          extensions: { code: 'REVIEWS_STORE_DOWN', serviceName: 'reviews' },
        },
        // A subgraph's INTERNAL_SERVER_ERROR carries an exception's message: generic, but with serviceName and path.
        {
          message: 'Subgraph "reviews" returned an error',
          path: ['topProducts', 1, 'reviews'],
          extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'reviews' },
        },
      ],
    });
    assert.doesNotMatch(res.text, /db-primary|10\.0\.0\.7|stacktrace|exception|ECONNREFUSED/);
    const line = await gateway.proc.waitForLog('subgraph error details (redacted for the client)', 2000);
    assert.equal(line['requestId'], 'leaky-1');
    assert.equal(line['subgraph'], 'reviews');
    assert.equal(line['redacted'], 2);
    assert.match(JSON.stringify(line['errors']), /db-primary\.internal:5432.*10\.0\.0\.7:5432/);
  });

  it('`errors.include` and `errors.exposeMessages: false` change what the client gets', async () => {
    const other = await stack.startGateway({
      subgraphs: { reviews: { url: reviews.url, errors: { include: ['exception'], exposeMessages: false } } },
    });
    reviews.setFault(leaky);
    const res = await gql(other.url, { query });
    reviews.setFault(null);
    assert.deepEqual(res.body, {
      data: withoutReviews(0, 1),
      errors: [
        {
          message: 'Subgraph "reviews" returned an error',
          path: ['topProducts', 0, 'reviews'],
          extensions: {
            code: 'REVIEWS_STORE_DOWN',
            exception: { host: 'db-primary.internal:5432', errno: -111 },
            serviceName: 'reviews',
          },
        },
        {
          message: 'Subgraph "reviews" returned an error',
          path: ['topProducts', 1, 'reviews'],
          extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'reviews' },
        },
      ],
    });
    await other.proc.kill();
  });
});
