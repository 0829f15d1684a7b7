import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ManifestRecord, PersistedOperation } from '../operations/manifest.ts';
import type { RegistryStore, UsageEntry, VersionRecord, VersionSummary } from './store.ts';

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a publish that was
 * acknowledged survives `kill -9` (and power loss), and a crash mid-write leaves the previous
 * state: every change is one transaction.
 */
export class SqliteStore implements RegistryStore {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new DatabaseSync(file);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS variants (
        graph TEXT NOT NULL, variant TEXT NOT NULL, version INTEGER NOT NULL,
        PRIMARY KEY (graph, variant));
      CREATE TABLE IF NOT EXISTS versions (
        graph TEXT NOT NULL, variant TEXT NOT NULL, version INTEGER NOT NULL,
        created_at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subgraph TEXT,
        summary TEXT NOT NULL, supergraph_sdl TEXT NOT NULL, subgraphs_json TEXT NOT NULL,
        PRIMARY KEY (graph, variant, version));
      CREATE TABLE IF NOT EXISTS usage (
        graph TEXT NOT NULL, variant TEXT NOT NULL, day TEXT NOT NULL, coordinate TEXT NOT NULL,
        operation_hash TEXT NOT NULL, operation_name TEXT, client TEXT NOT NULL DEFAULT '', count INTEGER NOT NULL,
        PRIMARY KEY (graph, variant, day, coordinate, operation_hash, client));
      CREATE TABLE IF NOT EXISTS manifests (
        graph TEXT NOT NULL, variant TEXT NOT NULL, client TEXT NOT NULL, client_version TEXT NOT NULL,
        created_at TEXT NOT NULL, actor TEXT NOT NULL, operations_json TEXT NOT NULL,
        PRIMARY KEY (graph, variant, client, client_version));
    `);
  }

  current(graph: string, variant: string): VersionRecord | null {
    const row = this.db.prepare('SELECT version FROM variants WHERE graph = ? AND variant = ?').get(graph, variant) as
      { version: number } | undefined;
    return row ? this.version(graph, variant, row.version) : null;
  }

  version(graph: string, variant: string, version: number): VersionRecord | null {
    const r = this.db
      .prepare('SELECT * FROM versions WHERE graph = ? AND variant = ? AND version = ?')
      .get(graph, variant, version) as Record<string, string | number> | undefined;
    if (!r) return null;
    return {
      ...summary(r),
      supergraphSdl: String(r['supergraph_sdl']),
      subgraphs: JSON.parse(String(r['subgraphs_json'])),
    };
  }

  history(graph: string, variant: string, limit: number): VersionSummary[] {
    const rows = this.db
      .prepare(
        'SELECT version, created_at, actor, action, subgraph, summary FROM versions WHERE graph = ? AND variant = ? ORDER BY version DESC LIMIT ?',
      )
      .all(graph, variant, limit) as Array<Record<string, string | number>>;
    return rows.map(summary);
  }

  append(
    graph: string,
    variant: string,
    expectedVersion: number,
    next: Omit<VersionRecord, 'version' | 'createdAt'>,
  ): { ok: true; version: number } | { ok: false; current: number } {
    // IMMEDIATE takes the write lock before reading, so the compare and the swap are one step.
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const row = this.db
        .prepare('SELECT version FROM variants WHERE graph = ? AND variant = ?')
        .get(graph, variant) as { version: number } | undefined;
      const current = row?.version ?? 0;
      if (current !== expectedVersion) {
        this.db.exec('ROLLBACK');
        return { ok: false, current };
      }
      const version = current + 1;
      this.db
        .prepare(
          'INSERT INTO versions (graph, variant, version, created_at, actor, action, subgraph, summary, supergraph_sdl, subgraphs_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          graph,
          variant,
          version,
          new Date().toISOString(),
          next.actor,
          next.action,
          next.subgraph,
          next.summary,
          next.supergraphSdl,
          JSON.stringify(next.subgraphs),
        );
      this.db
        .prepare(
          'INSERT INTO variants (graph, variant, version) VALUES (?, ?, ?) ON CONFLICT (graph, variant) DO UPDATE SET version = excluded.version',
        )
        .run(graph, variant, version);
      this.db.exec('COMMIT');
      return { ok: true, version };
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  putManifest(
    graph: string,
    variant: string,
    m: { client: string; version: string; actor: string; operations: readonly PersistedOperation[] },
  ): 'published' | 'unchanged' | 'conflict' {
    const json = JSON.stringify(m.operations);
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const row = this.db
        .prepare(
          'SELECT operations_json FROM manifests WHERE graph = ? AND variant = ? AND client = ? AND client_version = ?',
        )
        .get(graph, variant, m.client, m.version) as { operations_json: string } | undefined;
      if (row) {
        this.db.exec('ROLLBACK');
        return row.operations_json === json ? 'unchanged' : 'conflict';
      }
      this.db
        .prepare(
          'INSERT INTO manifests (graph, variant, client, client_version, created_at, actor, operations_json) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(graph, variant, m.client, m.version, new Date().toISOString(), m.actor, json);
      this.db.exec('COMMIT');
      return 'published';
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  manifests(graph: string, variant: string): ManifestRecord[] {
    const rows = this.db
      .prepare(
        'SELECT client, client_version, created_at, operations_json FROM manifests WHERE graph = ? AND variant = ? ORDER BY rowid',
      )
      .all(graph, variant) as Array<Record<string, string>>;
    return rows.map((r) => ({
      client: String(r['client']),
      version: String(r['client_version']),
      createdAt: String(r['created_at']),
      operations: JSON.parse(String(r['operations_json'])) as PersistedOperation[],
    }));
  }

  manifestRevision(graph: string, variant: string): number {
    const row = this.db
      .prepare('SELECT COUNT(*) AS n FROM manifests WHERE graph = ? AND variant = ?')
      .get(graph, variant) as { n: number };
    return Number(row.n);
  }

  recordUsage(graph: string, variant: string, day: string, entries: readonly UsageEntry[]): void {
    const stmt = this.db.prepare(
      `INSERT INTO usage (graph, variant, day, coordinate, operation_hash, operation_name, client, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (graph, variant, day, coordinate, operation_hash, client) DO UPDATE SET count = count + excluded.count`,
    );
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const e of entries)
        stmt.run(graph, variant, day, e.coordinate, e.operationHash, e.operationName, e.client ?? '', e.count);
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  usageSince(graph: string, variant: string, sinceDay: string): UsageEntry[] {
    const rows = this.db
      .prepare(
        'SELECT coordinate, operation_hash, operation_name, client, SUM(count) AS count FROM usage WHERE graph = ? AND variant = ? AND day >= ? GROUP BY coordinate, operation_hash, operation_name, client',
      )
      .all(graph, variant, sinceDay) as Array<Record<string, string | number | null>>;
    return rows.map((r) => ({
      coordinate: String(r['coordinate']),
      operationHash: String(r['operation_hash']),
      operationName: (r['operation_name'] as string | null) ?? null,
      client: r['client'] ? String(r['client']) : null,
      count: Number(r['count']),
    }));
  }

  pruneUsage(beforeDay: string): void {
    this.db.prepare('DELETE FROM usage WHERE day < ?').run(beforeDay);
  }

  close(): void {
    this.db.close();
  }
}

function summary(r: Record<string, string | number | null>): VersionSummary {
  return {
    version: Number(r['version']),
    createdAt: String(r['created_at']),
    actor: String(r['actor']),
    action: r['action'] as 'publish' | 'rollback',
    subgraph: (r['subgraph'] as string | null) ?? null,
    summary: String(r['summary']),
  };
}
