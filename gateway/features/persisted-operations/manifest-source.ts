import { readFileSync } from 'node:fs';
import { normalizeId, sha256Hex, type ManifestRecord } from '../../../supergraph/operations/manifest.ts';
import { RegistryClient, RegistryRequestError } from '../../../supergraph/registry/client.ts';
import { writeFileAtomic } from '../../../supergraph/write-file-atomic.ts';
import { LogThrottle } from '../../observability/log-throttle.ts';
import type { Logger } from '../../observability/log.ts';

export interface ManifestSourceSettings {
  readonly url: string;
  readonly graph: string;
  readonly variant: string;
  readonly token: string;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly cacheFile: string;
}

/** The published operations, indexed for one lookup per request. */
export class ManifestIndex {
  /** Normalized id → body. The registry refuses an id that two manifests map to different bodies. */
  private readonly byId = new Map<string, string>();
  /** SHA-256 of each body → body: APQ hashes and the allow-list's free-text check. */
  private readonly bySha = new Map<string, string>();
  readonly manifests: number;
  constructor(manifests: readonly ManifestRecord[]) {
    this.manifests = manifests.length;
    for (const m of manifests)
      for (const op of m.operations) {
        this.byId.set(normalizeId(op.id), op.body);
        this.bySha.set(sha256Hex(op.body), op.body);
      }
  }
  get operations(): number {
    return this.bySha.size;
  }
  /** A `documentId` (bare, or `sha256:<hex>`). */
  byDocumentId(id: string): string | null {
    return this.byId.get(normalizeId(id)) ?? null;
  }
  /** An APQ hash: a manifest id that is a SHA-256, or the SHA-256 of a body. */
  byHash(hash: string): string | null {
    return this.byId.get(hash) ?? this.bySha.get(hash) ?? null;
  }
  hasBodyHash(sha: string): boolean {
    return this.bySha.has(sha);
  }
}

/**
 * Follows the manifests published to a registry variant, as the registry supergraph source follows
 * the supergraph: polls with `If-None-Match` (unchanged: a 304), swaps in a new index on a change,
 * writes every loaded set to `cacheFile`, and starts from that copy when the registry is down.
 * Without either it starts empty and keeps polling: `allowList` then refuses free text until the
 * manifests arrive (closed, not open).
 */
export class RegistryManifestSource {
  index = new ManifestIndex([]);
  private etag: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private readonly client: RegistryClient;
  private readonly settings: ManifestSourceSettings;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle(60_000);

  constructor(settings: ManifestSourceSettings, log: Logger) {
    this.settings = settings;
    this.log = log;
    this.client = new RegistryClient(settings);
  }

  async start(): Promise<void> {
    try {
      await this.fetch();
    } catch (err) {
      const cached = this.readCache();
      if (cached) {
        this.index = new ManifestIndex(cached.manifests);
        this.etag = cached.etag;
        this.log.warn(
          { err: (err as Error).message, cacheFile: this.settings.cacheFile, operations: this.index.operations },
          'registry unreachable; serving the last operation manifests loaded',
        );
      } else {
        this.log.warn(
          { err: (err as Error).message, cacheFile: this.settings.cacheFile },
          'registry unreachable and no cached operation manifests; persisted documents are unknown until a poll succeeds',
        );
      }
    }
    this.schedule();
  }

  /** Polls now (tests, SIGHUP-like reloads); one poll at a time. */
  poll(): Promise<void> {
    return (this.polling ??= this.fetch()
      .catch((err: unknown) => {
        const code = err instanceof RegistryRequestError ? err.code : 'ERROR';
        const suppressed = this.throttle.take(code);
        if (suppressed !== null)
          this.log.warn(
            { code, err: (err as Error).message, suppressed, operations: this.index.operations },
            'operation manifest poll failed; still serving the ones loaded',
          );
      })
      .finally(() => {
        this.polling = null;
      }));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.poll().finally(() => {
        if (this.timer) this.schedule();
      });
    }, this.settings.pollIntervalMs);
    this.timer.unref();
  }

  private async fetch(): Promise<void> {
    const got = await this.client.operations(this.etag);
    if (!got) return;
    this.index = new ManifestIndex(got.manifests);
    this.etag = got.etag;
    this.log.info(
      { manifests: this.index.manifests, operations: this.index.operations, etag: got.etag },
      'operation manifests loaded from the registry',
    );
    try {
      writeFileAtomic(this.settings.cacheFile, JSON.stringify({ etag: got.etag, manifests: got.manifests }));
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, cacheFile: this.settings.cacheFile },
        'cannot write the operation manifest cache',
      );
    }
  }

  private readCache(): { etag: string | null; manifests: ManifestRecord[] } | null {
    try {
      const parsed = JSON.parse(readFileSync(this.settings.cacheFile, 'utf8')) as {
        etag?: unknown;
        manifests?: unknown;
      };
      if (!Array.isArray(parsed.manifests)) return null;
      return {
        etag: typeof parsed.etag === 'string' ? parsed.etag : null,
        manifests: parsed.manifests as ManifestRecord[],
      };
    } catch {
      return null;
    }
  }
}
