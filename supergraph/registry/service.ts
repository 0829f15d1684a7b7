import type { CheckReport } from '../check.ts';
import type { CompositionProblem, SubgraphSdl } from '../compose.ts';
import type { CompositionPool } from '../composition-pool.ts';
import { normalizeId, type OperationProblem, type PersistedOperation } from '../operations/manifest.ts';
import type { RegistryStore, UsageEntry } from './store.ts';

export type ManifestOutcome =
  | { status: 'published' | 'unchanged'; operations: number; revision: number }
  | { status: 'no-supergraph' }
  | { status: 'conflict'; errors: string[] }
  | { status: 'invalid'; errors: OperationProblem[] };

export type PublishOutcome =
  | { status: 'published'; version: number }
  | { status: 'unchanged'; version: number }
  | { status: 'composition-failed'; version: number; errors: CompositionProblem[] };

/** More publishes and checks are waiting than `composition.maxPending`: refused before any work. */
export class RegistryBusyError extends Error {}

/** What the registry does, independent of HTTP: publish, check, roll back, record usage. */
export class RegistryService {
  private readonly store: RegistryStore;
  private readonly composer: Pick<CompositionPool, 'compose' | 'check' | 'validateOperations'>;
  private readonly retentionDays: number;
  private readonly maxPending: number;
  /** Per variant, the tail of its chain of writes: one publish or rollback at a time, in arrival order. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private pending = 0;
  private prunedDay = '';
  constructor(
    store: RegistryStore,
    composer: Pick<CompositionPool, 'compose' | 'check' | 'validateOperations'>,
    opts: { usageRetentionDays?: number; maxPending?: number } = {},
  ) {
    this.store = store;
    this.composer = composer;
    this.retentionDays = opts.usageRetentionDays ?? 90;
    this.maxPending = opts.maxPending ?? 64;
  }

  /**
   * Compose the variant with the new subgraph; store both in one transaction, or nothing.
   * Composition is asynchronous (a worker), so writes to one variant queue up here: each publish
   * composes once, on top of the one before it. The compare-and-swap still guards the write and
   * retries when another process sharing the database won in between.
   */
  publish(graph: string, variant: string, entry: SubgraphSdl, actor: string): Promise<PublishOutcome> {
    return this.admit(() =>
      this.serialize(graph, variant, async () => {
        for (;;) {
          const cur = this.store.current(graph, variant);
          const version = cur?.version ?? 0;
          const subgraphs = cur?.subgraphs ?? [];
          const existing = subgraphs.find((s) => s.name === entry.name);
          if (existing && existing.sdl === entry.sdl && existing.url === entry.url)
            return { status: 'unchanged', version };
          const next = [...subgraphs.filter((s) => s.name !== entry.name), entry].sort((a, b) =>
            a.name.localeCompare(b.name),
          );
          const composed = await this.composer.compose(next);
          if (!composed.ok) return { status: 'composition-failed', version, errors: composed.errors };
          const summary = existing ? `updated subgraph ${entry.name}` : `added subgraph ${entry.name}`;
          const r = this.store.append(graph, variant, version, {
            actor,
            action: 'publish',
            subgraph: entry.name,
            summary,
            supergraphSdl: composed.supergraphSdl,
            subgraphs: next,
          });
          if (r.ok) return { status: 'published', version: r.version };
        }
      }),
    );
  }

  /** In the variant's queue too, so a publish composed on the version before it is never wasted. */
  rollback(graph: string, variant: string, to: number, actor: string): Promise<{ version: number } | null> {
    return this.serialize(graph, variant, async () => {
      for (;;) {
        const target = this.store.version(graph, variant, to);
        const cur = this.store.current(graph, variant);
        if (!target || !cur) return null;
        const r = this.store.append(graph, variant, cur.version, {
          actor,
          action: 'rollback',
          subgraph: null,
          summary: `rolled back to version ${to}`,
          supergraphSdl: target.supergraphSdl,
          subgraphs: target.subgraphs,
        });
        if (r.ok) return { version: r.version };
      }
    });
  }

  /**
   * Stores a client version's operations after validating each against the variant's current
   * supergraph. An id another manifest of the variant maps to another body is a conflict: gateways
   * serve the union of all manifests, so one id must always mean one document.
   */
  publishManifest(
    graph: string,
    variant: string,
    m: { client: string; version: string; operations: readonly PersistedOperation[] },
    actor: string,
  ): Promise<ManifestOutcome> {
    return this.admit(async () => {
      const cur = this.store.current(graph, variant);
      if (!cur) return { status: 'no-supergraph' };
      const known = new Map<string, string>();
      for (const old of this.store.manifests(graph, variant))
        for (const op of old.operations) known.set(normalizeId(op.id), op.body);
      const conflicts = m.operations
        .filter((op) => (known.get(normalizeId(op.id)) ?? op.body) !== op.body)
        .slice(0, 20)
        .map((op) => `id ${op.id} is published with another body`);
      if (conflicts.length) return { status: 'conflict', errors: conflicts };
      const problems = await this.composer.validateOperations(cur.subgraphs, m.operations);
      if (problems.length) return { status: 'invalid', errors: problems };
      const stored = this.store.putManifest(graph, variant, { ...m, actor });
      if (stored === 'conflict')
        return { status: 'conflict', errors: [`${m.client}@${m.version} is already published with other operations`] };
      return { status: stored, operations: m.operations.length, revision: this.store.manifestRevision(graph, variant) };
    });
  }

  check(
    graph: string,
    variant: string,
    proposed: readonly SubgraphSdl[],
    usageDays: number | null,
  ): Promise<CheckReport> {
    return this.admit(() => {
      const cur = this.store.current(graph, variant);
      const since =
        usageDays === null ? null : new Date(Date.now() - usageDays * 86_400_000).toISOString().slice(0, 10);
      return this.composer.check({
        graph,
        variant,
        baseVersion: cur?.version ?? 0,
        current: cur?.subgraphs ?? [],
        proposed,
        usage: since === null ? null : { days: usageDays!, entries: this.store.usageSince(graph, variant, since) },
        manifests: this.store.manifests(graph, variant),
      });
    });
  }

  recordUsage(graph: string, variant: string, entries: readonly UsageEntry[]): void {
    const today = new Date().toISOString().slice(0, 10);
    if (entries.length) this.store.recordUsage(graph, variant, today, entries);
    // Once a day is enough: retention is counted in days.
    if (this.prunedDay !== today) {
      this.prunedDay = today;
      this.store.pruneUsage(new Date(Date.now() - this.retentionDays * 86_400_000).toISOString().slice(0, 10));
    }
  }

  /** Each waiting publish or check holds its request body: their number is capped, not the queue's patience. */
  private async admit<T>(work: () => Promise<T>): Promise<T> {
    if (this.pending >= this.maxPending)
      throw new RegistryBusyError(`${this.pending} publishes and checks are already waiting for composition`);
    this.pending++;
    try {
      return await work();
    } finally {
      this.pending--;
    }
  }

  private serialize<T>(graph: string, variant: string, work: () => Promise<T>): Promise<T> {
    const key = `${graph}\u0000${variant}`;
    const run = (this.tails.get(key) ?? Promise.resolve()).then(work);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    // The last one out removes the entry, so quiet variants hold no memory.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}
