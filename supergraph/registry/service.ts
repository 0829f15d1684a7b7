import { composeSupergraph, type CompositionProblem, type SubgraphSdl } from '../compose.ts';
import { checkProposal, type CheckReport } from '../check.ts';
import type { RegistryStore, UsageEntry } from './store.ts';

export type PublishOutcome =
  | { status: 'published'; version: number }
  | { status: 'unchanged'; version: number }
  | { status: 'composition-failed'; version: number; errors: CompositionProblem[] };

/** What the registry does, independent of HTTP: publish, check, roll back, record usage. */
export class RegistryService {
  private readonly store: RegistryStore;
  private readonly retentionDays: number;
  private prunedDay = '';
  constructor(store: RegistryStore, opts: { usageRetentionDays?: number } = {}) {
    this.store = store;
    this.retentionDays = opts.usageRetentionDays ?? 90;
  }

  /**
   * Compose the variant with the new subgraph; store both in one transaction, or nothing. The
   * compare-and-swap retries when another writer (another registry process on the same file) won.
   */
  publish(graph: string, variant: string, entry: SubgraphSdl, actor: string): PublishOutcome {
    for (;;) {
      const cur = this.store.current(graph, variant);
      const version = cur?.version ?? 0;
      const subgraphs = cur?.subgraphs ?? [];
      const existing = subgraphs.find((s) => s.name === entry.name);
      if (existing && existing.sdl === entry.sdl && existing.url === entry.url) return { status: 'unchanged', version };
      const next = [...subgraphs.filter((s) => s.name !== entry.name), entry].sort((a, b) => a.name.localeCompare(b.name));
      const composed = composeSupergraph(next);
      if (!composed.ok) return { status: 'composition-failed', version, errors: composed.errors };
      const summary = existing ? `updated subgraph ${entry.name}` : `added subgraph ${entry.name}`;
      const r = this.store.append(graph, variant, version, { actor, action: 'publish', subgraph: entry.name, summary, supergraphSdl: composed.supergraphSdl, subgraphs: next });
      if (r.ok) return { status: 'published', version: r.version };
    }
  }

  rollback(graph: string, variant: string, to: number, actor: string): { version: number } | null {
    for (;;) {
      const target = this.store.version(graph, variant, to);
      const cur = this.store.current(graph, variant);
      if (!target || !cur) return null;
      const r = this.store.append(graph, variant, cur.version, { actor, action: 'rollback', subgraph: null, summary: `rolled back to version ${to}`, supergraphSdl: target.supergraphSdl, subgraphs: target.subgraphs });
      if (r.ok) return { version: r.version };
    }
  }

  async check(graph: string, variant: string, proposed: readonly SubgraphSdl[], usageDays: number | null): Promise<CheckReport> {
    const cur = this.store.current(graph, variant);
    const since = usageDays === null ? null : new Date(Date.now() - usageDays * 86_400_000).toISOString().slice(0, 10);
    return checkProposal({
      graph, variant, baseVersion: cur?.version ?? 0, current: cur?.subgraphs ?? [], proposed,
      usage: since === null ? null : { days: usageDays!, entries: this.store.usageSince(graph, variant, since) },
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
}
