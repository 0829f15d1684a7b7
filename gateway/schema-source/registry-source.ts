import { readFileSync } from 'node:fs';
import { RegistryClient, RegistryRequestError } from '../../supergraph/registry/client.ts';
import { writeFileAtomic } from '../../supergraph/write-file-atomic.ts';
import type { Logger } from '../observability/log.ts';
import { LogThrottle } from '../observability/log-throttle.ts';
import type { ReloadOutcome } from './file-source.ts';
import type { SupergraphSource } from './source.ts';

export interface RegistrySourceSettings {
  readonly url: string;
  readonly graph: string;
  readonly variant: string;
  readonly token: string;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  /** The last good supergraph, kept so the gateway can start while the registry is down. */
  readonly cacheFile: string;
}

/**
 * Serves the supergraph a registry variant holds. Polls with `If-None-Match`, so an unchanged
 * variant costs a 304; a new version goes through the same `update` path as a file reload
 * (draining generations: in-flight requests finish on the plan they started with). Every
 * accepted version is written to `cacheFile`, and start-up falls back to that copy when the
 * registry cannot be reached.
 */
export class RegistrySupergraphSource implements SupergraphSource {
  generation = 0;
  /** The registry version being served (null: started from the cache with an unknown version). */
  version: number | null = null;
  private etag: string | null = null;
  private update: ((sdl: string) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly client: RegistryClient;
  private readonly settings: RegistrySourceSettings;
  private readonly opts: { log: Logger; onReload?: (o: ReloadOutcome & { version: number | null }) => void };
  private readonly throttle = new LogThrottle(60_000);

  constructor(
    settings: RegistrySourceSettings,
    opts: { log: Logger; onReload?: (o: ReloadOutcome & { version: number | null }) => void },
  ) {
    this.settings = settings;
    this.opts = opts;
    this.client = new RegistryClient(settings);
  }

  async initialize({
    update,
  }: {
    update: (sdl: string) => void;
  }): Promise<{ supergraphSdl: string; cleanup: () => Promise<void> }> {
    this.update = update;
    let sdl: string;
    try {
      const got = (await this.client.supergraph())!;
      sdl = got.sdl;
      this.etag = got.etag;
      this.version = got.version;
      this.writeCache(got.sdl, got.version, got.etag);
    } catch (err) {
      const cached = this.readCache();
      if (!cached)
        throw new Error(
          `registry unreachable (${(err as Error).message}) and no last good supergraph at ${this.settings.cacheFile}`,
        );
      this.opts.log.warn(
        { err: (err as Error).message, cacheFile: this.settings.cacheFile, version: cached.version },
        'registry unreachable; starting from the last good supergraph',
      );
      sdl = cached.sdl;
      this.version = cached.version;
      this.etag = cached.etag;
    }
    this.generation = 1;
    this.schedule();
    return { supergraphSdl: sdl, cleanup: async () => this.stop() };
  }

  /** Polls now (SIGHUP, tests); serialized with the timer's polls. */
  reload(reason = 'manual'): Promise<ReloadOutcome & { version: number | null }> {
    const next = this.chain.then(() => this.poll(reason));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.reload('poll').finally(() => {
        if (this.timer) this.schedule();
      });
    }, this.settings.pollIntervalMs);
  }

  private async poll(reason: string): Promise<ReloadOutcome & { version: number | null }> {
    const log = this.opts.log;
    let outcome: ReloadOutcome & { version: number | null };
    try {
      const got = await this.client.supergraph(this.etag);
      if (!got) {
        outcome = { status: 'unchanged', generation: this.generation, hash: this.etag ?? '', version: this.version };
      } else {
        this.update!(got.sdl); // throws, leaving the current generation, if it does not build
        this.etag = got.etag;
        this.version = got.version;
        this.generation++;
        this.writeCache(got.sdl, got.version, got.etag);
        outcome = { status: 'reloaded', generation: this.generation, hash: got.etag ?? '', version: got.version };
        log.info(
          {
            reason,
            generation: this.generation,
            version: got.version,
            graph: this.settings.graph,
            variant: this.settings.variant,
          },
          'supergraph reloaded from the registry',
        );
      }
    } catch (err) {
      outcome = {
        status: 'rejected',
        generation: this.generation,
        reason: (err as Error).message.split('\n')[0] ?? 'unknown',
        version: this.version,
      };
      if (err instanceof RegistryRequestError) {
        const suppressed = this.throttle.take(err.code);
        if (suppressed !== null)
          log.warn(
            { code: err.code, err: err.message, suppressed, version: this.version },
            'registry poll failed; still serving the current supergraph',
          );
      } else {
        log.error(
          { code: 'SUPERGRAPH_INVALID', err: outcome.reason, generation: this.generation },
          'supergraph from the registry rejected; still serving the previous generation',
        );
      }
    }
    this.opts.onReload?.(outcome);
    return outcome;
  }

  private writeCache(sdl: string, version: number, etag: string | null): void {
    try {
      writeFileAtomic(
        this.settings.cacheFile,
        `# tessera-registry ${JSON.stringify({ version, etag, graph: this.settings.graph, variant: this.settings.variant })}\n${sdl}`,
      );
    } catch (err) {
      this.opts.log.warn(
        { err: (err as Error).message, cacheFile: this.settings.cacheFile },
        'cannot write the last good supergraph',
      );
    }
  }

  private readCache(): { sdl: string; version: number | null; etag: string | null } | null {
    try {
      const text = readFileSync(this.settings.cacheFile, 'utf8');
      const nl = text.indexOf('\n');
      const meta = text.startsWith('# tessera-registry ')
        ? (JSON.parse(text.slice(19, nl)) as { version?: number; etag?: string })
        : {};
      return {
        sdl: text.startsWith('# tessera-registry ') ? text.slice(nl + 1) : text,
        version: meta.version ?? null,
        etag: meta.etag ?? null,
      };
    } catch {
      return null;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
