import type { FetchLayer, SubgraphAnswer } from '../fetch.ts';

/**
 * The gateway's own request-rate cap towards the subgraph (`rateLimit`): a local token bucket,
 * `requestsPerSecond` refill and `burst` capacity. A refused fetch goes no further: nothing is
 * built, sent, deduplicated onto another caller's request, or counted by the budget or breaker.
 */
export const rateCap: FetchLayer = (next, { settings }) => {
  if (!settings.rateLimit) return next;
  const bucket = new TokenBucket(settings.rateLimit.requestsPerSecond, settings.rateLimit.burst);
  // One answer for every refusal: answers are read-only, and a refusal under load should cost nothing.
  const refused: Promise<SubgraphAnswer> = Promise.resolve({
    ok: false,
    failure: {
      code: 'SUBGRAPH_RATE_LIMITED',
      message: `Subgraph "${settings.name}" is over the gateway's request-rate limit for it`,
      cause: 'rate limit',
    },
  });
  return (request) => (bucket.take() ? next(request) : refused);
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(ratePerSecond: number, burst: number, now: () => number = () => performance.now()) {
    this.rate = ratePerSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
    this.now = now;
    this.last = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
