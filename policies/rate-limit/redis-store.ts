import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { LimitRequest, LimitResult, RateLimitStore } from './store.ts';

const script = readFileSync(new URL('./consume.lua', import.meta.url), 'utf8');

type WithConsume = Redis & { tesseraConsume(numKeys: number, ...args: Array<string | number>): Promise<number[]> };

/** Budgets shared by every replica: one Lua script per request (EVALSHA, loaded on first use). */
export class RedisStore implements RateLimitStore {
  private readonly redis: WithConsume;

  constructor(redis: Redis) {
    if (!('tesseraConsume' in redis)) redis.defineCommand('tesseraConsume', { lua: script });
    this.redis = redis as WithConsume;
  }

  async consume(limits: readonly LimitRequest[]): Promise<LimitResult[]> {
    const args: Array<string | number> = [];
    for (const l of limits) args.push(l.key);
    for (const l of limits) args.push(l.amount, l.limit, l.windowMs);
    const out = await this.redis.tesseraConsume(limits.length, ...args);
    return limits.map((_, i) => ({
      allowed: out[1 + i * 4] === 1,
      remaining: Number(out[2 + i * 4]),
      retryAfterMs: Number(out[3 + i * 4]),
      resetMs: Number(out[4 + i * 4]),
    }));
  }

  async close(): Promise<void> {
    // The client belongs to the gateway, which closes it after every policy.
  }
}
