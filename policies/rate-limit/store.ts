/** One limit to check and spend: GCRA over `windowMs` with `limit` units of burst. */
export interface LimitRequest {
  readonly key: string;
  readonly amount: number;
  readonly limit: number;
  readonly windowMs: number;
}

export interface LimitResult {
  readonly allowed: boolean;
  /** Units left after this request (or before it, when refused). */
  readonly remaining: number;
  /** When refused: how long until `amount` fits. */
  readonly retryAfterMs: number;
  /** How long until the whole budget is available again. */
  readonly resetMs: number;
}

/**
 * Check-and-spend over several limits at once: either every limit has room and all are spent,
 * or none is. Implementations must be atomic across gateway replicas that share the store.
 */
export interface RateLimitStore {
  consume(limits: readonly LimitRequest[]): Promise<LimitResult[]>;
  close(): Promise<void>;
}

/** GCRA on one theoretical arrival time (TAT); shared by the memory store and mirrored by consume.lua. */
export function gcra(
  storedTat: number | undefined,
  now: number,
  l: LimitRequest,
): { result: LimitResult; newTat: number } {
  const interval = l.windowMs / l.limit;
  const tat = storedTat === undefined || storedTat < now ? now : storedTat;
  const newTat = tat + l.amount * interval;
  const allowAt = newTat - l.windowMs;
  const allowed = allowAt <= now;
  const basis = allowed ? newTat : tat;
  return {
    newTat,
    result: {
      allowed,
      remaining: Math.max(0, Math.floor((l.windowMs - (basis - now)) / interval)),
      retryAfterMs: allowed ? 0 : Math.ceil(allowAt - now),
      resetMs: Math.ceil(basis - now),
    },
  };
}
