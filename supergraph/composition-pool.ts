import { fork, type ChildProcess } from 'node:child_process';
import type { CheckInput, CheckReport } from './check.ts';
import type { CompositionProblem, SubgraphSdl } from './compose.ts';
import type { OperationProblem, PersistedOperation } from './operations/manifest.ts';

export type CompositionTask =
  | { kind: 'compose'; subgraphs: readonly SubgraphSdl[] }
  | { kind: 'check'; input: CheckInput }
  | { kind: 'validateOperations'; subgraphs: readonly SubgraphSdl[]; operations: readonly PersistedOperation[] };
export type ComposeOutcome =
  { ok: true; supergraphSdl: string; hints: CompositionProblem[] } | { ok: false; errors: CompositionProblem[] };
export type WorkerReply = { ok: true; result: unknown } | { ok: false; error: string };

/** A composition stopped by a limit: its worker was killed, and nothing it would have changed did. */
export class CompositionAbortedError extends Error {
  readonly reason: 'timeout' | 'memory';
  constructor(reason: 'timeout' | 'memory', message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface CompositionPoolOptions {
  /** Workers composing at once; more tasks wait in line. */
  readonly workers: number;
  /** Per task, from the moment a worker starts it (waiting in line is not counted). */
  readonly timeoutMs: number;
  /** The old-generation heap of each worker process (`--max-old-space-size`). */
  readonly maxHeapMb: number;
}

interface Job {
  readonly task: CompositionTask;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: ChildProcess;
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  /** The end of the worker's stderr: V8 writes why it aborted there (`heap out of memory`). */
  stderr: string;
}

/**
 * Federation composition is synchronous and, for a large schema, takes seconds and gigabytes: run
 * on the event loop, it stalls every other request of the process. Here it runs in worker
 * processes (`composition-worker.ts`, forked with an IPC channel).
 *
 * Processes, not worker threads: a worker thread's `resourceLimits` heap cap is best effort, and a
 * large SDL regularly brought the whole registry down with V8's fatal "Reached heap limit" abort
 * instead of `ERR_WORKER_OUT_OF_MEMORY` (nodejs/node#47224). A process's heap limit
 * (`--max-old-space-size`) aborts only that process, which the pool sees as an exit and answers
 * with `COMPOSITION_OUT_OF_MEMORY`.
 *
 * A small pool of long-lived workers rather than one per composition: a worker spends a few hundred
 * ms starting and loading @apollo/composition, which a burst of publishes would pay again and
 * again, while the pool pays it once and caps how many compositions (each up to `maxHeapMb` of
 * heap) run at once. A worker that times out or runs out of memory is killed, which is the only way
 * to stop a synchronous composition, and replaced when next needed. An idle worker is let go after
 * a minute, so the memory a large composition grew is returned between publishes, which are rare.
 */
export class CompositionPool {
  private readonly opts: CompositionPoolOptions;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private readonly idleTimers = new Map<Slot, NodeJS.Timeout>();
  private closed = false;

  constructor(opts: CompositionPoolOptions) {
    this.opts = opts;
  }

  compose(subgraphs: readonly SubgraphSdl[]): Promise<ComposeOutcome> {
    return this.run({ kind: 'compose', subgraphs }) as Promise<ComposeOutcome>;
  }

  check(input: CheckInput): Promise<CheckReport> {
    return this.run({ kind: 'check', input }) as Promise<CheckReport>;
  }

  /** Composes the subgraphs and validates each operation against the API schema (a manifest publish). */
  validateOperations(
    subgraphs: readonly SubgraphSdl[],
    operations: readonly PersistedOperation[],
  ): Promise<OperationProblem[]> {
    return this.run({ kind: 'validateOperations', subgraphs, operations }) as Promise<OperationProblem[]>;
  }

  /** Tasks in line or running. */
  get pending(): number {
    return this.queue.length + [...this.slots].filter((s) => s.job).length;
  }

  /** Terminates every worker; tasks still in line or running are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const gone = new Error('the composition pool is closed');
    for (const job of this.queue.splice(0)) job.reject(gone);
    await Promise.all([...this.slots].map((s) => this.retire(s, gone)));
  }

  private run(task: CompositionTask): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the composition pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const idle = [...this.slots].find((s) => s.ready && !s.job);
      if (!idle) break;
      this.start(idle, this.queue.shift()!);
    }
    const starting = [...this.slots].filter((s) => !s.ready).length;
    for (let n = starting; n < this.queue.length && this.slots.size < this.opts.workers; n++) this.spawn();
  }

  private start(slot: Slot, job: Job): void {
    const idle = this.idleTimers.get(slot);
    if (idle) clearTimeout(idle);
    this.idleTimers.delete(slot);
    slot.job = job;
    slot.timer = setTimeout(() => {
      void this.retire(
        slot,
        new CompositionAbortedError('timeout', `composition did not finish within ${this.opts.timeoutMs} ms`),
      );
    }, this.opts.timeoutMs);
    slot.worker.send(job.task);
  }

  private spawn(): void {
    // The built package ships .js (tsc rewrites imports, not this URL): the worker has this file's extension.
    const entry = new URL(
      `./composition-worker${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`,
      import.meta.url,
    );
    const worker = fork(entry, [], {
      execArgv: [`--max-old-space-size=${this.opts.maxHeapMb}`],
      // Structured clone, as worker messages were: results are plain data, but large.
      serialization: 'advanced',
      // Worker output would interleave with the registry's JSON log lines; stderr is kept for why it died.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const slot: Slot = { worker, ready: false, job: null, timer: null, stderr: '' };
    this.slots.add(slot);
    worker.stderr!.setEncoding('utf8');
    worker.stderr!.on('data', (chunk: string) => {
      slot.stderr = (slot.stderr + chunk).slice(-4096);
    });
    worker.on('message', (msg: 'ready' | WorkerReply) => {
      if (msg === 'ready') {
        slot.ready = true;
        this.dispatch();
        return;
      }
      const job = slot.job;
      if (!job) return;
      clearTimeout(slot.timer!);
      slot.job = null;
      if (msg.ok) job.resolve(msg.result);
      else job.reject(new Error(`composition worker failed: ${msg.error}`));
      this.dispatch();
      if (!slot.job) this.idleTimers.set(slot, setTimeout(() => void this.retire(slot, null), IDLE_WORKER_MS).unref());
    });
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      if (!this.slots.has(slot)) return;
      const failure = /heap out of memory|Reached heap limit/.test(slot.stderr)
        ? new CompositionAbortedError(
            'memory',
            `composition ran out of memory (a worker's heap is limited to ${this.opts.maxHeapMb} MB)`,
          )
        : new Error(
            `composition worker exited with ${signal ?? `code ${code}`}${slot.stderr ? `: ${slot.stderr.slice(-1000)}` : ''}`,
          );
      this.forget(slot);
      if (slot.job) slot.job.reject(failure);
      else if (!slot.ready) {
        // It died while loading: the next one would too. Fail what waits rather than respawn forever.
        for (const job of this.queue.splice(0)) job.reject(failure);
      }
      this.dispatch();
    };
    worker.on('exit', ended);
    // A process that could not be started may never emit `exit`; a running one's errors (a failed
    // send) are followed by its exit or answered by the task's timeout.
    worker.on('error', (err) => {
      if (worker.pid !== undefined) return;
      slot.stderr += err.message;
      ended(null, null);
    });
  }

  /** Stops a worker; its running task (if any) fails with `reason`. */
  private async retire(slot: Slot, reason: Error | null): Promise<void> {
    if (!this.slots.has(slot)) return;
    this.forget(slot);
    if (slot.job && reason) slot.job.reject(reason);
    slot.job = null;
    const worker = slot.worker;
    if (worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGKILL');
      await exited;
    }
    if (!this.closed) this.dispatch();
  }

  private forget(slot: Slot): void {
    this.slots.delete(slot);
    if (slot.timer) clearTimeout(slot.timer);
    const idle = this.idleTimers.get(slot);
    if (idle) clearTimeout(idle);
    this.idleTimers.delete(slot);
  }
}

/** How long an idle worker is kept warm for the next publish before its memory is given back. */
const IDLE_WORKER_MS = 60_000;
