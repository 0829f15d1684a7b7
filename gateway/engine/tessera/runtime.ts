import { QueryPlanner } from '@graphql-hive/router-query-planner';
import {
  execute,
  Kind,
  print,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type InlineFragmentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Logger } from '../../observability/log.ts';
import type { EngineSpan, EngineTrace } from '../engine.ts';
import type { RequestContext } from '../../pipeline/request-context.ts';
import type { SubgraphClient } from '../../subgraph-client/client.ts';
import { TesseraError } from '../../errors/tessera-error.ts';
import { compilePlan, type CompiledPlan } from './plan/compile.ts';
import { explodeAbstractSelections } from './plan/explode.ts';
import { PlanRun } from './plan/execute.ts';
import { compileShape, conditionVariables, type CompiledShape } from './plan/shape.ts';
import { apiSchemaFromConsumerSchema, SupergraphInfo } from './plan/supergraph.ts';

export interface RuntimeDeps {
  /** Tessera's subgraph client for a subgraph (name + routing URL from the supergraph's join__Graph), looked up per fetch. */
  readonly client: (subgraph: { name: string; url: string }) => SubgraphClient;
  readonly log: Logger;
}

export interface RuntimeOperation {
  /** Parsed and validated against `apiSchema` by the shell. */
  readonly document: DocumentNode;
  /** The text the document was parsed from (the planner's input; `print(document)` after a rewrite). */
  readonly source: string;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null;
  /** Already coerced. */
  readonly variables: Readonly<Record<string, unknown>>;
  /** For subgraph requests: requestId, log, headers, scope. */
  readonly context: RequestContext;
  /** Progressive override: active labels and the request's percentage draw in [0,100). Absent: none active, 0. */
  readonly override?: { readonly labels: ReadonlySet<string>; readonly percentage: number };
  /** The request's trace when it is traced: planning and execution report `graphql.plan` and `graphql.execute` there. */
  readonly trace?: EngineTrace | null;
}

export interface RuntimeResult {
  data: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
}

export interface GenerationRuntime {
  readonly apiSchema: GraphQLSchema;
  /** Never throws for subgraph failures: they are errors next to partial data. */
  execute(op: RuntimeOperation): Promise<RuntimeResult>;
}

/** Operations whose plans and shapes one generation keeps by text (documents are also keyed by identity). */
const MAX_OPERATIONS = 2000;
/** Distinct `@skip`/`@include` variable combinations compiled per operation. */
const MAX_SHAPES = 64;
/** Distinct override label sets planned per operation. */
const MAX_PLANS = 32;

/**
 * Planning and execution for one supergraph generation: plans from Hive Router's query planner
 * (`@graphql-hive/router-query-planner`), executed by Tessera's own executor (plan/execute.ts)
 * through Tessera's subgraph clients, shaped by a shaper compiled per operation (plan/shape.ts).
 */
export function createGenerationRuntime(supergraphSdl: string, deps: RuntimeDeps): GenerationRuntime {
  return new TesseraRuntime(supergraphSdl, deps);
}

/** Everything cached for one operation of one document in this generation. */
interface OperationEntry {
  /** What the planner plans: the operation without its introspection fields; null when nothing needs a subgraph. */
  readonly plannerQuery: string | null;
  /** The introspection part (`__schema`, `__type`), executed with graphql-js against the API schema. */
  readonly introspection: DocumentNode | null;
  readonly conditionVariables: readonly string[];
  readonly shapes: Map<string, CompiledShape>;
  readonly plans: Map<string, Promise<CompiledPlan>>;
}

class TesseraRuntime implements GenerationRuntime {
  readonly apiSchema: GraphQLSchema;
  private readonly planner: QueryPlanner;
  private readonly info: SupergraphInfo;
  private readonly deps: RuntimeDeps;
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, OperationEntry>>();
  private readonly bySource = new Map<string, OperationEntry>();
  private readonly overridePercentages: readonly number[];
  private readonly overrideLabels: ReadonlySet<string>;

  constructor(supergraphSdl: string, deps: RuntimeDeps) {
    this.deps = deps;
    this.planner = new QueryPlanner(supergraphSdl);
    this.apiSchema = apiSchemaFromConsumerSchema(this.planner.consumerSchema);
    this.info = new SupergraphInfo(supergraphSdl);
    this.overridePercentages = [...this.planner.overridePercentages].sort((a, b) => a - b);
    this.overrideLabels = new Set(this.planner.overrideLabels);
  }

