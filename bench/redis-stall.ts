/**
 * How long a rate-limited request waits while Redis hangs (SIGSTOP: sockets open, no answers).
 * Starts the four subgraphs, a real redis-server and two gateways (failureMode open and closed)
 * with `redis.commandTimeoutMs` = TIMEOUT_MS (default 500), stops Redis, then sends one request
 * every STAGGER_MS (default 25) for 2 × TIMEOUT_MS to each gateway, so requests arrive while
 * earlier Redis calls are still pending (what auto-pipelining queues behind), and prints the
 * latency distribution per gateway. `node bench/redis-stall.ts`
 */
import { gql, sleep } from '../harness/http.ts';
import { RedisServer } from '../harness/redis.ts';
import { startStack } from '../harness/stack.ts';

const timeoutMs = Number(process.env['TIMEOUT_MS'] ?? 500);
const staggerMs = Number(process.env['STAGGER_MS'] ?? 25);
const redis = await new RedisServer().start();
const stack = await startStack({ noGateway: true });
try {
  const config = (failureMode: string) => ({
    redis: { url: redis.url, commandTimeoutMs: timeoutMs },
    policies: { rateLimit: { windowMs: 60_000, costPerWindow: 1_000_000, failureMode } },
  });
  const gateways = {
    open: await stack.startGateway(config('open')),
    closed: await stack.startGateway(config('closed')),
  };
  for (const g of Object.values(gateways)) for (let i = 0; i < 20; i++) await gql(g.url, { query: '{ __typename }' });

  redis.pause();
  const timings: Record<string, Array<{ status: number; ms: number }>> = { open: [], closed: [] };
  const sent: Array<Promise<void>> = [];
  const count = Math.ceil((2 * timeoutMs) / staggerMs);
  for (let i = 0; i < count; i++) {
    for (const [mode, g] of Object.entries(gateways)) {
      const t0 = performance.now();
      sent.push(
        gql(g.url, { query: '{ __typename }' }).then(
          (r) => void timings[mode]!.push({ status: r.status, ms: performance.now() - t0 }),
        ),
      );
    }
    await sleep(staggerMs);
  }
  await Promise.all(sent);
  redis.resume();

  for (const [mode, list] of Object.entries(timings)) {
    const ms = list.map((t) => t.ms).sort((a, b) => a - b);
    const q = (p: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!);
    const statuses = [...new Set(list.map((t) => t.status))].join('/');
    console.log(
      `failureMode=${mode} commandTimeoutMs=${timeoutMs}: ${ms.length} requests (status ${statuses}) min ${q(0)} ms, p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms; over 1.5× timeout: ${ms.filter((m) => m > 1.5 * timeoutMs).length}`,
    );
  }
} finally {
  redis.resume();
  await stack[Symbol.asyncDispose]();
  await redis.kill();
}
