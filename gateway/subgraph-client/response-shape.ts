import {
  buildASTSchema,
  getNamedType,
  GraphQLEnumType,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLObjectType,
  GraphQLScalarType,
  GraphQLString,
  isAbstractType,
  isCompositeType,
  isObjectType,
  Kind,
  parse,
  valueFromASTUntyped,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';

/** One value of the wrong shape: where (in the subgraph's response) and what was wrong. */
export interface ShapeProblem {
  readonly path: ReadonlyArray<string | number>;
  /** Client-safe: says what kind of value was expected and found, names no type or field. */
  readonly message: string;
  /** Log-only: the schema coordinate that was expected. */
  readonly expected: string;
}

export type ShapeResult =
  | { readonly ok: true; readonly data: Record<string, unknown> | null; readonly problems: readonly ShapeProblem[] }
  /** The answer as a whole is unusable: `data` is not an object, or `_entities` has the wrong length. */
  | { readonly ok: false; readonly reason: string };

/** `@skip`/`@include` on a selection: all must hold for it to be in the response. */
type Cond = { readonly variable: string | null; readonly value: boolean; readonly include: boolean };

/** A selection with the conditions and certainty it inherits from the fragments around it. */
interface Item {
  readonly node: SelectionNode;
  readonly conds: readonly Cond[];
  /** false under a fragment that may or may not apply (abstract type, no usable `__typename`). */
  readonly certain: boolean;
  /** The type the selection is written against (its fragment's type condition). */
  readonly scope: GraphQLCompositeType;
}

/** A field's output type compiled once, so the walk does no `instanceof` or name lookups. */
type Shape =
  | {
      readonly kind: 'leaf';
      readonly nonNull: boolean;
      readonly ok: (v: unknown) => boolean;
      readonly expected: string;
    }
  | { readonly kind: 'list'; readonly nonNull: boolean; readonly of: Shape }
  | { readonly kind: 'composite'; readonly nonNull: boolean; readonly type: GraphQLCompositeType };

const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);
const builtInLeaves: Record<string, (v: unknown) => boolean> = {
  String: (v) => typeof v === 'string',
  Boolean: (v) => typeof v === 'boolean',
  Int: (v) => typeof v === 'number' && Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX,
  Float: (v) => typeof v === 'number' && Number.isFinite(v),
  ID: (v) => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)),
};
// A custom scalar may be any JSON value, objects and lists included.
const anyJson = () => true;

function shapeOf(type: GraphQLOutputType): Shape {
  const nonNull = type instanceof GraphQLNonNull;
  const t = (nonNull ? (type as GraphQLNonNull<GraphQLOutputType>).ofType : type) as GraphQLOutputType;
  if (t instanceof GraphQLList) return { kind: 'list', nonNull, of: shapeOf(t.ofType as GraphQLOutputType) };
  if (t instanceof GraphQLEnumType) {
    const values = new Set(t.getValues().map((v) => v.name));
    return { kind: 'leaf', nonNull, ok: (v) => typeof v === 'string' && values.has(v), expected: 'an enum value' };
  }
  if (t instanceof GraphQLScalarType)
    return { kind: 'leaf', nonNull, ok: builtInLeaves[t.name] ?? anyJson, expected: `a ${t.name}` };
  return { kind: 'composite', nonNull, type: t as GraphQLCompositeType };
}

interface FieldPlan {
  readonly key: string;
  readonly shape: Shape;
  readonly coordinate: string;
  readonly typename: boolean;
  /** Every occurrence of the key: included if one holds; required if a certain one holds. */
  readonly occurrences: ReadonlyArray<{ readonly conds: readonly Cond[]; readonly certain: boolean }>;
  /** Fast path: an unconditional, certain occurrence. */
  readonly always: boolean;
  readonly child: SelectionPlan | null;
}

/** The selections at one composite position, resolved lazily per runtime type. */
class SelectionPlan {
  readonly items: readonly Item[];
  private readonly byType = new Map<string, readonly FieldPlan[]>();
  private readonly op: OperationPlan;
  private lastType: GraphQLCompositeType | null = null;
  private lastFields: readonly FieldPlan[] = [];
  constructor(items: readonly Item[], op: OperationPlan) {
    this.items = items;
    this.op = op;
  }

