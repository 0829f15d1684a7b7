import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../observability/log.ts';
import type { SupergraphSource } from './source.ts';

export type ReloadOutcome =
  | { status: 'reloaded'; generation: number; hash: string }
  | { status: 'unchanged'; generation: number; hash: string }
  | { status: 'rejected'; generation: number; reason: string };

type UpdateFn = (sdl: string) => void;

/**
 * Serves the supergraph from a file and swaps it when the file changes. Each accepted SDL is a
 * new generation: requests already running keep their plan, and the subgraph clients they may
 * still use stay open until they finish (generations.ts). A file that does not build is
 * rejected and the current generation keeps serving.
 */
export class FileSupergraphSource implements SupergraphSource {
  private update: UpdateFn | null = null;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private hash = '';
  generation = 0;

  private readonly file: string;
  private readonly opts: { watch: boolean; debounceMs: number; log: Logger; onReload?: (o: ReloadOutcome) => void };

  constructor(
    file: string,
    opts: { watch: boolean; debounceMs: number; log: Logger; onReload?: (o: ReloadOutcome) => void },
  ) {
    this.file = file;
    this.opts = opts;
  }

  async initialize({ update }: { update: UpdateFn }): Promise<{ supergraphSdl: string; cleanup: () => Promise<void> }> {
    const sdl = await this.read();
    this.update = update;
    this.hash = sha(sdl);
    this.generation = 1;
    if (this.opts.watch) this.startWatching();
    return { supergraphSdl: sdl, cleanup: async () => this.stop() };
  }

  /** Re-reads the file now (SIGHUP, tests). Calls are serialized, so two reloads never interleave. */
  reload(reason = 'manual'): Promise<ReloadOutcome> {
    const next = this.chain.then(() => this.doReload(reason));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async doReload(reason: string): Promise<ReloadOutcome> {
    const log = this.opts.log;
    let outcome: ReloadOutcome;
    try {
      if (!this.update) throw new Error('supergraph source is not initialized');
      const sdl = await this.read();
      const hash = sha(sdl);
      if (hash === this.hash) {
        outcome = { status: 'unchanged', generation: this.generation, hash };
      } else {
        this.update(sdl); // throws, leaving the gateway on its current schema, if the SDL does not build
        this.hash = hash;
        this.generation++;
        outcome = { status: 'reloaded', generation: this.generation, hash };
        log.info(
          { reason, generation: this.generation, hash: hash.slice(0, 12), file: this.file },
          'supergraph reloaded',
        );
      }
    } catch (err) {
      outcome = {
        status: 'rejected',
        generation: this.generation,
        reason: (err as Error).message.split('\n')[0] ?? 'unknown',
      };
      log.error(
        { code: 'SUPERGRAPH_INVALID', reason, file: this.file, err: outcome.reason, generation: this.generation },
        'supergraph update rejected; still serving the previous generation',
      );
    }
    this.opts.onReload?.(outcome);
    return outcome;
  }

  private async read(): Promise<string> {
    let sdl: string;
    try {
      sdl = await readFile(this.file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read supergraph file ${this.file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    if (!sdl.trim()) throw new Error(`supergraph file ${this.file} is empty`);
    return sdl;
  }

  /** Watches the directory, not the file: `tessera compose` and editors replace the file by rename. */
  private startWatching(): void {
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload('file changed'), this.opts.debounceMs);
    });
    this.watcher.on('error', (err) =>
      this.opts.log.error({ err: err.message, file: this.file }, 'supergraph watcher failed; SIGHUP still reloads'),
    );
  }

  stop(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = null;
  }
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
