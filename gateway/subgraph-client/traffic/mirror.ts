import { isDeepStrictEqual } from 'node:util';
import { bodyOf, type ClientScope, type SubgraphReply, type SubgraphRequest } from '../fetch.ts';
import { createPool } from '../transport.ts';

export interface MirrorSettings {
  readonly url: string;
  readonly ratio: number;
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly compareResponses: boolean;
}

export type MirrorOutcome = 'same' | 'different' | 'status_mismatch' | 'sent' | 'failed' | 'dropped';

/**
 * Traffic shadowing for one subgraph: after a query fetch succeeded, a copy of what was sent goes
 * to the mirror on its own pool. `copy` only takes a snapshot of the headers and starts the
 * request; nothing is awaited on the caller's path, and a full mirror (`maxConcurrency` copies in
 * flight) drops the copy rather than queue it, so a slow or dead mirror costs the client nothing
 * and the gateway a bounded number of sockets and timers. The answer is read within
 * `maxResponseBytes`, compared as JSON (key order aside) with the real one, and dropped.
 */
export class Mirror {
  private inFlight = 0;
  private readonly settings: MirrorSettings;
  private readonly subgraph: string;
  private readonly pool;
  private readonly path: string;
  private readonly outcomes: Record<MirrorOutcome, { inc(): void }>;
  private readonly duration: { observe(v: number): void };

  constructor(settings: MirrorSettings, scope: ClientScope) {
    this.settings = settings;
    this.subgraph = scope.settings.name;
    this.pool = createPool({
      ...scope.settings,
      url: settings.url,
      pool: { ...scope.settings.pool, connections: settings.maxConcurrency },
      attemptTimeoutMs: settings.timeoutMs,
    });
    scope.onClose((force) => (force ? this.pool.destroy() : this.pool.close()));
    const url = new URL(settings.url);
    this.path = `${url.pathname}${url.search}`;
    const m = scope.metrics.traffic;
    const of = (outcome: MirrorOutcome) => m.mirrorRequests.labels({ subgraph: this.subgraph, outcome });
    this.outcomes = {
      same: of('same'),
      different: of('different'),
      status_mismatch: of('status_mismatch'),
      sent: of('sent'),
      failed: of('failed'),
      dropped: of('dropped'),
    };
    this.duration = m.mirrorDuration.labels({ subgraph: this.subgraph });
  }

  /** Called after the real answer arrived; returns at once. Queries only (the caller checks). */
  copy(request: SubgraphRequest, primary: SubgraphReply): void {
    if (this.settings.ratio < 1 && Math.random() >= this.settings.ratio) return;
    if (this.inFlight >= this.settings.maxConcurrency) {
      this.outcomes.dropped.inc();
      return;
    }
    this.inFlight++;
    const headers = { ...request.headers, 'x-tessera-mirror': '1' };
    const body = bodyOf(request);
    // Sent on a later turn of the event loop: the real answer goes on to the client first.
    setImmediate(() => void this.send(headers, body, primary).finally(() => this.inFlight--));
  }

  private async send(headers: Record<string, string>, body: string, primary: SubgraphReply): Promise<void> {
    const started = performance.now();
    let outcome: MirrorOutcome;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      const text = await res.body.text();
      if (res.statusCode !== primary.status) outcome = 'status_mismatch';
      else if (!this.settings.compareResponses) outcome = 'sent';
      else outcome = sameJson(text, primary.text) ? 'same' : 'different';
    } catch {
      outcome = 'failed';
    }
    this.duration.observe((performance.now() - started) / 1000);
    this.outcomes[outcome].inc();
  }
}

function sameJson(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b));
  } catch {
    return false;
  }
}