  /** The fields for values of `type`: an object type, or an abstract one whose value did not say which object it is. */
  fields(type: GraphQLCompositeType): readonly FieldPlan[] {
    // Most positions only ever see one type: skip the map for a repeat.
    if (type === this.lastType) return this.lastFields;
    let plan = this.byType.get(type.name);
    if (!plan) {
      plan = this.op.collect(this.items, isObjectType(type) ? type : null, type);
      this.byType.set(type.name, plan);
    }
    this.lastType = type;
    this.lastFields = plan;
    return plan;
  }
}

/** One subgraph operation compiled against the supergraph's types. */
class OperationPlan {
  readonly root: SelectionPlan;
  readonly rootType: GraphQLObjectType;
  readonly defaults: Readonly<Record<string, unknown>>;
  /** The selections under `_entities`, when this is an entity fetch. */
  readonly entities: readonly SelectionNode[] | null;
  private readonly entityPlans = new Map<string, SelectionPlan>();
  private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  private readonly schema: GraphQLSchema;

  constructor(
    schema: GraphQLSchema,
    op: OperationDefinitionNode,
    fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    rootType: GraphQLObjectType,
  ) {
    this.schema = schema;
    this.fragments = fragments;
    this.rootType = rootType;
    const defaults: Record<string, unknown> = {};
    for (const v of op.variableDefinitions ?? [])
      if (v.defaultValue) defaults[v.variable.name.value] = valueFromASTUntyped(v.defaultValue);
    this.defaults = defaults;
    this.root = new SelectionPlan(
      op.selectionSet.selections.map((node) => ({ node, conds: [], certain: true, scope: rootType })),
      this,
    );
    const entities = op.selectionSet.selections.find(
      (s) => s.kind === Kind.FIELD && s.name.value === '_entities' && !s.alias,
    );
    this.entities = entities?.kind === Kind.FIELD ? (entities.selectionSet?.selections ?? []) : null;
  }

  /** The entity selections (inline fragments on entity types) for one entity type. */
  entityPlan(type: GraphQLCompositeType): SelectionPlan {
    let plan = this.entityPlans.get(type.name);
    if (!plan) {
      plan = new SelectionPlan(
        (this.entities ?? []).map((node) => ({ node, conds: [], certain: true, scope: type })),
        this,
      );
      this.entityPlans.set(type.name, plan);
    }
    return plan;
  }

  /** The first response key an entity fetch fills for this type: where a lost entity is reported. */
  firstEntityKey(typename: unknown): string | undefined {
    const type = typeof typename === 'string' ? this.compositeType(typename) : null;
    if (!type) return undefined;
    return this.entityPlan(type)
      .fields(type)
      .find((f) => !f.typename)?.key;
  }

  /** graphql-js's CollectFields for one runtime type, keeping conditions for run time. */
  collect(items: readonly Item[], runtime: GraphQLObjectType | null, fallback: GraphQLCompositeType): FieldPlan[] {
    const groups = new Map<
      string,
      {
        type: GraphQLOutputType | null;
        coordinate: string;
        typename: boolean;
        occurrences: Array<{ conds: readonly Cond[]; certain: boolean }>;
        children: Item[];
      }
    >();
    // Each named fragment is expanded once per position, as graphql-js's CollectFields does: a
    // document that spreads fragments within fragments cannot make this exponential.
    const expanded = new Set<string>();
    const visit = (list: readonly Item[]) => {
      for (const item of list) {
        const { node } = item;
        const conds = [...item.conds, ...condsOf(node)];
        if (conds.some((c) => c.variable === null && c.value !== c.include)) continue;
        if (node.kind === Kind.FIELD) {
          const key = node.alias?.value ?? node.name.value;
          let g = groups.get(key);
          if (!g) {
            const name = node.name.value;
            const owner = runtime ?? item.scope;
            const def = name !== '__typename' && 'getFields' in owner ? owner.getFields()[name] : undefined;
            g = {
              type: def?.type ?? null,
              coordinate: `${owner.name}.${name}`,
              typename: name === '__typename',
              occurrences: [],
              children: [],
            };
            groups.set(key, g);
          }
          g.occurrences.push({ conds, certain: item.certain });
          if (node.selectionSet && g.type) {
            const scope = getNamedType(g.type);
            if (isCompositeType(scope))
              for (const child of node.selectionSet.selections)
                g.children.push({ node: child, conds, certain: item.certain, scope });
          }
          continue;
        }
        let condition: GraphQLCompositeType | null = item.scope;
        let selections: readonly SelectionNode[];
        if (node.kind === Kind.INLINE_FRAGMENT) {
          selections = node.selectionSet.selections;
          if (node.typeCondition) condition = this.compositeType(node.typeCondition.name.value);
        } else {
          const fragment = this.fragments.get(node.name.value);
          if (!fragment || expanded.has(fragment.name.value)) continue;
          expanded.add(fragment.name.value);
          selections = fragment.selectionSet.selections;
          condition = this.compositeType(fragment.typeCondition.name.value);
        }
        if (!condition) continue;
        const applies = this.applies(condition, runtime, fallback);
        if (applies === 'no') continue;
        visit(
          selections.map((n) => ({ node: n, conds, certain: item.certain && applies === 'yes', scope: condition })),
        );
      }
    };
    visit(items);
    const plans: FieldPlan[] = [];
    for (const [key, g] of groups) {
      if (!g.type && !g.typename) continue; // a field this schema does not know: nothing to check it against
      const always = g.occurrences.some((o) => o.certain && o.conds.length === 0);
      plans.push({
        key,
        shape: shapeOf(g.type ?? GraphQLString),
        coordinate: g.coordinate,
        typename: g.typename,
        occurrences: g.occurrences,
        always,
        child: g.children.length ? new SelectionPlan(g.children, this) : null,
      });
    }
    return plans;
  }

