/**
 * The gateway's lifecycle, as one explicit phase:
 * starting → serving → draining (readiness 503, listener still open) → closing (listener closed,
 * in-flight requests finishing) → stopped.
 */
export type Phase = 'starting' | 'serving' | 'draining' | 'closing' | 'stopped';

export class Lifecycle {
  phase: Phase = 'starting';
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  get ready(): boolean {
    return this.phase === 'serving';
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestFinished(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves true once no request is in flight, false if `timeoutMs` passes first. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }
}
