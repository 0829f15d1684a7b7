import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApolloGateway } from '@apollo/gateway';
import { overrideOf, percentActive } from '../../features/progressive-override.ts';
import type { RequestContext } from '../../pipeline/request-context.ts';

/** What of @apollo/query-planner's QueryPlanner this reaches (private in its types; stable in 2.x). */
interface Planner {
  buildQueryPlan(operation: unknown, options?: { overrideConditions?: Map<string, boolean> }): unknown;
  /** Every `overrideLabel` of the supergraph's `@join__field`s, each `false` (collectAllOverrideLabels). */
  readonly _defaultOverrideConditions?: ReadonlyMap<string, boolean>;
}

/**
 * Progressive override (`@override(label:)`) for the Apollo engine, with the request's one
 * decision (features/progressive-override.ts) as the tessera engine uses it.
 *
 * @apollo/query-planner plans with `overrideConditions`, but @apollo/gateway's executor calls
 * `queryPlanner.buildQueryPlan(operation, options)` without them, and keys its plan store by
 * `requestContext.queryHash` (and the operation name) alone. So, for a supergraph with labels:
 * - the planner instance (a new one per supergraph) gets a `buildQueryPlan` that adds the
 *   conditions of the request planning it, found through an AsyncLocalStorage entered around the
 *   executor;
 * - for the executor's duration `queryHash` carries the decision's signature (one bit per label),
 *   so each combination has its own cached plan and a plan never serves another decision.
 * A supergraph without labels costs one check per request.
 */
export class ApolloProgressiveOverride {
  private readonly current = new AsyncLocalStorage<Map<string, boolean>>();
  private readonly patched = new WeakSet<object>();

  async around<T>(
    gateway: ApolloGateway,
    requestContext: { queryHash?: string },
    context: RequestContext | undefined,
    execute: () => Promise<T>,
  ): Promise<T> {
    const planner = (gateway as unknown as { queryPlanner?: Planner }).queryPlanner;
    const labels = planner?._defaultOverrideConditions;
    if (!planner || !labels || labels.size === 0 || !context || requestContext.queryHash === undefined)
      return execute();
    this.patch(planner);
    const decision = overrideOf(context);
    const conditions = new Map<string, boolean>();
    let signature = '';
    for (const label of labels.keys()) {
      const on = percentActive(label, decision) ?? decision.labels.has(label);
      conditions.set(label, on);
      signature += on ? '1' : '0';
    }
    const queryHash = requestContext.queryHash;
    requestContext.queryHash = `${queryHash}:override:${signature}`;
    try {
      return await this.current.run(conditions, execute);
    } finally {
      requestContext.queryHash = queryHash;
    }
  }

  private patch(planner: Planner): void {
    if (this.patched.has(planner)) return;
    this.patched.add(planner);
    const build = planner.buildQueryPlan.bind(planner);
    planner.buildQueryPlan = (operation, options) =>
      build(operation, { ...options, overrideConditions: this.current.getStore() ?? new Map() });
  }
}