  private applies(
    condition: GraphQLCompositeType,
    runtime: GraphQLObjectType | null,
    fallback: GraphQLCompositeType,
  ): 'yes' | 'no' | 'maybe' {
    if (runtime)
      return condition === runtime || (isAbstractType(condition) && this.schema.isSubType(condition, runtime))
        ? 'yes'
        : 'no';
    if (condition === fallback) return 'yes';
    if (isAbstractType(condition) && !isAbstractType(fallback) && this.schema.isSubType(condition, fallback))
      return 'yes';
    return 'maybe';
  }

  compositeType(name: string): GraphQLCompositeType | null {
    const t = this.schema.getType(name);
    return t && isCompositeType(t) ? t : null;
  }
}

function condsOf(node: SelectionNode): Cond[] {
  if (!node.directives?.length) return [];
  const out: Cond[] = [];
  for (const d of node.directives) {
    const include = d.name.value === 'include';
    if (!include && d.name.value !== 'skip') continue;
    const arg = d.arguments?.find((a) => a.name.value === 'if')?.value;
    if (!arg) continue;
    if (arg.kind === Kind.VARIABLE) out.push({ variable: arg.name.value, value: false, include });
    else if (arg.kind === Kind.BOOLEAN) out.push({ variable: null, value: arg.value, include });
  }
  return out;
}

const INVALID = Symbol('invalid');

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** One walk over one answer: linear in the values the operation selected, nothing else. */
class Walk {
  readonly problems: ShapeProblem[] = [];
  private readonly path: Array<string | number> = [];
  private readonly plan: OperationPlan;
  private readonly variables: Readonly<Record<string, unknown>>;
  private readonly schema: GraphQLSchema;
  constructor(
    schema: GraphQLSchema,
    plan: OperationPlan,
    variables: Readonly<Record<string, unknown>> | null | undefined,
  ) {
    this.schema = schema;
    this.plan = plan;
    this.variables = variables ?? {};
  }

  problem(message: string, expected: string, extraKey?: string | number): void {
    this.problems.push({ path: extraKey === undefined ? [...this.path] : [...this.path, extraKey], message, expected });
  }

  /** The whole answer; `data` is known to be an object. */
  root(data: Record<string, unknown>): ShapeResult {
    if (this.plan.entities) {
      const reps = this.variables['representations'];
      const got = data['_entities'];
      if (!Array.isArray(reps)) return { ok: false, reason: 'an _entities fetch without representations' };
      if (!Array.isArray(got))
        return { ok: false, reason: `_entities is ${kindOf(got)}, expected a list of ${reps.length}` };
      // Which item answers which representation is unknown: the whole fetch is lost.
      if (got.length !== reps.length)
        return { ok: false, reason: `_entities has ${got.length} items for ${reps.length} representations` };
      this.path.push('_entities');
      for (let i = 0; i < got.length; i++)
        got[i] = this.entity(got[i], (reps[i] as { __typename?: unknown } | null)?.__typename, i);
      this.path.pop();
    }
    const r = this.object(data, this.plan.rootType, this.plan.root, true);
    return { ok: true, data: r === INVALID ? null : data, problems: this.problems };
  }

