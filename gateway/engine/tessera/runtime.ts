import { QueryPlanner } from '@graphql-hive/router-query-planner';
import {
  execute,
  Kind,
  print,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import type { Logger } from '../../observability/log.ts';
import type { RequestContext } from '../../pipeline/request-context.ts';
import type { SubgraphClient } from '../../subgraph-client/client.ts';
import { compilePlan, type CompiledPlan } from './plan/compile.ts';
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
      const plan = await this.plan(entry, op);
      if (plan.root) await run.run(plan.root);
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

  private plan(entry: OperationEntry, op: RuntimeOperation): Promise<CompiledPlan> {
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
    if (!plan) {
      const percentage = op.override?.percentage ?? 0;
      plan = this.planner
        .planAsync(entry.plannerQuery!, op.operationName, active, percentage)
        .then((p) => compilePlan(p, this.info));
      if (entry.plans.size >= MAX_PLANS) entry.plans.clear();
      entry.plans.set(key, plan);
      // A failed plan is not kept: the next request plans again (and fails the same way, or not).
      plan.catch(() => entry.plans.delete(key));
    }
    return plan;
  }
}

const introspectionRootFields = new Set(['__schema', '__type']);

function newEntry(op: RuntimeOperation): OperationEntry {
  const { document, operation } = op;
  const rootFields = operation.selectionSet.selections;
  const isIntrospection = (s: SelectionNode) => s.kind === Kind.FIELD && introspectionRootFields.has(s.name.value);
  const needsSubgraph = rootFields.some(
    (s) => !(s.kind === Kind.FIELD && (s.name.value === '__typename' || introspectionRootFields.has(s.name.value))),
  );
  const hasIntrospection = rootFields.some(isIntrospection);
  let plannerQuery: string | null = null;
  if (needsSubgraph) {
    plannerQuery = hasIntrospection
      ? print(withRootSelections(document, operation, (s) => !isIntrospection(s)))
      : op.source;
  }
  return {
    plannerQuery,
    introspection: hasIntrospection ? withRootSelections(document, operation, isIntrospection) : null,
    conditionVariables: conditionVariables(document),
    shapes: new Map(),
    plans: new Map(),
  };
}

/** The document with only `operation` (its root selections filtered) and the fragments. */
function withRootSelections(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  keep: (s: SelectionNode) => boolean,
): DocumentNode {
  return {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        ...operation,
        selectionSet: { ...operation.selectionSet, selections: operation.selectionSet.selections.filter(keep) },
      },
      ...document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION),
    ],
  };
}
