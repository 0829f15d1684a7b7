import type { ManifestRecord, PersistedOperation } from '../operations/manifest.ts';

/** One subgraph as published: its routing URL and SDL. */
export interface SubgraphEntry {
  readonly name: string;
  readonly url: string;
  readonly sdl: string;
}

/** A variant's state after one change; versions only grow, and each holds the full subgraph set. */
export interface VersionRecord {
  readonly version: number;
  readonly createdAt: string;
  readonly actor: string;
  readonly action: 'publish' | 'rollback';
  /** The subgraph a publish changed; null for a rollback. */
  readonly subgraph: string | null;
  readonly summary: string;
  readonly supergraphSdl: string;
  readonly subgraphs: readonly SubgraphEntry[];
}

export type VersionSummary = Omit<VersionRecord, 'supergraphSdl' | 'subgraphs'>;

export interface UsageEntry {
  readonly coordinate: string;
  readonly operationHash: string;
  readonly operationName: string | null;
  readonly client: string | null;
  readonly count: number;
}

/**
 * The registry's storage. `append` is the only write of schema state, and it is a
 * compare-and-swap on the variant's version, so concurrent publishers (in one process or several
 * sharing the database) never lose an update.
 */
export interface RegistryStore {
  current(graph: string, variant: string): VersionRecord | null;
  version(graph: string, variant: string, version: number): VersionRecord | null;
  history(graph: string, variant: string, limit: number): VersionSummary[];
  append(
    graph: string,
    variant: string,
    expectedVersion: number,
    next: Omit<VersionRecord, 'version' | 'createdAt'>,
  ): { ok: true; version: number } | { ok: false; current: number };
  /**
   * Stores a client version's manifest, once: a client version never changes (`conflict` when it
   * exists with other operations; `unchanged` when with the same).
   */
  putManifest(
    graph: string,
    variant: string,
    m: { client: string; version: string; actor: string; operations: readonly PersistedOperation[] },
  ): 'published' | 'unchanged' | 'conflict';
  /** Every manifest of the variant, oldest first. */
  manifests(graph: string, variant: string): ManifestRecord[];
  /** Grows with every stored manifest (the gateways' ETag). */
  manifestRevision(graph: string, variant: string): number;
  recordUsage(graph: string, variant: string, day: string, entries: readonly UsageEntry[]): void;
  usageSince(graph: string, variant: string, sinceDay: string): UsageEntry[];
  /** Deletes usage recorded before `day`. */
  pruneUsage(beforeDay: string): void;
  close(): void;
}
