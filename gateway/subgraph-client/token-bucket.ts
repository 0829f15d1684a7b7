/** A local token bucket: `ratePerSecond` refill, `burst` capacity. One per subgraph client. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;

  constructor(ratePerSecond: number, burst: number) {
    this.rate = ratePerSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
    this.last = performance.now();
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