  private entity(item: unknown, repTypename: unknown, i: number): unknown {
    if (item === null) return null;
    this.path.push(i);
    try {
      if (typeof item !== 'object' || Array.isArray(item)) {
        this.problem(`expected an object, got ${kindOf(item)}`, '_Entity', this.plan.firstEntityKey(repTypename));
        return null;
      }
      const typename = (item as Record<string, unknown>)['__typename'] ?? repTypename;
      const type = typeof typename === 'string' ? this.plan.compositeType(typename) : null;
      // A type this schema does not know (renamed by an @interfaceObject rewrite, say) is not checked.
      if (!type) return item;
      const r = this.composite(item as Record<string, unknown>, type, this.plan.entityPlan(type));
      return r === INVALID ? null : r;
    } finally {
      this.path.pop();
    }
  }

  private value(v: unknown, shape: Shape, plan: SelectionPlan | null, coordinate: string): unknown {
    if (v === null) {
      if (!shape.nonNull) return null;
      this.problem('got null for a non-null field', coordinate);
      return INVALID;
    }
    let r: unknown;
    if (shape.kind === 'leaf') {
      if (shape.ok(v)) return v;
      this.problem(`expected ${shape.expected}, got ${kindOf(v)}`, coordinate);
      r = INVALID;
    } else if (shape.kind === 'list') {
      r = this.list(v, shape.of, plan, coordinate);
    } else if (typeof v !== 'object' || Array.isArray(v)) {
      this.problem(`expected an object, got ${kindOf(v)}`, coordinate);
      r = INVALID;
    } else {
      r = plan ? this.composite(v as Record<string, unknown>, shape.type, plan) : v;
    }
    // The nearest nullable position takes the null; a non-null one passes it up.
    return r === INVALID && !shape.nonNull ? null : r;
  }

  private list(v: unknown, of: Shape, plan: SelectionPlan | null, coordinate: string): unknown {
    if (!Array.isArray(v)) {
      this.problem(`expected a list, got ${kindOf(v)}`, coordinate);
      return INVALID;
    }
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      this.path.push(i);
      const r = this.value(item, of, plan, coordinate);
      this.path.pop();
      if (r === INVALID) return INVALID;
      if (r !== item) v[i] = r;
    }
    return v;
  }

  private composite(obj: Record<string, unknown>, type: GraphQLCompositeType, plan: SelectionPlan): unknown {
    const typename = obj['__typename'];
    if (typename !== undefined && typeof typename !== 'string') {
      this.problem(`expected a string, got ${kindOf(typename)}`, '__typename', '__typename');
      return INVALID;
    }
    let runtime: GraphQLObjectType | null = null;
    if (isObjectType(type)) runtime = type;
    else if (typeof typename === 'string') {
      const t = this.schema.getType(typename);
      if (!t || !isCompositeType(t)) {
        this.problem('got an unknown __typename', `${type.name}.__typename`, '__typename');
        return INVALID;
      }
      if (isObjectType(t) && this.schema.isSubType(type, t)) runtime = t;
    }
    return this.object(obj, runtime ?? type, plan, false);
  }

  private object(
    obj: Record<string, unknown>,
    type: GraphQLCompositeType,
    plan: SelectionPlan,
    isRoot: boolean,
  ): unknown {
    const fields = plan.fields(type);
    for (const f of fields) {
      if (isRoot && f.key === '_entities') continue;
      if (!f.always && !this.included(f)) continue;
      const v = obj[f.key];
      if (v === undefined || !Object.hasOwn(obj, f.key)) {
        if (f.shape.nonNull && !f.typename && this.required(f)) {
          this.problem('a non-null field is missing', f.coordinate, f.key);
          return INVALID;
        }
        continue;
      }
      if (f.typename) {
        if (typeof v !== 'string') {
          this.problem(`expected a string, got ${kindOf(v)}`, f.coordinate, f.key);
          return INVALID;
        }
        continue;
      }
      this.path.push(f.key);
      const r = this.value(v, f.shape, f.child, f.coordinate);
      this.path.pop();
      if (r === INVALID) return INVALID;
      if (r !== v) obj[f.key] = r;
    }
    return obj;
  }

  private holds(conds: readonly Cond[]): boolean {
    for (const c of conds) {
      const v = c.variable === null ? c.value : (this.variables[c.variable] ?? this.plan.defaults[c.variable]) === true;
      if (v !== c.include) return false;
    }
    return true;
  }

  private included(f: FieldPlan): boolean {
    return f.occurrences.some((o) => this.holds(o.conds));
  }

  private required(f: FieldPlan): boolean {
    return f.always || f.occurrences.some((o) => o.certain && this.holds(o.conds));
  }
}

