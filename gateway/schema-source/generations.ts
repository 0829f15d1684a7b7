import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';

interface Generation {
  readonly id: number;
  readonly release: () => Promise<void> | void;
  inFlight: number;
  supersededAt: number | null;
  timer: NodeJS.Timeout | null;
}

/**
 * Supergraph generations and the requests running on each, after Hive Gateway's
 * UnifiedGraphManager (one disposable set of subgraph transports per loaded graph), with an
 * in-flight count so a superseded set is released once its requests are done instead of at once.
 *
 * A request counts against the generation current when its execution starts (the engine
 * wraps its executor, where all planning and subgraph fetching happens). The Apollo engine may still
 * plan it, or capture its data sources, on a later generation (it reads its fields across awaits),
 * never an earlier one. So generations close oldest first: one closes when it is superseded, has
 * no request left, and every older one has closed. A request a generation still counts after
 * `drainTimeoutMs` does not hold its clients open forever: the generation (and the older ones)
 * are closed anyway, and the count is logged.
 */
export class Generations {
  /** Oldest first; the last one is current. */
  private readonly gens: Generation[] = [];
  private next = 1;
  private readonly drainTimeoutMs: number;
  private readonly log: Logger;
  private readonly metrics: Metrics | null;

  constructor(opts: { drainTimeoutMs: number; log: Logger; metrics?: Metrics }) {
    this.drainTimeoutMs = opts.drainTimeoutMs;
    this.log = opts.log;
    this.metrics = opts.metrics ?? null;
  }

  /** Generations not yet closed: the current one and those still draining. */
  get live(): number {
    return this.gens.length;
  }

  /** Requests counted against the generations not yet closed, by generation number. */
  inFlight(): Record<number, number> {
    return Object.fromEntries(this.gens.map((g) => [g.id, g.inFlight]));
  }

  /**
   * Makes a new generation current; `release` frees what it owns (its references on subgraph
   * clients) and is called once, when it has drained. The previous generation starts draining.
   */
  activate(release: () => Promise<void> | void): number {
    const previous = this.gens.at(-1);
    const gen: Generation = { id: this.next++, release, inFlight: 0, supersededAt: null, timer: null };
    this.gens.push(gen);
    if (previous) {
      previous.supersededAt = performance.now();
      previous.timer = setTimeout(() => this.expire(previous), this.drainTimeoutMs);
      previous.timer.unref();
    }
    this.sweep();
    this.metrics?.supergraphGenerationsLive.set(this.gens.length);
    return gen.id;
  }

  /** Counts one request against the current generation; the returned function ends it (once). */
  enter(): () => void {
    const gen = this.gens.at(-1);
    if (!gen) return () => {};
    gen.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      gen.inFlight--;
      if (gen.inFlight === 0 && gen.supersededAt !== null) this.sweep();
    };
  }

  /** Drops every generation without releasing it: shutdown closes all clients itself. */
  stop(): void {
    for (const g of this.gens.splice(0)) if (g.timer) clearTimeout(g.timer);
    this.metrics?.supergraphGenerationsLive.set(0);
  }

  private sweep(): void {
    while (this.gens.length > 1 && this.gens[0]!.inFlight === 0) this.close(this.gens.shift()!);
    this.metrics?.supergraphGenerationsLive.set(this.gens.length);
  }

  private expire(gen: Generation): void {
    const at = this.gens.indexOf(gen);
    if (at === -1) return;
    // Older generations were superseded earlier, so their own timeout has passed too.
    const expired = this.gens.splice(0, at + 1);
    const inFlight = expired.reduce((n, g) => n + g.inFlight, 0);
    this.metrics?.supergraphDrainTimeouts.inc();
    this.log.warn(
      { generation: gen.id, inFlight, drainTimeoutMs: this.drainTimeoutMs },
      'superseded supergraph generation did not drain in time; closing its subgraph clients with requests still running',
    );
    for (const g of expired) this.close(g);
    this.sweep();
  }

  private close(gen: Generation): void {
    if (gen.timer) clearTimeout(gen.timer);
    const drainedMs = gen.supersededAt === null ? 0 : Math.round(performance.now() - gen.supersededAt);
    this.log.info({ generation: gen.id, drainedMs, inFlight: gen.inFlight }, 'superseded supergraph generation closed');
    Promise.resolve()
      .then(gen.release)
      .catch((err: Error) =>
        this.log.warn({ generation: gen.id, err: err.message }, 'releasing a supergraph generation failed'),
      );
  }
}
