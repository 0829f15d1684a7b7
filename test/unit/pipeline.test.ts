import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { composeServices } from '@apollo/composition';
import { Kind, OperationTypeNode, parse, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { pino } from 'pino';
import { parseConfig } from '../../gateway/config/load.ts';
import type { Engine, EnginePhases, EngineRequest, EngineResponse } from '../../gateway/engine/engine.ts';
import { TesseraError, tesseraError } from '../../gateway/errors/tessera-error.ts';
import { Metrics } from '../../gateway/observability/metrics.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { slot, type GatewayPlugin, type ResponseView, type SubgraphFetch } from '../../gateway/pipeline/plugin.ts';
import { RequestContext } from '../../gateway/pipeline/request-context.ts';
import { PipelineRunner } from '../../gateway/pipeline/runner.ts';
import { SubgraphClients } from '../../gateway/subgraph-client/clients.ts';
import { compose, subgraphRequest, type ClientScope } from '../../gateway/subgraph-client/fetch.ts';
import { costConfigSchema } from '../../policies/cost/config.ts';
import { costPolicy } from '../../policies/cost/index.ts';
import type { PolicyDeps } from '../../policies/policy.ts';
import { rateLimitConfigSchema } from '../../policies/rate-limit/config.ts';
import { rateLimitPolicy } from '../../policies/rate-limit/index.ts';
import { allSubgraphs, exampleSdl } from '../../harness/stack.ts';

function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

/** A runner whose timing histogram records `plugin phase` per observation. */
function runnerOf(plugins: GatewayPlugin[]) {
  const timed: string[] = [];
  const timing = {
    labels: ({ policy, phase }: { policy: string; phase: string }) => ({
      observe: (s: number) => void timed.push(`${policy} ${phase}${s >= 0 ? '' : ' negative!'}`),
    }),
  };
  return { runner: new PipelineRunner(plugins, timing), timed };
}

const tick = () => new Promise((r) => setImmediate(r));

/** A subgraph fetch as the engine's adapter makes it. */
function requestOf(context: RequestContext | null) {
  return subgraphRequest({
    operationType: OperationTypeNode.QUERY,
    query: '{ ok }',
    operationName: undefined,
    variables: undefined,
    document: undefined,
    schema: undefined,
    requestId: context?.requestId,
    log: context?.log,
    incomingHeaders: context?.headers,
    context,
  });
}

function contextOf(log = recordingLog().log, headers: IncomingHttpHeaders = {}) {
  return new RequestContext({ requestId: 'r1', method: 'POST', headers, remoteAddress: '127.0.0.1', log });
}

// The example supergraph, composed once: the schema the scripted engine "plans" on.
const composed = composeServices(
  allSubgraphs.map((name) => ({ name, url: `http://${name}`, typeDefs: parse(exampleSdl(name)) })),
);
if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
const apiSchema = composed.schema.toAPISchema().toGraphQLJSSchema();
const supergraphSdl = composed.supergraphSdl;

/**
 * The engine as the pipeline sees it, scripted: it calls the phases in the order the Apollo engine
 * does and answers `data` (or a refusal's error, with its status). The real engine is covered end
 * to end (test/e2e); here the pipeline's own order is what is under test.
 */
function scriptedEngine(schema: GraphQLSchema, data: Record<string, unknown> = { topProducts: [{ name: 'Table' }] }) {
  const rewrites: unknown[] = [];
  const engine: Engine = {
    start: async () => {},
    stop: async () => {},
    async execute(request: EngineRequest, phases: EnginePhases): Promise<EngineResponse> {
      let operationType: OperationTypeNode | null = null;
      let result: ResponseView;
      let status = 200;
      try {
        await phases.request();
        const source = (request.body as { query: string }).query;
        const document = parse(source);
        const operation = document.definitions.find(
          (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
        )!;
        operationType = operation.operation;
        await phases.operation({
          schema,
          document,
          source,
          operation,
          operationName: null,
          variables: {},
          rewrite: (d) => void rewrites.push(d),
        });
        result = { data: structuredClone(data) };
        await phases.result(result);
      } catch (err) {
        const e = err as TesseraError;
        status = e instanceof TesseraError ? (e.status ?? 500) : 500;
        result = {
          errors: [
            { message: e.message, extensions: { code: e instanceof TesseraError ? e.code : 'INTERNAL_SERVER_ERROR' } },
          ],
        };
      }
      const string = JSON.stringify(result);
      return {
        status,
        headers: [['content-type', 'application/json; charset=utf-8']],
        body: { kind: 'complete', string },
        result,
        operationType,
        internalErrors: [],
      };
    },
  };
  return { engine, rewrites };
}

async function pipelineOf(
  plugins: GatewayPlugin[],
  opts: { log?: ReturnType<typeof recordingLog>['log']; data?: Record<string, unknown>; load?: boolean } = {},
) {
  const log = opts.log ?? recordingLog().log;
  const { runner, timed } = runnerOf(plugins);
  const { engine, rewrites } = scriptedEngine(apiSchema, opts.data);
  const pipeline = new Pipeline(runner, () => engine, { log, maxExpandedFields: 1_000 });
  if (opts.load !== false) await pipeline.schemaLoaded({ apiSchema, supergraphSdl });
  const run = (query: string, headers: IncomingHttpHeaders = {}) =>
    pipeline.execute(contextOf(log, headers), { method: 'POST', headers, search: '', body: { query } });
  return { pipeline, run, timed, rewrites, log };
}

describe('pipeline runner: one list, in series', () => {
  it("runs each phase's hooks one after another, in list order, each awaited before the next starts", async () => {
    const events: string[] = [];
    const plugin = (name: string, delay: number): GatewayPlugin => {
      const hook = (phase: string) => async () => {
        events.push(`${name} ${phase} start`);
        for (let i = 0; i < delay; i++) await tick();
        events.push(`${name} ${phase} end`);
      };
      return { name, onRequest: hook('request'), onOperation: hook('operation'), onResponse: hook('response') };
    };
    // The first plugin is the slowest: were the hooks run in parallel, b and c would start before a ends.
    const { run } = await pipelineOf([plugin('a', 3), plugin('b', 0), plugin('c', 1)]);
    await run('{ topProducts { name } }');
    const of = (phase: string) => ['a', 'b', 'c'].flatMap((n) => [`${n} ${phase} start`, `${n} ${phase} end`]);
    assert.deepEqual(events, [...of('request'), ...of('operation'), ...of('response')]);
  });

  it("the first throw ends the phase: the later plugins' hooks of that phase do not run, and the refusal is the answer", async () => {
    const calls: string[] = [];
    const { run } = await pipelineOf([
      { name: 'auth', onRequest: () => void calls.push('auth') },
      {
        name: 'keys',
        onRequest: () => {
          calls.push('keys');
          throw tesseraError('UNAUTHENTICATED', 'Unknown API key.');
        },
      },
      {
        name: 'later',
        onRequest: () => void calls.push('later'),
        onOperation: () => void calls.push('later operation'),
      },
      { name: 'metrics', onResponse: (res) => void calls.push(`metrics ${res.status} ${res.operationType}`) },
    ]);
    const res = await run('{ topProducts { name } }');
    assert.equal(res.status, 401);
    assert.deepEqual(JSON.parse((res.body as { string: string }).string), {
      errors: [{ message: 'Unknown API key.', extensions: { code: 'UNAUTHENTICATED' } }],
    });
    assert.deepEqual(calls, ['auth', 'keys', 'metrics 401 null']);
  });

  it('times every hook call under its plugin and phase, a throwing one included', async () => {
    const { run, timed } = await pipelineOf([
      { name: 'limits', onOperation: () => undefined },
      {
        name: 'cost',
        onRequest: () => undefined,
        onOperation: () => {
          throw tesseraError('COST_ESTIMATED_TOO_EXPENSIVE', 'too expensive');
        },
      },
      { name: 'rate-limit', onOperation: () => undefined, onRefused: () => undefined },
      { name: 'request-metrics', onResponse: () => undefined },
    ]);
    await run('{ topProducts { name } }');
    assert.deepEqual(timed, [
      'cost request',
      'limits operation',
      'cost operation',
      'rate-limit refused',
      'request-metrics response',
    ]);
  });

  it('makes one subgraph-client layer per wrapSubgraphFetch, in list order, the first plugin outermost', async () => {
    const trace: string[] = [];
    const wrapper = (name: string): GatewayPlugin => ({
      name,
      wrapSubgraphFetch: (next, subgraph) => async (request) => {
        trace.push(`${name} in ${subgraph.name}`);
        const answer = await next(request);
        trace.push(`${name} out`);
        return answer;
      },
    });
    const { runner } = runnerOf([wrapper('outer'), { name: 'no-wrap' }, wrapper('inner')]);
    const layers = runner.fetchLayers();
    assert.equal(layers.length, 2);
    const scope = { settings: { name: 'products' } } as unknown as ClientScope;
    const fetch = compose(
      layers,
      async () => {
        trace.push('transport');
        return { ok: true, status: 200, text: '{"data":{}}' };
      },
      scope,
    );
    await fetch(requestOf(null));
    assert.deepEqual(trace, ['outer in products', 'inner in products', 'transport', 'inner out', 'outer out']);
  });
});

describe('pipeline: request context, slots and the one header channel', () => {
  it('onResponse sees the final answer: after every done-callback patched it', async () => {
    const seen: unknown[] = [];
    const { run } = await pipelineOf([
      {
        name: 'filter',
        onOperation: () => (response) => {
          (response.data!['topProducts'] as Array<Record<string, unknown>>)[0]!['name'] = null;
          response.errors = [
            {
              message: 'Unauthorized field or type: Product.name',
              path: ['topProducts', '@', 'name'],
              extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
            },
          ];
        },
      },
      { name: 'cost', onOperation: () => (response) => void (response.extensions = { cost: { estimated: 5 } }) },
      {
        name: 'metrics',
        onResponse: (res) =>
          void seen.push({ status: res.status, type: res.operationType, result: structuredClone(res.result) }),
      },
    ]);
    const res = await run('{ topProducts { name } }');
    const final = {
      data: { topProducts: [{ name: null }] },
      errors: [
        {
          message: 'Unauthorized field or type: Product.name',
          path: ['topProducts', '@', 'name'],
          extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
        },
      ],
      extensions: { cost: { estimated: 5 } },
    };
    assert.deepEqual(seen, [{ status: 200, type: 'query', result: final }]);
    assert.deepEqual(JSON.parse((res.body as { string: string }).string), final, 'and it is what the client gets');
  });

  it("headers set by plugins and a refusal's own headers reach the response through one channel, after the engine's", async () => {
    let seenHeaders: ReadonlyArray<readonly [string, string]> | null = null;
    const { run } = await pipelineOf([
      { name: 'policy-header', onOperation: (op) => op.setResponseHeader('RateLimit-Policy', '"cost";q=10;w=60') },
      {
        name: 'limiter',
        onOperation: () => {
          throw tesseraError('RATE_LIMITED', 'Rate limit exceeded.', { headers: { 'retry-after': '7' } });
        },
      },
      {
        name: 'late',
        onResponse: (res) => {
          res.setResponseHeader('x-seen-status', String(res.status));
          seenHeaders = (res.context as RequestContext).responseHeaders;
        },
      },
    ]);
    const res = await run('{ topProducts { name } }');
    assert.equal(res.status, 429);
    assert.deepEqual(res.headers, [
      ['content-type', 'application/json; charset=utf-8'],
      ['ratelimit-policy', '"cost";q=10;w=60'],
      ['retry-after', '7'],
      ['x-seen-status', '429'],
    ]);
    assert.deepEqual(seenHeaders, [
      ['ratelimit-policy', '"cost";q=10;w=60'],
      ['retry-after', '7'],
      ['x-seen-status', '429'],
    ]);
  });

  it("a typed slot carries one plugin's data to a later one for the same request only", async () => {
    const budget = slot<{ units: number }>('test.budget');
    const read: Array<number | undefined> = [];
    const { run } = await pipelineOf([
      {
        name: 'writer',
        onOperation: (op) =>
          op.headers['x-units'] ? op.set(budget, { units: Number(op.headers['x-units']) }) : undefined,
      },
      {
        name: 'reader',
        onOperation: (op) => void read.push(op.get(budget)?.units),
        onResponse: (res) => void read.push(res.get(budget)?.units),
      },
    ]);
    await run('{ topProducts { name } }', { 'x-units': '7' });
    await run('{ topProducts { name } }');
    assert.deepEqual(read, [7, 7, undefined, undefined]);
  });

  it('cost → rate limit: the real policies pass the estimate through the estimatedCost slot', async () => {
    const deps: PolicyDeps = {
      log: recordingLog().log,
      redis: null,
      baseDir: '.',
      policyFunctions: {},
      metrics: new Metrics().forPolicies(),
    };
    const cost = await costPolicy.create(costConfigSchema.parse({ maxCost: 1_000 }), deps);
    const limiter = await rateLimitPolicy.create(
      rateLimitConfigSchema.parse({ identifyBy: ['ip'], costPerWindow: 50 }),
      deps,
    );
    try {
      const { run } = await pipelineOf([cost, limiter]);
      // The worked example of docs/policies.md: 3 × (1 name + 5 shippingEstimate + 2 × (1 body + 1 author)) = 30.
      const query = '{ topProducts(first: 3) { name shippingEstimate reviews(first: 2) { body author { name } } } }';
      const first = await run(query);
      assert.equal(first.status, 200);
      assert.deepEqual(
        first.headers.find(([n]) => n === 'ratelimit'),
        ['ratelimit', '"cost";r=20;t=36'],
        '30 of 50 spent: 20 left, full again in 30/50 of the 60 s window',
      );
      const second = await run(query);
      assert.equal(second.status, 429);
      const body = JSON.parse((second.body as { string: string }).string) as {
        errors: Array<{ message: string; extensions: { code: string } }>;
      };
      assert.equal(body.errors[0]!.extensions.code, 'RATE_LIMITED');
      assert.match(body.errors[0]!.message, /this operation costs 30 and the cost budget for this window is spent/);
    } finally {
      await cost.close?.();
      await limiter.close?.();
    }
  });
});

describe('pipeline: onSchema is awaited', () => {
  it("runs the plugins' onSchema in series, and an operation on that generation waits for them", async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { pipeline, run } = await pipelineOf(
      [
        {
          name: 'slow',
          onSchema: async () => {
            events.push('slow start');
            await gate;
            events.push('slow end');
          },
        },
        { name: 'next', onSchema: () => void events.push('next'), onOperation: () => void events.push('operation') },
      ],
      { load: false },
    );
    const loaded = pipeline.schemaLoaded({ apiSchema, supergraphSdl });
    const answered = run('{ topProducts { name } }').then(() => events.push('answered'));
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(events, ['slow start'], "neither the next plugin's onSchema nor the operation ran yet");
    release();
    await loaded;
    await answered;
    assert.deepEqual(events, ['slow start', 'slow end', 'next', 'operation', 'answered']);
  });

  it('a failing onSchema refuses the operations of that generation (fail closed) and fails start-up', async () => {
    const { log, lines } = recordingLog();
    const calls: string[] = [];
    const { pipeline, run } = await pipelineOf(
      [
        {
          name: 'rules',
          onSchema: async () => {
            throw new Error('directive table unreadable');
          },
        },
        { name: 'authorization', onOperation: () => void calls.push('operation') },
      ],
      { log, load: false },
    );
    await assert.rejects(
      pipeline.schemaLoaded({ apiSchema, supergraphSdl }),
      /plugin "rules" failed in onSchema: directive table unreadable/,
    );
    await assert.rejects(pipeline.ready(), /plugin "rules" failed in onSchema/);
    const res = await run('{ topProducts { name } }');
    assert.equal(res.status, 500);
    assert.deepEqual(calls, []);
    assert.deepEqual(
      lines.filter((l) => l['level'] === 50).map((l) => l['msg']),
      ['a plugin failed to load the new supergraph generation; operations on it are refused'],
    );
  });
});

describe('pipeline: hook errors are contained', () => {
  it('a throwing onResponse is logged; the later ones still run and the answer is unchanged', async () => {
    const { log, lines } = recordingLog();
    const calls: string[] = [];
    const { run } = await pipelineOf(
      [
        {
          name: 'broken',
          onResponse: () => {
            throw new Error('counter exploded');
          },
        },
        { name: 'metrics', onResponse: () => void calls.push('metrics') },
      ],
      { log },
    );
    const res = await run('{ topProducts { name } }');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse((res.body as { string: string }).string), {
      data: { topProducts: [{ name: 'Table' }] },
    });
    assert.deepEqual(calls, ['metrics']);
    const logged = lines.find((l) => l['msg'] === 'onResponse hook failed; the response is sent as it is');
    assert.equal(logged?.['plugin'], 'broken');
    assert.match(String(logged?.['err']), /counter exploded/);
  });

  it("a throw in wrapSubgraphFetch (sync, async, or while wrapping) becomes that subgraph's failure, and the subgraph is not called", async () => {
    const received: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      req.resume();
      received.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { ok: true } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const config = parseConfig({
      supergraph: { file: 'unused.graphql' },
      subgraphs: { all: { retry: { maxAttempts: 1 } } },
    });
    const cases: Array<[string, GatewayPlugin]> = [
      [
        'sync throw',
        {
          name: 'p',
          wrapSubgraphFetch: () => () => {
            throw new Error('sync');
          },
        },
      ],
      [
        'async rejection',
        {
          name: 'p',
          wrapSubgraphFetch: () => async () => {
            throw new Error('async');
          },
        },
      ],
      [
        'throw while wrapping',
        {
          name: 'p',
          wrapSubgraphFetch: (): SubgraphFetch => {
            throw new Error('at build');
          },
        },
      ],
    ];
    try {
      for (const [name, plugin] of cases) {
        const { runner } = runnerOf([plugin]);
        const clients = new SubgraphClients(config, {
          log: recordingLog().log,
          metrics: new Metrics(),
          wrap: runner.fetchLayers(),
        });
        const lease = clients.lease([{ name: 'a', url }]);
        const answer = await clients.live('a', url)().fetch(requestOf(contextOf()));
        assert.ok(!answer.ok, name);
        assert.deepEqual(
          [answer.failure.code, answer.failure.message],
          ['SUBGRAPH_FETCH_INTERNAL_ERROR', 'The gateway failed while calling subgraph "a"'],
          name,
        );
        assert.match(answer.failure.cause, /^plugin "p" wrapSubgraphFetch threw: Error: (sync|async|at build)\n/, name);
        await lease.release();
      }
      assert.equal(received.length, 0);

      // A wrap that only edits the headers reaches the subgraph with them.
      const { runner } = runnerOf([
        {
          name: 'claims',
          wrapSubgraphFetch: (next) => (request) => {
            request.headers['x-user-id'] = request.context?.identity.subject ?? 'anonymous';
            return next(request);
          },
        },
      ]);
      const clients = new SubgraphClients(config, {
        log: recordingLog().log,
        metrics: new Metrics(),
        wrap: runner.fetchLayers(),
      });
      const lease = clients.lease([{ name: 'a', url }]);
      const answer = await clients.live('a', url)().fetch(requestOf(contextOf()));
      assert.deepEqual(answer.ok && answer.result, { data: { ok: true } });
      assert.equal(received.length, 1);
      assert.equal(received[0]!['x-user-id'], 'anonymous');
      await lease.release();
      await clients.closeAll();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
