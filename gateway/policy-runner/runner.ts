import type { IncomingHttpHeaders } from 'node:http';
import type { Redis } from 'ioredis';
import { anonymous, type Identity, type OperationDone, type OperationPhase, type Policy, type PolicyDeps, type PolicyFunction, type RequestPhase, type SchemaPhase, type SubgraphPhase } from '../../policies/policy.ts';
import { policyModules } from '../../policies/registry.ts';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';

/** The per-request state every policy phase shares; lives on the Apollo context. */
export class RequestState implements RequestPhase {
  identity: Identity = anonymous;
  /** Headers policies asked for; the HTTP layer writes them whatever the outcome. */
  responseHeaders: Array<[string, string]> | null = null;
  readonly requestId: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
  readonly log: Logger;
  constructor(requestId: string, headers: IncomingHttpHeaders, remoteAddress: string, log: Logger) {
    this.requestId = requestId;
    this.headers = headers;
    this.remoteAddress = remoteAddress;
    this.log = log;
  }
  setResponseHeader(name: string, value: string): void {
    (this.responseHeaders ??= []).push([name.toLowerCase(), value]);
  }
}

/**
 * Runs the configured policies in series, in the order of policies/registry.ts, stopping at the
 * first throw. Each hook call is timed into one histogram, so no policy writes timing code.
 */
export class PolicyRunner {
  private readonly requestHooks: Policy[];
  private readonly operationHooks: Policy[];
  private readonly subgraphHooks: Policy[];
  private readonly timers = new Map<string, { observe(v: number): void }>();

  private readonly policies: readonly Policy[];
  private readonly metrics: Metrics;

  private constructor(policies: readonly Policy[], metrics: Metrics) {
    this.policies = policies;
    this.metrics = metrics;
    this.requestHooks = policies.filter((p) => p.onRequest);
    this.operationHooks = policies.filter((p) => p.onOperation);
    this.subgraphHooks = policies.filter((p) => p.onSubgraphRequest);
  }

  static async create(config: Config, deps: { log: Logger; metrics: Metrics; redis: Redis | null; baseDir: string; policyFunctions?: Record<string, PolicyFunction> }): Promise<PolicyRunner> {
    const policyDeps: PolicyDeps = {
      log: deps.log,
      redis: deps.redis,
      baseDir: deps.baseDir,
      policyFunctions: deps.policyFunctions ?? {},
      metrics: deps.metrics.forPolicies(),
    };
    const policies: Policy[] = [];
    const section = config.policies as Record<string, unknown>;
    for (const mod of policyModules) {
      const c = section[mod.key];
      if (c === undefined) continue;
      try {
        policies.push(await mod.create(c, policyDeps));
      } catch (err) {
        await Promise.allSettled(policies.map((p) => p.close?.()));
        throw new ConfigError('config', [`policies.${mod.key}: ${(err as Error).message}`]);
      }
    }
    return new PolicyRunner(policies, deps.metrics);
  }

  get names(): string[] {
    return this.policies.map((p) => p.name);
  }

  get hasOperationHooks(): boolean {
    return this.operationHooks.length > 0;
  }

  onSchema(schema: SchemaPhase): void {
    for (const p of this.policies) p.onSchema?.(schema);
  }

  async onRequest(req: RequestPhase): Promise<void> {
    for (const p of this.requestHooks) {
      const t0 = performance.now();
      try {
        await p.onRequest!(req);
      } finally {
        this.time(p.name, 'request', t0);
      }
    }
  }

  /** Returns the after-callbacks, in policy order. */
  async onOperation(op: OperationPhase): Promise<OperationDone[] | null> {
    let done: OperationDone[] | null = null;
    for (const p of this.operationHooks) {
      const t0 = performance.now();
      let d: void | OperationDone;
      try {
        d = await p.onOperation!(op);
      } catch (err) {
        this.time(p.name, 'operation', t0);
        await this.onRefused(p, op, err);
        throw err;
      }
      this.time(p.name, 'operation', t0);
      if (d) (done ??= []).push(d);
    }
    return done;
  }

  /** Tells the policies after `refuser` that it refused; nothing they do replaces its error. */
  private async onRefused(refuser: Policy, op: OperationPhase, error: unknown): Promise<void> {
    for (const p of this.policies.slice(this.policies.indexOf(refuser) + 1)) {
      if (!p.onRefused) continue;
      const t0 = performance.now();
      try {
        await p.onRefused(op, error);
      } catch (err) {
        op.log.error({ requestId: op.requestId, policy: p.name, err }, 'onRefused hook failed; the original refusal stands');
      } finally {
        this.time(p.name, 'refused', t0);
      }
    }
  }

  onSubgraphRequest(sub: SubgraphPhase): void {
    for (const p of this.subgraphHooks) p.onSubgraphRequest!(sub);
  }

  get wantsSubgraphHook(): boolean {
    return this.subgraphHooks.length > 0;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.policies.map((p) => p.close?.()));
  }

  private time(policy: string, phase: string, t0: number): void {
    const key = `${policy} ${phase}`;
    let h = this.timers.get(key);
    if (!h) this.timers.set(key, (h = this.metrics.policyDuration.labels({ policy, phase })));
    h.observe((performance.now() - t0) / 1000);
  }
}
