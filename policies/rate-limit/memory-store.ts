import { gcra, type LimitRequest, type LimitResult, type RateLimitStore } from './store.ts';

/** The default store: exact, but per process. Use Redis when several replicas share budgets. */
export class MemoryStore implements RateLimitStore {
  private readonly tats = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    // An entry whose TAT has passed holds no information (the budget is full again).
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, tat] of this.tats) if (tat <= now) this.tats.delete(k);
    }, 10_000);
    this.sweeper.unref();
  }

  async consume(limits: readonly LimitRequest[]): Promise<LimitResult[]> {
    const now = Date.now();
    const decisions = limits.map((l) => gcra(this.tats.get(l.key), now, l));
    if (decisions.every((d) => d.result.allowed)) limits.forEach((l, i) => this.tats.set(l.key, decisions[i]!.newTat));
    return decisions.map((d) => d.result);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