  async execute(op: RuntimeOperation): Promise<RuntimeResult> {
    const entry = this.entry(op);
    const shape = this.shape(entry, op);
    const run = new PlanRun(
      { info: this.info, client: this.deps.client, schema: this.apiSchema },
      op.variables,
      op.context,
    );
    if (entry.plannerQuery !== null) {
      const planSpan = op.trace?.span('graphql.plan') ?? null;
      let plan: CompiledPlan;
      try {
        plan = await this.plan(entry, op, planSpan);
      } catch (err) {
        planSpan?.end(err);
        throw err;
      }
      planSpan?.end();
      // While it is open, the subgraph fetches' spans are its children (observability/tracing.ts).
      const executeSpan = op.trace?.span('graphql.execute') ?? null;
      try {
        if (plan.root) await run.run(plan.root);
      } catch (err) {
        executeSpan?.end(err);
        throw err;
      }
      executeSpan?.end();
    }
    if (entry.introspection) {
      const result = execute({
        schema: this.apiSchema,
        document: entry.introspection,
        variableValues: op.variables as Record<string, unknown>,
      }) as Awaited<ReturnType<typeof execute>>;
      if (result.data) for (const k of shape.introspectionKeys) run.data[k] = result.data[k];
      if (result.errors) for (const e of result.errors) run.errors.push(e.toJSON());
    }
    const { data, errors } = shape.shape(run);
    return errors.length ? { data, errors } : { data };
  }

  private entry(op: RuntimeOperation): OperationEntry {
    const opKey = op.operationName ?? '';
    let perDoc = this.byDocument.get(op.document);
    const hit = perDoc?.get(opKey);
    if (hit) return hit;
    const sourceKey = `${opKey}\0${op.source}`;
    let entry = this.bySource.get(sourceKey);
    if (!entry) {
      entry = newEntry(op);
      if (this.bySource.size >= MAX_OPERATIONS) this.bySource.delete(this.bySource.keys().next().value!);
      this.bySource.set(sourceKey, entry);
    }
    if (!perDoc) this.byDocument.set(op.document, (perDoc = new Map()));
    perDoc.set(opKey, entry);
    return entry;
  }

  private shape(entry: OperationEntry, op: RuntimeOperation): CompiledShape {
    let key = '';
    for (const v of entry.conditionVariables) key += op.variables[v] === true ? '1' : '0';
    let shape = entry.shapes.get(key);
    if (!shape) {
      shape = compileShape(this.apiSchema, op.document, op.operation, op.variables);
      if (entry.shapes.size >= MAX_SHAPES) entry.shapes.clear();
      entry.shapes.set(key, shape);
    }
    return shape;
  }

  private plan(entry: OperationEntry, op: RuntimeOperation, span: EngineSpan | null): Promise<CompiledPlan> {
    // Only labels the supergraph uses, and which side of each percentage threshold the draw is on,
    // change the plan: that is the cache key.
    const active = new Set<string>();
    let key = '';
    if (op.override) {
      for (const l of [...op.override.labels].sort()) {
        if (!this.overrideLabels.has(l)) continue;
        active.add(l);
        key += `${l}\0`;
      }
      const p = op.override.percentage;
      for (const t of this.overridePercentages) key += p < t ? '<' : p === t ? '=' : '>';
    }
    let plan = entry.plans.get(key);
    span?.setAttribute('tessera.plan.cache', plan ? 'hit' : 'miss');
    if (!plan) {
      const percentage = op.override?.percentage ?? 0;
      const query = entry.plannerQuery!;
      plan = this.planner
        .planAsync(query, op.operationName, active, percentage)
        .catch((err: unknown) => {
          // A second chance with abstract selections asked per possible type (plan/explode.ts).
          const exploded = explodeAbstractSelections(this.apiSchema, query, Math.max(64 * 1024, 4 * query.length));
          if (exploded === null) throw err;
          return this.planner.planAsync(exploded, op.operationName, active, percentage).catch(() => {
            throw err;
          });
        })
        .then(
          (p) => compilePlan(p, this.info, op.operation.name?.value ?? null),
          (err: unknown) => {
            throw new PlanningFailed(err);
          },
        );
      if (entry.plans.size >= MAX_PLANS) entry.plans.clear();
      entry.plans.set(key, plan);
      // A plan that fails is kept failed: planning is deterministic for one supergraph, and a client
      // repeating an operation the planner cannot plan must not cost a planning run each time.
      plan.catch((err: unknown) =>
        this.deps.log.warn(
          {
            err: err instanceof PlanningFailed ? err.cause : err,
            operationName: op.operationName,
            query: query.slice(0, 2000),
          },
          'query planner could not plan the operation',
        ),
      );
    }
    return plan;
  }
}