const MAX_PLANS = 1000;

/**
 * Checks subgraph answers against the operation the gateway sent and the supergraph's types,
 * for one supergraph generation. The supergraph (not the API schema) is used because fetches
 * select fields clients cannot (keys, `@inaccessible` ones); its output types are the widest
 * across subgraphs, so a value one subgraph may legally send is never rejected.
 */
export class ResponseShapes {
  readonly schema: GraphQLSchema;
  /** One compiled plan per distinct operation text, oldest dropped first past MAX_PLANS. */
  private readonly plans = new Map<string, OperationPlan | null>();

  constructor(schema: GraphQLSchema) {
    this.schema = schema;
  }

  static fromSupergraph(supergraphSdl: string): ResponseShapes {
    return new ResponseShapes(buildASTSchema(parse(supergraphSdl), { assumeValidSDL: true }));
  }

  /** Before any supergraph is known (never, once the gateway has started): only `data` itself is checked. */
  static envelopeOnly(data: unknown): ShapeResult {
    if (data === null) return { ok: true, data: null, problems: [] };
    return typeof data === 'object' && !Array.isArray(data)
      ? { ok: true, data: data as Record<string, unknown>, problems: [] }
      : { ok: false, reason: `data is ${kindOf(data)}` };
  }

  /** `data` is changed in place: wrong values become null at the nearest nullable position. */
  check(
    query: string,
    document: DocumentNode | undefined,
    data: unknown,
    variables: Readonly<Record<string, unknown>> | null | undefined,
  ): ShapeResult {
    const envelope = ResponseShapes.envelopeOnly(data);
    if (!envelope.ok || envelope.data === null) return envelope;
    const plan = this.plan(query, document);
    if (!plan) return { ok: true, data: data as Record<string, unknown>, problems: [] };
    return new Walk(this.schema, plan, variables).root(data as Record<string, unknown>);
  }

  private plan(query: string, document: DocumentNode | undefined): OperationPlan | null {
    let plan = this.plans.get(query);
    if (plan !== undefined) return plan;
    plan = this.compile(query, document);
    if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value!);
    this.plans.set(query, plan);
    return plan;
  }

  private compile(query: string, document: DocumentNode | undefined): OperationPlan | null {
    let doc = document;
    if (!doc) {
      try {
        doc = parse(query);
      } catch {
        return null;
      }
    }
    const fragments = new Map<string, FragmentDefinitionNode>();
    let op: OperationDefinitionNode | undefined;
    for (const d of doc.definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
      else if (d.kind === Kind.OPERATION_DEFINITION && !op) op = d;
    }
    if (!op) return null;
    const rootType =
      op.operation === 'mutation'
        ? this.schema.getMutationType()
        : op.operation === 'query'
          ? this.schema.getQueryType()
          : null;
    return rootType ? new OperationPlan(this.schema, op, fragments, rootType) : null;
  }
}

/**
 * The shapes of every live supergraph generation, found by the API schema Apollo hands each
 * request: a request planned on one generation is checked against that generation's types even
 * while a reload swaps in the next.
 */
export class SupergraphShapes {
  private readonly byApiSchema = new WeakMap<object, ResponseShapes>();
  private latest: ResponseShapes | null = null;

  set(apiSchema: object, supergraphSdl: string): void {
    const shapes = ResponseShapes.fromSupergraph(supergraphSdl);
    this.byApiSchema.set(apiSchema, shapes);
    this.latest = shapes;
  }

  for(apiSchema: object | undefined): ResponseShapes | null {
    return (apiSchema && this.byApiSchema.get(apiSchema)) || this.latest;
  }
}
