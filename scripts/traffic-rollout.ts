/**
 * The worked rollout of docs/traffic.md, run for real: the four example subgraphs, a second
 * `reviews` process as its new version (canary), and a third as a new `ratings` subgraph that
 * takes `Product.averageRating` over by progressive override. Prints what each step did.
 * `node scripts/traffic-rollout.ts`
 */
import { gql } from '../harness/http.ts';
import { allSubgraphs, composeOrThrow, exampleSdl, startStack, startSubgraphProc } from '../harness/stack.ts';
import { writeFileAtomic } from '../supergraph/write-file-atomic.ts';

const stack = await startStack({ noGateway: true });
const v2 = await startSubgraphProc('reviews');
const ratings = await startSubgraphProc('reviews');
const v1 = stack.subgraphs.reviews;
const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
const query = 'query Reviews($n: Int) { topProducts(first: 2) { upc reviews(first: $n) { body } } }';

/** Callers whose fetches reached a process (the gateway propagates `x-user-id` in this demo). */
async function callersOf(p: typeof v1): Promise<Set<string>> {
  return new Set((await p.stats()).received.map((r) => r.headers['x-user-id']!).filter(Boolean));
}

async function metricLines(metricsUrl: string, pattern: RegExp): Promise<string[]> {
  const text = await (await fetch(metricsUrl)).text();
  return text.split('\n').filter((l) => pattern.test(l) && !l.endsWith(' 0'));
}

try {
  const canaryStep = async (weight: number) => {
    const gw = await stack.startGateway({
      engine: 'tessera',
      subgraphs: {
        reviews: {
          canary: { url: v2.url, weight, stickyBy: { header: 'x-user-id' } },
          headers: { propagate: [{ named: 'x-user-id' }] },
        },
      },
    });
    await Promise.all([v1.resetStats(), v2.resetStats()]);
    let fetches = 0;
    for (let round = 0; round < 2; round++)
      for (const [i, user] of users.entries()) {
        const res = await gql(gw.url, { query, variables: { n: 1 + ((i + round) % 3) } }, { 'x-user-id': user });
        if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
        fetches++;
      }
    const onCanary = await callersOf(v2);
    const onStable = await callersOf(v1);
    const both = [...onCanary].filter((u) => onStable.has(u)).length;
    console.log(`\n## canary weight ${weight}: ${fetches} requests from ${users.length} callers`);
    console.log(
      `canary fetches ${(await v2.stats()).requests}, stable fetches ${(await v1.stats()).requests}; callers on the canary ${onCanary.size}, on stable ${onStable.size}, on both ${both}`,
    );
    for (const l of await metricLines(gw.metricsUrl, /^tessera_subgraph_instance_attempt_duration_seconds_(count|sum)/))
      console.log(l);
    await gw.proc.kill();
    return onCanary;
  };
  const at5 = await canaryStep(5);
  const at50 = await canaryStep(50);
  console.log(
    `callers on the canary at 5 % still on it at 50 %: ${[...at5].filter((u) => at50.has(u)).length} of ${at5.size}`,
  );

  const overrideStep = async (label: string | null) => {
    const directive = label ? `@override(from: "reviews", label: "${label}")` : '@override(from: "reviews")';
    writeFileAtomic(
      stack.supergraphFile,
      composeOrThrow([
        ...allSubgraphs.map((n) => ({ name: n, url: stack.subgraphs[n].url, sdl: exampleSdl(n) })),
        {
          name: 'ratings',
          url: ratings.url,
          sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@override"])
type Product @key(fields: "upc") {
  upc: String!
  averageRating: Float ${directive}
}`,
        },
      ]),
    );
    const gw = await stack.startGateway({ engine: 'tessera' });
    await Promise.all([v1.resetStats(), ratings.resetStats()]);
    const total = 400;
    for (let i = 0; i < total; i++) {
      const res = await gql(gw.url, { query: '{ topProducts(first: 3) { upc averageRating } }' });
      if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
    }
    const count = async (p: typeof v1) =>
      (await p.stats()).received.filter((r) => r.query.includes('averageRating')).length;
    console.log(`\n## ${directive}: ${total} requests`);
    console.log(`averageRating fetched from ratings ${await count(ratings)}, from reviews ${await count(v1)}`);
    await gw.proc.kill();
  };
  await overrideStep('percent(10)');
  await overrideStep('percent(50)');
  await overrideStep(null);
} finally {
  await Promise.all([v2.proc.kill(), ratings.proc.kill()]);
  await stack[Symbol.asyncDispose]();
}