/**
 * The planner found no way to resolve the operation in this supergraph (a field only reachable
 * behind a `resolvable: false` key or a non-resolvable @interfaceObject). The planner's own message
 * names subgraphs and types: it goes to the log, the client gets the catalog's.
 */
class PlanningFailed extends TesseraError {
  constructor(cause: unknown) {
    super(
      'QUERY_PLANNING_FAILED',
      'The operation cannot be planned: a selected field cannot be reached from the subgraphs of this graph.',
    );
    this.cause = cause;
  }
}

const introspectionRootFields = new Set(['__schema', '__type']);

function newEntry(op: RuntimeOperation): OperationEntry {
  const { document, operation } = op;
  const isIntrospection = (f: FieldNode) => introspectionRootFields.has(f.name.value);
  const hasIntrospection = rootFields(document, operation).some(isIntrospection);
  let plannerQuery: string | null = null;
  let introspection: DocumentNode | null = null;
  if (!hasIntrospection) plannerQuery = op.source;
  else {
    // The planner knows nothing of introspection: it plans the rest, graphql-js answers that part.
    const rest = withRootFields(document, operation, (f) => !isIntrospection(f));
    if (rootFields(rest, rest.definitions[0] as OperationDefinitionNode).some((f) => f.name.value !== '__typename'))
      plannerQuery = print(rest);
    introspection = withRootFields(document, operation, (f) => isIntrospection(f) || f.name.value === '__typename');
  }
  if (plannerQuery !== null && !rootFields(document, operation).some((f) => f.name.value !== '__typename'))
    plannerQuery = null; // `{ __typename }`: the shaper answers it
  return {
    plannerQuery,
    introspection,
    conditionVariables: conditionVariables(document),
    shapes: new Map(),
    plans: new Map(),
  };
}

/** The fields at the root of `operation`, through its fragments (whatever their @skip/@include). */
function rootFields(document: DocumentNode, operation: OperationDefinitionNode): FieldNode[] {
  const fragments = fragmentsOf(document);
  const out: FieldNode[] = [];
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f) walk(f.selectionSet);
      }
    }
  };
  walk(operation.selectionSet);
  return out;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const out = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) out.set(d.name.value, d);
  return out;
}

/**
 * `operation` with only the root fields `keep` accepts: root-level fragment spreads become inline
 * fragments (their conditions kept) so that what they select at the root can be filtered, empty
 * fragments are dropped, and only the fragment definitions still used are kept.
 */
function withRootFields(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  keep: (f: FieldNode) => boolean,
): DocumentNode {
  const fragments = fragmentsOf(document);
  const filter = (set: SelectionSetNode, depth: number): SelectionSetNode => {
    const selections: SelectionNode[] = [];
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (keep(s)) selections.push(s);
        continue;
      }
      // Fragment cycles are refused by validation; the depth bound is a guard only.
      const inner =
        s.kind === Kind.INLINE_FRAGMENT
          ? s.selectionSet
          : depth < 100
            ? fragments.get(s.name.value)?.selectionSet
            : undefined;
      if (!inner) continue;
      const filtered = filter(inner, depth + 1);
      if (filtered.selections.length === 0) continue;
      selections.push({
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: s.kind === Kind.INLINE_FRAGMENT ? s.typeCondition : fragments.get(s.name.value)!.typeCondition,
        directives: s.directives,
        selectionSet: filtered,
      } satisfies InlineFragmentNode);
    }
    return { kind: Kind.SELECTION_SET, selections };
  };
  const root: OperationDefinitionNode = { ...operation, selectionSet: filter(operation.selectionSet, 0) };
  // The fragments the filtered operation still spreads (below its root fields), transitively.
  const used = new Set<string>();
  const pending: SelectionSetNode[] = [root.selectionSet];
  while (pending.length) {
    for (const s of pending.pop()!.selections) {
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        if (used.has(s.name.value)) continue;
        used.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f) pending.push(f.selectionSet);
      } else if (s.selectionSet) pending.push(s.selectionSet);
    }
  }
  return {
    kind: Kind.DOCUMENT,
    definitions: [root, ...[...fragments.values()].filter((f) => used.has(f.name.value))],
  };
}
