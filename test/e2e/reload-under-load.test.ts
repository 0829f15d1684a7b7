import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Pool } from 'undici';
import { products, reviews, stock, users } from '../../subgraphs/shared/dataset.ts';
import { writeFileAtomic } from '../../supergraph/write-file-atomic.ts';
import { eventually, gql, parseOr, sleep } from '../../harness/http.ts';
import { metric } from '../../harness/metrics.ts';
import { allSubgraphs, composeOrThrow, editSdl, exampleSdl, startStack, type Stack } from '../../harness/stack.ts';

// Four subgraphs in three hops: products → inventory + reviews → accounts. A request planned on
// one generation still has fetches to make after the next generation is in place.
const query = '{ topProducts(first: 3) { upc name inStock reviews(first: 1) { body author { username name } } } }';
const U = new Map(users().map((u) => [u.id, u]));
const S = new Map(stock().map((s) => [`${s.sku}|${s.variant}`, s]));
const expected = {
  data: {
    topProducts: products()
      .slice(0, 3)
      .map((p) => ({
        upc: p.upc,
        name: p.name,
        inStock: S.get(`${p.sku}|${p.variant}`)!.quantity > 0,
        reviews: reviews()
          .filter((r) => r.productUpc === p.upc)
          .slice(0, 1)
          .map((r) => ({
            body: r.body,
            author: { username: U.get(r.authorId)!.username, name: U.get(r.authorId)!.name },
          })),
      })),
  },
};

/**
 * Reload `i` (1-based): odd reloads move every subgraph to a new routing URL (same server, a new
 * query string), so each needs a new client and the old generation's clients must be closed;
 * even reloads change only the schema (`Product.category` comes and goes), so clients are kept.
 */
function writeGeneration(stack: Stack, i: number): void {
  const urlVersion = Math.ceil(i / 2);
  const withCategory = i % 2 === 0;
  const sdl = composeOrThrow(
    allSubgraphs.map((n) => ({
      name: n,
      url: `${stack.subgraphs[n].url}?v=${urlVersion}`,
      sdl: n === 'products' && !withCategory ? editSdl(exampleSdl(n), '  category: Category!\n', '') : exampleSdl(n),
    })),
  );
  writeFileAtomic(stack.supergraphFile, sdl);
}

describe('supergraph reloads under load', () => {
  it('20 reloads under 30 keep-alive connections lose no request; schema-only reloads keep the clients', async (t) => {
    await using stack = await startStack({ config: { supergraph: { watch: false } } });
    // A little latency on the last hop, so most requests span a reload.
    await stack.subgraphs.accounts.fault({ delayMs: 5 });
    const pool = new Pool(stack.base, { connections: 30 });
    let stop = false;
    let inFlight = 0;
    let total = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (!stop) {
        inFlight++;
        try {
          const res = await pool.request({
            path: '/graphql',
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query }),
          });
          const text = await res.body.text();
          if (res.statusCode !== 200 || !isDeepStrictEqual(parseOr(text, null), expected))
            failures.push(`${res.statusCode} ${text.slice(0, 300)}`);
        } catch (err) {
          failures.push(`client error: ${(err as Error).message}`);
        } finally {
          inFlight--;
          total++;
        }
      }
    };
    const workers = Array.from({ length: 30 }, worker);
    const inFlightAtReload: number[] = [];
    try {
      await sleep(300);
      for (let i = 1; i <= 20; i++) {
        writeGeneration(stack, i);
        inFlightAtReload.push(inFlight);
        stack.gateway.child.kill('SIGHUP');
        await eventually(
          async () => stack.gateway.logs().filter((l) => l['msg'] === 'supergraph reloaded').length >= i,
          10_000,
          `reload ${i}`,
        );
        await sleep(150);
      }
      await sleep(300);
    } finally {
      stop = true;
      await Promise.all(workers);
      await pool.close();
    }

    assert.ok(
      inFlightAtReload.every((n) => n > 0),
      `every reload happened under load (in flight at each: ${inFlightAtReload.join(',')})`,
    );
    assert.deepEqual(
      { failed: failures.length, firstFailures: failures.slice(0, 3) },
      { failed: 0, firstFailures: [] },
      `${failures.length} of ${total} requests failed`,
    );
    t.diagnostic(`reload-under-load: ${total} requests over 20 reloads, ${failures.length} failed`);

    // Every superseded generation drained and closed, none by the timeout; one client per subgraph
    // is left. The ten URL changes made 4 clients each; the ten schema-only reloads made none.
    await eventually(
      async () => (await metric(stack.metricsUrl, 'tessera_supergraph_generations')) === 1,
      5000,
      'superseded generations to close',
    );
    for (const n of allSubgraphs)
      assert.equal(await metric(stack.metricsUrl, 'tessera_subgraph_clients', { subgraph: n }), 1, n);
    assert.equal(await metric(stack.metricsUrl, 'tessera_supergraph_drain_timeouts_total'), 0);
    const closed = stack.gateway.logs().filter((l) => l['msg'] === 'superseded supergraph generation closed');
    assert.deepEqual(
      closed.map((l) => l['generation']),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const created = stack.gateway.logs().filter((l) => l['msg'] === 'subgraph client created');
    assert.equal(created.length, 4 + 10 * 4);
  });

  it('serves a subgraph that leaves the supergraph and comes back at the same URL', async () => {
    // @apollo/gateway keeps the data source it was given for a name and URL, and hands it back
    // when the subgraph returns: that must reach a live client, not the one closed when it left.
    await using stack = await startStack({ config: { supergraph: { watch: false } } });
    const compose = (names: typeof allSubgraphs) =>
      writeFileAtomic(
        stack.supergraphFile,
        composeOrThrow(names.map((n) => ({ name: n, url: stack.subgraphs[n].url, sdl: exampleSdl(n) }))),
      );
    const stockQuery = { query: '{ topProducts(first: 2) { upc inStock } }' };
    const reload = async (i: number) => {
      stack.gateway.child.kill('SIGHUP');
      await eventually(
        async () => stack.gateway.logs().filter((l) => l['msg'] === 'supergraph reloaded').length >= i,
        10_000,
        `reload ${i}`,
      );
    };

    compose(allSubgraphs.filter((n) => n !== 'inventory'));
    await reload(1);
    await eventually(
      async () => (await metric(stack.metricsUrl, 'tessera_subgraph_clients', { subgraph: 'inventory' })) === 0,
      5000,
      'the inventory client to close',
    );
    const without = await gql(stack.url, stockQuery);
    assert.equal(without.status, 400);
    assert.equal(without.body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');

    compose(allSubgraphs);
    await reload(2);
    const back = await gql(stack.url, stockQuery);
    assert.deepEqual(back.body, {
      data: {
        topProducts: [
          { upc: '1', inStock: true },
          { upc: '2', inStock: true },
        ],
      },
    });
    assert.equal(await metric(stack.metricsUrl, 'tessera_subgraph_clients', { subgraph: 'inventory' }), 1);
  });
});
