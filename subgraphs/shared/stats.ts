/** What a subgraph served; exposed at GET /_stats so tests can assert what reached each service. */
export interface ReceivedRequest {
  readonly operationName: string | null;
  readonly query: string;
  readonly variables: Record<string, unknown> | null;
  readonly headers: Record<string, string>;
  /** performance.now() at arrival: orders requests across subgraphs sharing a process. */
  readonly at: number;
}

export class SubgraphStats {
  requests = 0;
  entityCalls = 0;
  entityKeys = 0;
  batches: Record<string, { calls: number; keys: number }> = {};
  received: ReceivedRequest[] = [];
  /** Recording bodies is for tests and for capturing the benchmark's direct plan. */
  recording: boolean;
  private readonly keepBodies: number;
  constructor(keepBodies: number) {
    this.keepBodies = keepBodies;
    this.recording = keepBodies > 0;
  }

  recordRequest(req: ReceivedRequest): void {
    this.requests++;
    const reps = req.variables?.['representations'];
    if (Array.isArray(reps)) {
      this.entityCalls++;
      this.entityKeys += reps.length;
    }
    if (this.recording) {
      this.received.push(req);
      if (this.received.length > this.keepBodies) this.received.shift();
    }
  }

  recordBatch(name: string, keys: number): void {
    const b = (this.batches[name] ??= { calls: 0, keys: 0 });
    b.calls++;
    b.keys += keys;
  }

  reset(): void {
    this.requests = 0;
    this.entityCalls = 0;
    this.entityKeys = 0;
    this.batches = {};
    this.received = [];
  }

  toJSON() {
    return {
      requests: this.requests,
      entityCalls: this.entityCalls,
      entityKeys: this.entityKeys,
      batches: this.batches,
      received: this.received,
    };
  }
}
