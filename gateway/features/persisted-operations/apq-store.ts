import type { Redis } from 'ioredis';
import { LogThrottle } from '../../observability/log-throttle.ts';
import type { Logger } from '../../observability/log.ts';

/** Where automatic persisted queries are registered: hash (lowercase hex SHA-256) → query text. */
export interface ApqStore {
  get(hash: string): Promise<string | null>;
  set(hash: string, query: string): Promise<void>;
}

/**
 * A bounded LRU in memory: a Map keeps insertion order, so re-inserting on a hit makes the first
 * key the least recently used. Bounded by entries; each entry by `apq.maxQueryBytes`.
 */
export class LruApqStore implements ApqStore {
  private readonly entries = new Map<string, string>();
  private readonly maxEntries: number;
  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }
  get size(): number {
    return this.entries.size;
  }
  peek(hash: string): string | null {
    const query = this.entries.get(hash);
    if (query === undefined) return null;
    this.entries.delete(hash);
    this.entries.set(hash, query);
    return query;
  }
  put(hash: string, query: string): void {
    this.entries.delete(hash);
    this.entries.set(hash, query);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
  async get(hash: string): Promise<string | null> {
    return this.peek(hash);
  }
  async set(hash: string, query: string): Promise<void> {
    this.put(hash, query);
  }
}

/**
 * The memory LRU in front of Redis, so every replica serves what any one of them registered. A
 * Redis that is down or slow (the connection's command timeout bounds it) costs a miss, never a
 * failed request: the client then sends the query text, as APQ intends.
 */
export class RedisApqStore implements ApqStore {
  private readonly local: LruApqStore;
  private readonly redis: Redis;
  private readonly ttlSec: number;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle(10_000);
  constructor(redis: Redis, opts: { maxEntries: number; ttlSec: number; log: Logger }) {
    this.redis = redis;
    this.local = new LruApqStore(opts.maxEntries);
    this.ttlSec = opts.ttlSec;
    this.log = opts.log;
  }
  async get(hash: string): Promise<string | null> {
    const hit = this.local.peek(hash);
    if (hit !== null) return hit;
    try {
      const query = await this.redis.get(key(hash));
      if (query !== null) this.local.put(hash, query);
      return query;
    } catch (err) {
      this.failed(err);
      return null;
    }
  }
  async set(hash: string, query: string): Promise<void> {
    this.local.put(hash, query);
    try {
      await this.redis.set(key(hash), query, 'EX', this.ttlSec);
    } catch (err) {
      this.failed(err);
    }
  }
  private failed(err: unknown): void {
    const suppressed = this.throttle.take('apq');
    if (suppressed !== null)
      this.log.warn(
        { err: (err as Error)?.message ?? String(err), suppressed },
        'redis unavailable for persisted queries; serving from this replica only',
      );
  }
}

/** Under the connection's `redis.keyPrefix`. */
const key = (hash: string) => `apq:${hash}`;
