import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../gateway/config/load.ts';
import { apolloDataSource } from '../../gateway/engine/apollo/data-source.ts';
import { Metrics } from '../../gateway/observability/metrics.ts';
import { Generations } from '../../gateway/schema-source/generations.ts';
import { SubgraphClients } from '../../gateway/subgraph-client/clients.ts';
import { eventually, sleep } from '../../harness/http.ts';

function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

/** `activate`'s release callback, recording which generations were released, in order. */
function releases() {
  const released: string[] = [];
  return { released, of: (name: string) => () => void released.push(name) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('supergraph generations', () => {
  it('releases a superseded generation only after its last request ends', async () => {
    const { log, lines } = recordingLog();
    const g = new Generations({ drainTimeoutMs: 60_000, log });
    const r = releases();
    assert.equal(g.activate(r.of('g1')), 1);
    const first = g.enter();
    const second = g.enter();
    assert.equal(g.activate(r.of('g2')), 2);
    const onSecond = g.enter();
    await flush();
    assert.deepEqual(r.released, []);
    assert.deepEqual(g.inFlight(), { 1: 2, 2: 1 });

    first();
    first(); // ending twice counts once
    await flush();
    assert.deepEqual(r.released, []);
    second();
    await flush();
    assert.deepEqual(r.released, ['g1']);
    assert.deepEqual(g.inFlight(), { 2: 1 });
    assert.equal(g.live, 1);
    // The current generation is never released, whatever its count.
    onSecond();
    await flush();
    assert.deepEqual(r.released, ['g1']);
    assert.deepEqual(
      lines
        .filter((l) => l['msg'] === 'superseded supergraph generation closed')
        .map((l) => [l['generation'], l['inFlight']]),
      [[1, 0]],
    );
    g.stop();
  });

  it('releases a superseded generation with no requests at once', async () => {
    const g = new Generations({ drainTimeoutMs: 60_000, log: recordingLog().log });
    const r = releases();
    g.activate(r.of('g1'));
    g.activate(r.of('g2'));
    await flush();
    assert.deepEqual(r.released, ['g1']);
    assert.equal(g.live, 1);
    g.stop();
  });

  it('closes oldest first: a drained generation waits for an older one that still has requests', async () => {
    // A request counted on g1 may have been planned on g2 (Apollo reads its state across awaits),
    // so g2's clients must outlive g1's requests.
    const g = new Generations({ drainTimeoutMs: 60_000, log: recordingLog().log });
    const r = releases();
    g.activate(r.of('g1'));
    const onFirst = g.enter();
    g.activate(r.of('g2'));
    g.activate(r.of('g3'));
    await flush();
    assert.deepEqual(r.released, []);
    assert.equal(g.live, 3);
    onFirst();
    await flush();
    assert.deepEqual(r.released, ['g1', 'g2']);
    assert.equal(g.live, 1);
    g.stop();
  });

  it('closes a generation that does not drain in time, logging how many requests it still had', async () => {
    const { log, lines } = recordingLog();
    const metrics = new Metrics();
    const g = new Generations({ drainTimeoutMs: 100, log, metrics });
    const r = releases();
    g.activate(r.of('g1'));
    const stuck = g.enter();
    g.enter();
    g.activate(r.of('g2'));
    await sleep(20);
    assert.deepEqual(r.released, []);
    await eventually(async () => r.released.length === 1, 5000, 'the drain timeout');
    assert.deepEqual(r.released, ['g1']);
    const warning = lines.find(
      (l) =>
        l['msg'] ===
        'superseded supergraph generation did not drain in time; closing its subgraph clients with requests still running',
    );
    assert.deepEqual(
      {
        level: warning?.['level'],
        generation: warning?.['generation'],
        inFlight: warning?.['inFlight'],
        drainTimeoutMs: warning?.['drainTimeoutMs'],
      },
      { level: 40, generation: 1, inFlight: 2, drainTimeoutMs: 100 },
    );
    assert.equal((await metrics.supergraphDrainTimeouts.get()).values[0]?.value, 1);
    assert.equal((await metrics.supergraphGenerationsLive.get()).values[0]?.value, 1);
    // The straggler ending later changes nothing.
    stuck();
    await flush();
    assert.deepEqual(r.released, ['g1']);
    g.stop();
  });
});

describe('subgraph clients across generations', () => {
  const config = parseConfig({ supergraph: { file: 'unused.graphql' } });

  it('shares one client per subgraph and URL between generations, and closes it with the last one', async () => {
    const metrics = new Metrics();
    const clients = new SubgraphClients(config, { log: recordingLog().log, metrics });
    const gen1 = clients.lease([
      { name: 'a', url: 'http://127.0.0.1:1/graphql' },
      { name: 'b', url: 'http://127.0.0.1:2/graphql' },
    ]);
    // A schema-only reload: same URLs, no new client.
    const gen2 = clients.lease([
      { name: 'a', url: 'http://127.0.0.1:1/graphql' },
      { name: 'b', url: 'http://127.0.0.1:2/graphql' },
    ]);
    assert.deepEqual(clients.count(), { a: 1, b: 1 });
    // A reload that moves b: a second client for b while the older generations drain.
    const gen3 = clients.lease([
      { name: 'a', url: 'http://127.0.0.1:1/graphql' },
      { name: 'b', url: 'http://127.0.0.1:3/graphql' },
    ]);
    assert.deepEqual(clients.count(), { a: 1, b: 2 });
    await gen1.release();
    assert.deepEqual(clients.count(), { a: 1, b: 2 });
    await gen2.release();
    await gen2.release(); // idempotent
    assert.deepEqual(clients.count(), { a: 1, b: 1 });
    const gauge = Object.fromEntries(
      (await metrics.subgraphClients.get()).values.map((v) => [v.labels['subgraph'], v.value]),
    );
    assert.deepEqual(gauge, { a: 1, b: 1 });
    await gen3.release();
    assert.deepEqual(clients.count(), {});
  });

  it('keeps the data source Apollo holds working after its client was closed and made again', async () => {
    // Apollo keeps data sources by name and returns the old one when a subgraph comes back at the
    // same URL: that handle must reach the new client, not the closed one.
    let received = 0;
    const server = createServer((req, res) => {
      req.resume();
      received++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { ok: true } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const clients = new SubgraphClients(config, { log: recordingLog().log, metrics: new Metrics() });
    try {
      const handle = apolloDataSource(clients.live('a', url));
      // Apollo's request-kind enum is not exported by name from its CommonJS entry; this is its value.
      const healthCheck = { kind: 'health check', request: { query: '{ ok }' }, context: {} } as unknown as Parameters<
        typeof handle.process
      >[0];
      const fetchOnce = () => handle.process(healthCheck);
      const withA = clients.lease([{ name: 'a', url }]);
      assert.deepEqual(await fetchOnce(), { data: { ok: true } });
      const withoutA = clients.lease([]);
      await withA.release();
      assert.deepEqual(clients.count(), {});
      const withAAgain = clients.lease([{ name: 'a', url }]);
      await withoutA.release();
      assert.deepEqual(await fetchOnce(), { data: { ok: true } });
      assert.equal(received, 2);
      assert.deepEqual(clients.count(), { a: 1 });
      await withAAgain.release();
    } finally {
      await clients.closeAll();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
