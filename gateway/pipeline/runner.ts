import { traceSlot } from '../observability/tracing.ts';
import { internalFailure } from '../subgraph-client/classify-failure.ts';
import type { FetchLayer, SubgraphAnswer, SubgraphFetch } from '../subgraph-client/fetch.ts';
import type {
  GatewayPlugin,
  OperationDone,
  OperationPhase,
  ParamsPhase,
  RequestPhase,
  ResponsePhase,
  SchemaPhase,
} from './plugin.ts';

/** Where hook durations go: `tessera_policy_duration_seconds{policy, phase}` (observability/metrics.ts). */
export interface HookTiming {
  labels(labels: { policy: string; phase: string }): { observe(seconds: number): void };
}

/**
 * Runs the plugins' hooks in series, in the order of the one list (plugins.ts), stopping a phase
 * at the first throw. Each hook call is timed into one histogram, so no plugin writes timing code.
 * Envelop's orchestrator is the model; Apollo's parallel `didResolveOperation` is what it replaces.
 */
export class PipelineRunner {
  readonly plugins: readonly GatewayPlugin[];
  private readonly schemaHooks: GatewayPlugin[];
  private readonly paramsHooks: GatewayPlugin[];
  private readonly requestHooks: GatewayPlugin[];
  private readonly operationHooks: GatewayPlugin[];
  private readonly responseHooks: GatewayPlugin[];
  private readonly fetchWrappers: GatewayPlugin[];
  private readonly timing: HookTiming;
  private readonly timers = new Map<string, { observe(v: number): void }>();

  constructor(plugins: readonly GatewayPlugin[], timing: HookTiming) {
    this.plugins = plugins;
    this.timing = timing;
    this.schemaHooks = plugins.filter((p) => p.onSchema);
    this.paramsHooks = plugins.filter((p) => p.onParams);
    this.requestHooks = plugins.filter((p) => p.onRequest);
    this.operationHooks = plugins.filter((p) => p.onOperation);
    this.responseHooks = plugins.filter((p) => p.onResponse);
    this.fetchWrappers = plugins.filter((p) => p.wrapSubgraphFetch);
  }

  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  /** In order, each awaited; the first throw rejects, naming the plugin. */
  async onSchema(schema: SchemaPhase): Promise<void> {
    for (const p of this.schemaHooks) {
      try {
        await p.onSchema!(schema);
      } catch (err) {
        throw new Error(`plugin "${p.name}" failed in onSchema: ${(err as Error)?.message ?? String(err)}`, {
          cause: err,
        });
      }
    }
  }

  /** Whether any plugin reads the parameters before the engine (the pipeline skips the phase when none does). */
  get hasParamsHooks(): boolean {
    return this.paramsHooks.length > 0;
  }

  async onParams(req: ParamsPhase): Promise<void> {
    for (const p of this.paramsHooks) {
      const t0 = performance.now();
      try {
        await p.onParams!(req);
      } finally {
        this.time(p.name, 'params', t0);
      }
    }
  }

  async onRequest(req: RequestPhase): Promise<void> {
    const trace = req.get(traceSlot);
    for (const p of this.requestHooks) {
      const t0 = performance.now();
      // One span per hook when the request is traced: `policy auth`, `policy rate-limit`…
      const span = trace?.span(`policy ${p.name}`, { 'tessera.plugin.phase': 'request' });
      try {
        await p.onRequest!(req);
        span?.end();
      } catch (err) {
        span?.end(err);
        throw err;
      } finally {
        this.time(p.name, 'request', t0);
      }
    }
  }

  /** Returns the done-callbacks, in plugin order. */
  async onOperation(op: OperationPhase): Promise<OperationDone[] | null> {
    let done: OperationDone[] | null = null;
    const trace = op.get(traceSlot);
    for (const p of this.operationHooks) {
      const t0 = performance.now();
      const span = trace?.span(`policy ${p.name}`, { 'tessera.plugin.phase': 'operation' });
      let d: void | OperationDone;
      try {
        d = await p.onOperation!(op);
        span?.end();
      } catch (err) {
        span?.end(err);
        this.time(p.name, 'operation', t0);
        await this.onRefused(p, op, err);
        throw err;
      }
      this.time(p.name, 'operation', t0);
      if (d) (done ??= []).push(d);
    }
    return done;
  }

  /** Tells the plugins after `refuser` that it refused; nothing they do replaces its error. */
  private async onRefused(refuser: GatewayPlugin, op: OperationPhase, error: unknown): Promise<void> {
    for (const p of this.plugins.slice(this.plugins.indexOf(refuser) + 1)) {
      if (!p.onRefused) continue;
      const t0 = performance.now();
      try {
        await p.onRefused(op, error);
      } catch (err) {
        op.log.error(
          { requestId: op.requestId, policy: p.name, err },
          'onRefused hook failed; the original refusal stands',
        );
      } finally {
        this.time(p.name, 'refused', t0);
      }
    }
  }

  /** Every plugin's onResponse, in order; a throw is logged and the next one still runs. */
  async onResponse(res: ResponsePhase): Promise<void> {
    for (const p of this.responseHooks) {
      const t0 = performance.now();
      try {
        await p.onResponse!(res);
      } catch (err) {
        res.log.error(
          { requestId: res.requestId, plugin: p.name, err: (err as Error)?.stack ?? String(err) },
          'onResponse hook failed; the response is sent as it is',
        );
      } finally {
        this.time(p.name, 'response', t0);
      }
    }
  }

  /**
   * One subgraph-client layer per plugin with a `wrapSubgraphFetch`, in list order (the first is
   * outermost). Each layer turns a throw of its plugin into that subgraph's failure, so it never
   * escapes into the engine; a plugin that throws while wrapping fails every fetch of that client
   * (closed, not open: skipping a wrap could skip a security step, e.g. auth's claim headers).
   */
  fetchLayers(): FetchLayer[] {
    return this.fetchWrappers.map((p): FetchLayer => (next, scope) => {
      const subgraph = scope.settings.name;
      const contained = (err: unknown): SubgraphAnswer => ({
        ok: false,
        failure: internalFailure(subgraph, `plugin "${p.name}" wrapSubgraphFetch`, err),
      });
      let fetch: SubgraphFetch;
      try {
        fetch = p.wrapSubgraphFetch!(next, { name: subgraph });
      } catch (err) {
        return async () => contained(err);
      }
      return async (request) => {
        try {
          return await fetch(request);
        } catch (err) {
          return contained(err);
        }
      };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.plugins.map((p) => p.close?.()));
  }

  private time(plugin: string, phase: string, t0: number): void {
    const key = `${plugin} ${phase}`;
    let h = this.timers.get(key);
    if (!h) this.timers.set(key, (h = this.timing.labels({ policy: plugin, phase })));
    h.observe((performance.now() - t0) / 1000);
  }
}
