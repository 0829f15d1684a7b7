import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { LimitRequest, LimitResult, RateLimitStore } from './store.ts';

const script = readFileSync(new URL('./consume.lua', import.meta.url), 'utf8');

type WithConsume = Redis & { tesseraConsume(numKeys: number, ...args: Array<string | number>): Promise<number[]> };

/** Budgets shared by every replica: one Lua script per request (EVALSHA, loaded on first use). */
export class RedisStore implements RateLimitStore {
  private readonly redis: WithConsume;
  private readonly deadlineMs: number | undefined;

  constructor(redis: Redis) {
    if (!('tesseraConsume' in redis)) redis.defineCommand('tesseraConsume', { lua: script });
    this.redis = redis as WithConsume;
    // ioredis starts its own command timer only once the command is written; a command queued
    // behind a stalled one (auto-pipelining, a pending EVALSHA→EVAL retry) would wait for that one's
    // timeout first. The deadline counts from the moment the request asks.
    this.deadlineMs = redis.options.commandTimeout;
  }

  async consume(limits: readonly LimitRequest[]): Promise<LimitResult[]> {
    const args: Array<string | number> = [];
    for (const l of limits) args.push(l.key);
    for (const l of limits) args.push(l.amount, l.limit, l.windowMs);
    const call = this.redis.tesseraConsume(limits.length, ...args);
    const out = this.deadlineMs === undefined ? await call : await withDeadline(call, this.deadlineMs);
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

function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  // The call goes on in ioredis after the deadline; its late rejection has no one left to tell.
  call.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}
