import { Redis } from 'ioredis';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/log.ts';
import { LogThrottle } from '../observability/log-throttle.ts';

/**
 * The gateway's one Redis connection. Commands fail fast instead of queueing while disconnected
 * (no offline queue, a command timeout), so a dead Redis costs a request milliseconds and a hung
 * one at most `commandTimeoutMs`; the policy using it decides what a failure means. ioredis
 * reconnects on its own.
 */
export function createRedis(config: NonNullable<Config['redis']>, log: Logger): Redis {
  const throttle = new LogThrottle(10_000);
  const redis = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    enableOfflineQueue: false,
    // Off: an auto-pipelined command waits behind a stalled pipeline before its own timeout starts
    // (a hung Redis cost 2 × commandTimeoutMs), and batching measured no throughput gain for the
    // rate limiter's one EVALSHA per request (bench/redis-stall.ts, docs/policies.md "Rate limits by cost").
    enableAutoPipelining: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  });
  let wasReady = false;
  redis.on('ready', () => {
    log.info({ redis: redact(config.url), reconnected: wasReady }, 'redis connected');
    wasReady = true;
  });
  redis.on('error', (err: Error) => {
    const suppressed = throttle.take('redis');
    if (suppressed !== null)
      log.warn({ redis: redact(config.url), err: err.message, suppressed }, 'redis connection error; reconnecting');
  });
  return redis;
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1_000))]);
  } catch {
    // already closed or unreachable
  }
  redis.disconnect();
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
