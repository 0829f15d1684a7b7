/**
 * What mirroring costs the client: the same load (autocannon, CONNECTIONS connections for
 * DURATION s, ROUNDS alternating rounds) against three gateways on the same subgraphs: no mirror,
 * a mirror of `reviews` that answers at once, and one that answers after SLOW_MS (default 500,
 * past its 250 ms `timeoutMs`: every copy times out or is dropped). Prints latency percentiles
 * and throughput per gateway, and the mirror outcomes. `node bench/mirror.ts`
 */
import autocannon from 'autocannon';
import { getJson, gql } from '../harness/http.ts';
import { startStack, startSubgraphProc } from '../harness/stack.ts';

const duration = Number(process.env['DURATION'] ?? 8);
const rounds = Number(process.env['ROUNDS'] ?? 3);
const connections = Number(process.env['CONNECTIONS'] ?? 16);
const slowMs = Number(process.env['SLOW_MS'] ?? 500);
const query = '{ topProducts(first: 5) { name reviews(first: 2) { body } } }';
const varied = 'query Bench($n: Int) { topProducts(first: 5) { name reviews(first: $n) { body } } }';
/** One query text (planned once); the variable differs per request, so no two concurrent fetches are identical. */
const body = (i: number) => JSON.stringify({ query: varied, variables: { n: 2 + (i % 1000) } });
let seq = 0;

const stack = await startStack({ noGateway: true });
const fastMirror = await startSubgraphProc('reviews');
const slowMirror = await startSubgraphProc('reviews');
await slowMirror.fault({ delayMs: slowMs });
try {
  const mirrorOf = (url: string) => ({
    subgraphs: { reviews: { mirror: { url, timeoutMs: 250, maxConcurrency: 32 } } },
    log: { level: 'info', requests: false },
  });
  const gateways = {
    'no mirror': await stack.startGateway({ log: { level: 'info', requests: false } }),
    'fast mirror': await stack.startGateway(mirrorOf(fastMirror.url)),
    [`slow mirror (${slowMs} ms)`]: await stack.startGateway(mirrorOf(slowMirror.url)),
  };
  for (const g of Object.values(gateways)) for (let i = 0; i < 50; i++) await gql(g.url, { query });

  const results: Record<string, Array<{ p50: number; p90: number; p99: number; rps: number; errors: number }>> = {};
  for (let round = 0; round < rounds; round++)
    for (const [name, g] of Object.entries(gateways)) {
      const r = await autocannon({
        url: g.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // A distinct variable per request: the gateway's dedupe would otherwise merge concurrent fetches
        // (and their copies), and the mirror would see a fraction of the traffic.
        requests: [
          {
            setupRequest: (req) => ({ ...req, body: body(seq++) }),
          },
        ],
        connections,
        duration,
      });
      (results[name] ??= []).push({
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        rps: r.requests.average,
        errors: r.errors + r.non2xx,
      });
    }

  const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `${connections} connections, ${duration} s × ${rounds} rounds, medians of the rounds; query: ${varied} ($n varies per request)`,
  );
  console.log('gateway                    p50 ms  p90 ms  p99 ms     req/s  errors');
  for (const [name, rs] of Object.entries(results))
    console.log(
      `${name.padEnd(26)}${String(median(rs.map((r) => r.p50))).padStart(6)}${String(median(rs.map((r) => r.p90))).padStart(8)}${String(median(rs.map((r) => r.p99))).padStart(8)}${median(
        rs.map((r) => r.rps),
      )
        .toFixed(0)
        .padStart(10)}${String(rs.reduce((a, r) => a + r.errors, 0)).padStart(8)}`,
    );
  for (const [name, g] of Object.entries(gateways)) {
    const text = String((await getJson(g.metricsUrl)).body);
    const outcomes = [
      ...text.matchAll(/^tessera_subgraph_mirror_requests_total\{subgraph="reviews",outcome="(\w+)"\} (\d+)/gm),
    ]
      .filter((m) => m[2] !== '0')
      .map((m) => `${m[1]} ${m[2]}`);
    if (outcomes.length) console.log(`${name}: mirror copies ${outcomes.join(', ')}`);
  }
} finally {
  await Promise.all([fastMirror.proc.kill(), slowMirror.proc.kill()]);
  await stack[Symbol.asyncDispose]();
}
