/** Outlier ejection settings (`subgraphs.<name>.outlierDetection`). */
export interface OutlierSettings {
  readonly enabled: boolean;
  readonly consecutiveFailures: number;
  readonly errorRatePercent: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectedPercent: number;
}

export type EjectionReason = 'consecutive' | 'error_rate' | 'probation';

const BUCKETS = 10;

/**
 * One instance's health as its attempts report it, Envoy-style: N failures in a row, or an error
 * rate over a rolling window, eject it for `baseEjectionMs × ejections in a row` (capped). Once
 * the time is up it is readmitted on probation: its first failure ejects it again for longer (a
 * still-dead instance then costs one failed attempt per backoff, not N), and its ejection count
 * decays by one per quiet backoff period served. `now` is injected so the rules are tested
 * without waiting.
 */
export class OutlierState {
  private consecutive = 0;
  private ejectedUntil = 0;
  private ejections = 0;
  private probation = false;
  private lastDecay = 0;
  private readonly counts = new Array<{ at: number; ok: number; failed: number }>(BUCKETS);
  private readonly settings: OutlierSettings;

  constructor(settings: OutlierSettings) {
    this.settings = settings;
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = { at: 0, ok: 0, failed: 0 };
  }

  isEjected(now: number): boolean {
    if (this.ejectedUntil === 0) return false;
    if (now < this.ejectedUntil) return true;
    // Time served: back in, on probation, with a clean window.
    this.ejectedUntil = 0;
    this.probation = true;
    this.consecutive = 0;
    this.lastDecay = now;
    for (const b of this.counts) b.ok = b.failed = 0;
    return false;
  }

  /** Records a success; never ejects. */
  success(now: number): void {
    this.consecutive = 0;
    this.probation = false;
    this.bucket(now).ok++;
    if (this.ejections > 0 && now - this.lastDecay >= this.settings.baseEjectionMs) {
      this.ejections--;
      this.lastDecay = now;
    }
  }

  /**
   * Records a failure; returns why the instance should now be ejected, or null. The caller
   * decides (the cap on the ejected share is the pool's), then calls `eject`.
   */
  failure(now: number): EjectionReason | null {
    if (!this.settings.enabled) return null;
    this.consecutive++;
    this.bucket(now).failed++;
    if (this.probation) return 'probation';
    if (this.consecutive >= this.settings.consecutiveFailures) return 'consecutive';
    let ok = 0;
    let failed = 0;
    const from = now - this.settings.windowMs;
    for (const b of this.counts)
      if (b.at > from) {
        ok += b.ok;
        failed += b.failed;
      }
    if (ok + failed >= this.settings.minRequests && (failed * 100) / (ok + failed) >= this.settings.errorRatePercent)
      return 'error_rate';
    return null;
  }

  /** Ejects for the backoff of this ejection; returns its length in ms. */
  eject(now: number): number {
    this.ejections++;
    const ms = Math.min(this.settings.baseEjectionMs * this.ejections, this.settings.maxEjectionMs);
    this.ejectedUntil = now + ms;
    this.probation = false;
    this.consecutive = 0;
    return ms;
  }

  private bucket(now: number): { at: number; ok: number; failed: number } {
    const width = this.settings.windowMs / BUCKETS;
    const slot = Math.floor(now / width);
    const b = this.counts[slot % BUCKETS]!;
    if (Math.floor(b.at / width) !== slot) {
      b.at = now;
      b.ok = b.failed = 0;
    }
    return b;
  }
}
