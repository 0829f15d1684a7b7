/**
 * Caps retries at a fraction of recent traffic (Finagle/Envoy style), so a dead subgraph gets at
 * most `ratio` extra load instead of `maxAttempts`× load. Counts live in one-second buckets over
 * `windowMs`; `minPerSecond` keeps retries possible for low-traffic subgraphs.
 */
export class RetryBudget {
  private readonly buckets: number;
  private readonly requests: Float64Array;
  private readonly retries: Float64Array;
  private current = -1;
  private readonly ratio: number;
  private readonly minPerSecond: number;
  private readonly now: () => number;

  constructor(opts: { ratio: number; minPerSecond: number; windowMs: number; now?: () => number }) {
    this.buckets = Math.max(1, Math.round(opts.windowMs / 1000));
    this.requests = new Float64Array(this.buckets);
    this.retries = new Float64Array(this.buckets);
    this.ratio = opts.ratio;
    this.minPerSecond = opts.minPerSecond;
    this.now = opts.now ?? Date.now;
  }

  recordRequest(): void {
    this.requests[this.tick()]!++;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean {
    const i = this.tick();
    let requests = 0;
    let retries = 0;
    for (let b = 0; b < this.buckets; b++) {
      requests += this.requests[b]!;
      retries += this.retries[b]!;
    }
    if (retries >= this.ratio * requests + this.minPerSecond * this.buckets) return false;
    this.retries[i]!++;
    return true;
  }

  private tick(): number {
    const second = Math.floor(this.now() / 1000);
    if (this.current === -1) this.current = second;
    // Clear the buckets of the seconds that passed since the last call.
    const passed = Math.min(second - this.current, this.buckets);
    for (let s = 1; s <= passed; s++) {
      const idx = (this.current + s) % this.buckets;
      this.requests[idx] = 0;
      this.retries[idx] = 0;
    }
    if (second > this.current) this.current = second;
    return this.current % this.buckets;
  }
}
