/**
 * What the health view (`GET /health/subgraphs` on the metrics listener) and `/ready` with
 * `server.readyRequiresSubgraphs` read: per subgraph, the breaker state, the last failure and the
 * latency of its recent fetches. Written by the subgraph client's `health` and `breaker` layers,
 * on the request path, so a write is a few stores; the work (a sort) happens when someone asks.
 */
export type BreakerState = 'closed' | 'half-open' | 'open' | 'disabled';

const WINDOW = 256;

class SubgraphRecord {
  breaker: BreakerState = 'disabled';
  lastError: { code: string; at: string } | null = null;
  fetches = 0;
  failures = 0;
  /** The last WINDOW fetch durations, in ms (a ring). */
  readonly durations = new Float64Array(WINDOW);
  next = 0;
}

export interface SubgraphHealthView {
  readonly breaker: BreakerState;
  readonly fetches: number;
  readonly failures: number;
  readonly lastError: { readonly code: string; readonly at: string } | null;
  /** Over the last (up to) 256 fetches, retries included; null before the first. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly window: number;
  } | null;
}

export class SubgraphHealth {
  private readonly records = new Map<string, SubgraphRecord>();

  /** The record of one subgraph: layers take it once, when the client is built. */
  of(subgraph: string): SubgraphRecord {
    let r = this.records.get(subgraph);
    if (!r) this.records.set(subgraph, (r = new SubgraphRecord()));
    return r;
  }

  breaker(subgraph: string): BreakerState | undefined {
    return this.records.get(subgraph)?.breaker;
  }

  /** Subgraphs whose circuit is open now. */
  open(): string[] {
    return [...this.records]
      .filter(([, r]) => r.breaker === 'open')
      .map(([name]) => name)
      .sort();
  }

  view(): Record<string, SubgraphHealthView> {
    const out: Record<string, SubgraphHealthView> = {};
    for (const name of [...this.records.keys()].sort()) {
      const r = this.records.get(name)!;
      const n = Math.min(r.fetches, WINDOW);
      const sorted = r.durations.slice(0, n).sort();
      const at = (q: number) => Math.round(sorted[Math.min(n - 1, Math.floor(q * n))]! * 10) / 10;
      out[name] = {
        breaker: r.breaker,
        fetches: r.fetches,
        failures: r.failures,
        lastError: r.lastError,
        latencyMs: n ? { p50: at(0.5), p90: at(0.9), p99: at(0.99), window: n } : null,
      };
    }
    return out;
  }
}

/** One fetch's end, as the health layer saw it. */
export function recordFetch(r: SubgraphRecord, ms: number, failure: string | null): void {
  r.durations[r.next] = ms;
  r.next = (r.next + 1) % WINDOW;
  r.fetches++;
  if (failure !== null) {
    r.failures++;
    r.lastError = { code: failure, at: new Date().toISOString() };
  }
}
