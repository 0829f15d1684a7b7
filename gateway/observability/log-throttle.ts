/**
 * At most one log line per key per interval. A dead subgraph under load fails every request;
 * one line a second (with how many were suppressed) says as much as a thousand.
 */
export class LogThrottle {
  private readonly windows = new Map<string, { until: number; suppressed: number }>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** null: stay quiet. A number: log now, and say how many lines were suppressed since the last. */
  take(key: string): number | null {
    const now = this.now();
    const w = this.windows.get(key);
    if (w && now < w.until) {
      w.suppressed++;
      return null;
    }
    const suppressed = w?.suppressed ?? 0;
    this.windows.set(key, { until: now + this.intervalMs, suppressed: 0 });
    return suppressed;
  }
}
