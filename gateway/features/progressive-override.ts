import type { Config } from '../config/schema.ts';
import type { Metrics } from '../observability/metrics.ts';
import { slot, type GatewayPlugin, type RequestScope } from '../pipeline/plugin.ts';

/**
 * One request's progressive-override decision, made once in `onOperation` and read by the engine
 * for every fetch of the request: the custom labels switched on, and the request's draw in
 * [0, 100) against which every `percent(N)` label is judged (`percent(N)` is active when
 * `percentage < N`). One draw for all `percent` labels: a request in the first 10 % is also in
 * the first 50 %, so nested rollouts stay nested.
 */
export interface OverrideDecision {
  readonly labels: ReadonlySet<string>;
  readonly percentage: number;
}

export const overrideSlot = slot<OverrideDecision>('progressive-override');

const noLabels: ReadonlySet<string> = Object.freeze(new Set<string>());

/**
 * The request's decision, as the engine passes it to its planner (the tessera runtime's
 * `override` input). The plugin sets it when custom labels are configured; otherwise the first
 * read draws and keeps it, so a gateway without labels runs no hook (and no span) per request,
 * and every reader within one request still gets the same draw. Both engines read it (the
 * Apollo engine in engine/apollo/progressive-override.ts; see docs/traffic.md).
 */
export function overrideOf(scope: Pick<RequestScope, 'get' | 'set'>): OverrideDecision {
  let decision = scope.get(overrideSlot);
  if (decision === undefined) scope.set(overrideSlot, (decision = { labels: noLabels, percentage: draw() }));
  return decision;
}

function draw(): number {
  return Math.random() * 100;
}

/** Whether `percent(N)` is active for a decision (label syntax as composition accepts it). */
export function percentActive(label: string, decision: OverrideDecision): boolean | null {
  const m = /^percent\((\d+(?:\.\d+)?)\)$/.exec(label);
  return m ? decision.percentage < Number(m[1]) : null;
}

type LabelRule = Config['progressiveOverride']['labels'][string][number];

/**
 * `progressiveOverride.labels`: sets the request's decision. In `onOperation`, after the policies'
 * `onRequest`, so a rule on a claim sees the verified identity (never an unverified header: a
 * `claim` rule reads `identity.claims`, which only the auth policy fills). Added to the pipeline
 * only when labels are configured (plugins.ts).
 */
export function progressiveOverride(config: Config['progressiveOverride'], metrics: Metrics): GatewayPlugin {
  const rules = Object.entries(config.labels).map(([label, list]) => ({
    label,
    list,
    counter: metrics.traffic.overrideRequests.labels({ label }),
  }));
  return {
    name: 'progressive-override',
    onOperation(op) {
      let labels: Set<string> | null = null;
      for (const r of rules)
        if (r.list.some((rule) => matches(rule, op))) {
          (labels ??= new Set()).add(r.label);
          r.counter.inc();
        }
      op.set(overrideSlot, { labels: labels ?? noLabels, percentage: draw() });
    },
  };
}

function matches(rule: LabelRule, scope: RequestScope): boolean {
  if ('header' in rule) {
    const v = scope.headers[rule.header.toLowerCase()];
    const value = Array.isArray(v) ? v.join(',') : v;
    if (value === undefined) return false;
    return rule.equals === undefined || value === rule.equals;
  }
  const claim = scope.identity.claims[rule.claim];
  if (claim === undefined || claim === null || claim === false) return false;
  if (rule.equals === undefined) return true;
  return Array.isArray(claim) ? claim.includes(rule.equals) : claim === rule.equals;
}
