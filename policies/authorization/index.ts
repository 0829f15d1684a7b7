import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GraphQLSchema } from 'graphql';
import { tesseraError } from '../../gateway/errors/tessera-error.ts';
import type { Identity, OperationPhase, Policy, PolicyFunction, PolicyModule } from '../policy.ts';
import { analyze, isIncluded, type AuthAnalysis, type Guard } from './analyze.ts';
import { authorizationConfigSchema, type AuthorizationConfig } from './config.ts';
import { readAuthRules, type AuthRules, type Requirement } from './directives.ts';
import { patchResponse, planFilter, type FilterPlan } from './filter.ts';

/**
 * Enforces `@authenticated`, `@requiresScopes` and `@policy` from the supergraph before planning,
 * so a subgraph never receives a field the caller may not see.
 */
export const authorizationPolicy: PolicyModule<AuthorizationConfig> = {
  key: 'authorization',
  configSchema: authorizationConfigSchema,
  async create(config, deps) {
    const functions = new Map<string, PolicyFunction>(Object.entries(deps.policyFunctions));
    for (const [name, p] of Object.entries(config.policies)) functions.set(name, claimPolicy(p.claim, p.oneOf));
    if (config.policyModule) {
      const file = isAbsolute(config.policyModule) ? config.policyModule : resolve(deps.baseDir, config.policyModule);
      const mod = (await import(pathToFileURL(file).href)) as { default?: Record<string, PolicyFunction> };
      for (const [name, fn] of Object.entries(mod.default ?? {})) if (typeof fn === 'function') functions.set(name, fn);
    }
    const denials = deps.metrics.counter(
      'tessera_authorization_denied_total',
      'Field selections denied by authorization, by mode (filter, reject).',
      ['mode'],
    );
    const rulesBySchema = new WeakMap<GraphQLSchema, AuthRules>();
    let current: AuthRules = { types: new Map(), fields: new Map() };
    // Per shared operation analysis (document, operation, generation): the guarded positions and the rewrites already built.
    const analyses = new WeakMap<object, { auth: AuthAnalysis; plans: Map<string, FilterPlan> }>();
    const warnedUnknown = new Set<string>();

    const analysisFor = (op: OperationPhase) => {
      let entry = analyses.get(op.analysis.id);
      if (!entry) {
        const rules = rulesBySchema.get(op.schema.apiSchema) ?? current;
        entry = { auth: analyze(op.analysis, rules), plans: new Map() };
        analyses.set(op.analysis.id, entry);
      }
      return entry;
    };

    const policy: Policy = {
      name: 'authorization',
      onSchema(s) {
        current = readAuthRules(s.supergraphDocument);
        rulesBySchema.set(s.apiSchema, current);
      },
      async onOperation(op) {
        if (!config.enabled && config.introspection === 'public') return;
        if (op.analysis.introspection && config.introspection === 'authenticated' && !op.identity.authenticated) {
          throw tesseraError('UNAUTHENTICATED', 'Introspection requires an authenticated caller.', {
            headers: { 'www-authenticate': 'Bearer' },
          });
        }
        if (!config.enabled) return;
        const entry = analysisFor(op);
        const analysis = entry.auth;
        if (analysis.guards.length === 0) return;
        const evaluator = new Evaluator(op, functions, (name) => {
          if (warnedUnknown.has(name)) return;
          warnedUnknown.add(name);
          op.log.warn(
            { policy: name },
            '@policy names a policy that is not registered; fields that need it are denied',
          );
        });
        const denied: Guard[] = [];
        for (const g of analysis.guards) {
          if (!isIncluded(op.analysis, g.conditions)) continue;
          if (!(await evaluator.allows(g.requirement))) denied.push(g);
        }
        if (denied.length === 0) return;
        denials.inc({ mode: config.mode }, denied.length);
        if (config.mode === 'reject') {
          // One entry per path: a fragment spread many times denies one path many times.
          const paths = [...new Set(denied.map((g) => g.path.join('.')))];
          if (!op.identity.authenticated) {
            throw tesseraError(
              'UNAUTHENTICATED',
              `The operation selects fields that need an authenticated caller: ${paths.join(', ')}.`,
              { headers: { 'www-authenticate': 'Bearer' }, extensions: { unauthorizedPaths: paths } },
            );
          }
          throw tesseraError('FORBIDDEN', `The operation selects fields the caller may not see: ${paths.join(', ')}.`, {
            extensions: { unauthorizedPaths: paths },
          });
        }
        const planKey = denied.map((g) => g.index).join(',');
        let plan = entry.plans.get(planKey);
        if (!plan) {
          plan = planFilter(analysis, denied);
          if (entry.plans.size >= 32) entry.plans.clear();
          entry.plans.set(planKey, plan);
        }
        op.rewrite(plan.document);
        const chosen = plan;
        return (response) => patchResponse(chosen, response);
      },
    };
    return policy;
  },
};

/** Evaluates requirements for one request; each named policy runs at most once. */
class Evaluator {
  private readonly results = new Map<string, Promise<boolean>>();
  private readonly decided = new Map<Requirement, Promise<boolean>>();
  private readonly op: OperationPhase;
  private readonly functions: ReadonlyMap<string, PolicyFunction>;
  private readonly onUnknown: (name: string) => void;
  constructor(op: OperationPhase, functions: ReadonlyMap<string, PolicyFunction>, onUnknown: (name: string) => void) {
    this.op = op;
    this.functions = functions;
    this.onUnknown = onUnknown;
  }

  /** Memoized per requirement: the positions of one fragment share their requirement objects. */
  allows(r: Requirement): Promise<boolean> {
    let p = this.decided.get(r);
    if (!p) this.decided.set(r, (p = this.decide(r)));
    return p;
  }

  private async decide(r: Requirement): Promise<boolean> {
    const id = this.op.identity;
    if (r.authenticated && !id.authenticated) return false;
    for (const anyOf of r.scopes) if (!anyOf.some((all) => all.every((s) => id.scopes.has(s)))) return false;
    for (const anyOf of r.policies) {
      let ok = false;
      for (const all of anyOf) {
        ok = true;
        for (const name of all)
          if (!(await this.policy(name, id))) {
            ok = false;
            break;
          }
        if (ok) break;
      }
      if (!ok) return false;
    }
    return true;
  }

  private policy(name: string, identity: Identity): Promise<boolean> {
    let p = this.results.get(name);
    if (!p) {
      const fn = this.functions.get(name);
      if (!fn) {
        this.onUnknown(name);
        p = Promise.resolve(false);
      } else {
        p = (async () => {
          try {
            return (await fn({ identity, headers: this.op.headers, operationName: this.op.operationName })) === true;
          } catch (err) {
            this.op.log.error(
              { requestId: this.op.requestId, policy: name, err: (err as Error)?.stack ?? String(err) },
              '@policy function threw; the fields that need it are denied',
            );
            return false;
          }
        })();
      }
      this.results.set(name, p);
    }
    return p;
  }
}

function claimPolicy(claim: string, oneOf: ReadonlyArray<string | number | boolean>): PolicyFunction {
  const allowed = new Set(oneOf);
  return ({ identity }) => {
    const v = identity.claims[claim];
    return Array.isArray(v) ? v.some((x) => allowed.has(x)) : allowed.has(v as string);
  };
}
