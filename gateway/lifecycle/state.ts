/**
 * The gateway's lifecycle, as one explicit phase:
 * starting → serving → draining (readiness 503, listener still open) → closing (listener closed,
 * in-flight requests finishing; see drain.ts) → stopped. Every phase after `serving` makes each
 * response close its connection.
 */
export type Phase = 'starting' | 'serving' | 'draining' | 'closing' | 'stopped';

export class Lifecycle {
  phase: Phase = 'starting';
  private inFlight = 0;

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
  }
}
