import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFormattedError,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

type Obj = Record<string, unknown>;
type Path = Array<string | number>;

/**
 * The client's selection set compiled against the API schema, once per (operation, generation,
 * values of the `@skip`/`@include` variables): per composite position, the flat list of fields to
 * copy for each object type a value there can have. Shaping a response is then a walk over the
 * merged data with no schema lookups, no fragment matching and no directive evaluation: only the
 * fields the client asked for are copied (so a subgraph cannot add or overwrite others), under the
 * client's response keys, and a null in a non-null position bubbles to the nearest nullable one.
 */
export interface ShapeField {
  readonly key: string;
  /** 0: `__typename`; 1: a leaf (scalar or enum, copied as is); 2: composite; 3: answered by introspection. */
  readonly kind: 0 | 1 | 2 | 3;
  readonly type: OutType;
  /** `Type.field`, for the non-null error's message. */
  readonly coordinate: string;
}

/** A field's type: its list/non-null wrappers, and at the bottom its selection (composite) or nothing (leaf). */
export interface OutType {
  readonly nonNull: boolean;
  readonly list: OutType | null;
  readonly selection: Selection | null;
}

/** The fields to copy at one composite position, per runtime object type. */
export interface Selection {
  /** The static type's name: the runtime type when the position is an object type. */
  readonly typeName: string;
  /** For an object-type position. */
  readonly fields: readonly ShapeField[] | null;
  /** For an abstract position: by `__typename`. */
  readonly byType: ReadonlyMap<string, readonly ShapeField[]> | null;
}

export interface ShapeInput {
  readonly data: Obj;
  readonly errors: GraphQLFormattedError[];
  /** Objects whose `_entities` fetch failed: a null inside them is already reported. */
  readonly failed: ReadonlySet<object> | null;
  /** Root keys whose fetch failed. */
  readonly failedRootKeys: ReadonlySet<string> | null;
}

const BUBBLE = Symbol('null bubbles up');

export class CompiledShape {
  readonly root: Selection;
  /** Root response keys answered by introspection (`__schema`, `__type`). */
  readonly introspectionKeys: readonly string[];

  constructor(root: Selection, introspectionKeys: readonly string[]) {
    this.root = root;
    this.introspectionKeys = introspectionKeys;
  }

  /** The client's `data`, and the errors (the input's, plus one per unexplained non-null violation). */
  shape(input: ShapeInput): { data: Obj | null; errors: GraphQLFormattedError[] } {
    const walk = new Walk(input);
    const fields = this.root.fields ?? [];
    const data = walk.object(input.data, fields, this.root.typeName);
    return { data: data === BUBBLE ? null : data, errors: input.errors };
  }
}

class Walk {
  private readonly path: Path = [];
  private readonly input: ShapeInput;
  /** >0 while inside an object whose fetch failed. */
  private inFailed = 0;

  constructor(input: ShapeInput) {
    this.input = input;
  }

  object(src: Obj, fields: readonly ShapeField[], typeName: string): Obj | typeof BUBBLE {
    const failed = this.input.failed !== null && this.input.failed.has(src);
    if (failed) this.inFailed++;
    const out: Obj = {};
    let result: Obj | typeof BUBBLE = out;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.kind === 0) {
        out[f.key] = typeName;
        continue;
      }
      const v = src[f.key];
      if (f.kind === 3 || (f.kind === 1 && v !== null && v !== undefined)) {
        out[f.key] = v === undefined ? null : v;
        continue;
      }
      this.path.push(f.key);
      const r = this.value(v, f.type, f.coordinate);
      this.path.pop();
      if (r === BUBBLE) {
        result = BUBBLE;
        break;
      }
      out[f.key] = r;
    }
    if (failed) this.inFailed--;
    return result;
  }

  private value(v: unknown, t: OutType, coordinate: string): unknown {
    if (v === null || v === undefined) return this.nullAt(t, coordinate);
    if (t.list) {
      if (!Array.isArray(v)) return this.nullAt(t, coordinate);
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        this.path.push(i);
        const r = this.value(v[i], t.list, coordinate);
        this.path.pop();
        if (r === BUBBLE) return t.nonNull ? BUBBLE : null;
        out[i] = r;
      }
      return out;
    }
    const sel = t.selection;
    if (!sel) return v;
    if (typeof v !== 'object' || Array.isArray(v)) return this.nullAt(t, coordinate);
    const obj = v as Obj;
    let fields = sel.fields;
    let typeName = sel.typeName;
    if (sel.byType) {
      const typename = obj['__typename'];
      fields = typeof typename === 'string' ? (sel.byType.get(typename) ?? null) : null;
      if (!fields) return this.nullAt(t, coordinate);
      typeName = typename as string;
    }
    const r = this.object(obj, fields!, typeName);
    if (r === BUBBLE) return t.nonNull ? BUBBLE : null;
    return r;
  }

  /** A null where `t` is: fine if nullable; else it bubbles, with an error unless a failed fetch already explains it. */
  private nullAt(t: OutType, coordinate: string): null | typeof BUBBLE {
    if (!t.nonNull) return null;
    if (!this.explained()) {
      const last = this.path[this.path.length - 1];
      this.input.errors.push({
        message:
          typeof last === 'number'
            ? `Cannot return null for non-nullable array element of ${coordinate}.`
            : `Cannot return null for non-nullable field ${coordinate}.`,
        path: this.path.slice(),
        extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
      });
    }
    return BUBBLE;
  }

  private explained(): boolean {
    if (this.inFailed > 0) return true;
    const first = this.path[0];
    if (typeof first === 'string' && this.input.failedRootKeys?.has(first)) return true;
    const path = this.path;
    for (const e of this.input.errors) {
      const ep = e.path;
      if (!ep) continue;
      const n = Math.min(ep.length, path.length);
      let i = 0;
      while (i < n && ep[i] === path[i]) i++;
      if (i === n) return true;
    }
    return false;
  }
}

/** The variables the operation's `@skip`/`@include` read: their values pick the compiled shape. */
export function conditionVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const visitSet = (set: SelectionSetNode | undefined): void => {
    if (!set) return;
    for (const s of set.selections) {
      for (const d of s.directives ?? [])
        if (d.name.value === 'skip' || d.name.value === 'include')
          for (const a of d.arguments ?? []) if (a.value.kind === Kind.VARIABLE) names.add(a.value.name.value);
      if (s.kind !== Kind.FRAGMENT_SPREAD) visitSet(s.selectionSet);
    }
  };
  for (const def of document.definitions)
    if (def.kind === Kind.OPERATION_DEFINITION || def.kind === Kind.FRAGMENT_DEFINITION) visitSet(def.selectionSet);
  return [...names].sort();
}

const introspectionFields = new Set(['__schema', '__type']);

export function compileShape(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Obj>,
): CompiledShape {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) throw new Error(`no ${operation.operation} type in the schema`);
  const c = new ShapeCompiler(schema, fragments, variables);
  const root = c.selection(rootType, [operation.selectionSet], true);
  const introspectionKeys = (root.fields ?? []).filter((f) => f.kind === 3).map((f) => f.key);
  return new CompiledShape(root, introspectionKeys);
}

class ShapeCompiler {
  private readonly schema: GraphQLSchema;
  private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  private readonly variables: Readonly<Obj>;

  constructor(schema: GraphQLSchema, fragments: ReadonlyMap<string, FragmentDefinitionNode>, variables: Readonly<Obj>) {
    this.schema = schema;
    this.fragments = fragments;
    this.variables = variables;
  }

  selection(type: GraphQLCompositeType, sets: readonly SelectionSetNode[], isRoot = false): Selection {
    if (isObjectType(type)) return { typeName: type.name, fields: this.fields(type, sets, isRoot), byType: null };
    const byType = new Map<string, readonly ShapeField[]>();
    for (const t of this.schema.getPossibleTypes(type)) byType.set(t.name, this.fields(t, sets, false));
    return { typeName: type.name, fields: null, byType };
  }

  /** CollectFields for one object type: response keys in order, each field's selection sets merged. */
  private fields(type: GraphQLObjectType, sets: readonly SelectionSetNode[], isRoot: boolean): ShapeField[] {
    const grouped = new Map<string, FieldNode[]>();
    for (const set of sets) this.collect(type, set, grouped, new Set());
    const out: ShapeField[] = [];
    for (const [key, nodes] of grouped) {
      const name = nodes[0]!.name.value;
      const coordinate = `${type.name}.${name}`;
      if (name === '__typename') {
        out.push({ key, kind: 0, type: leafType, coordinate });
        continue;
      }
      if (isRoot && introspectionFields.has(name)) {
        out.push({ key, kind: 3, type: leafType, coordinate });
        continue;
      }
      const def = type.getFields()[name];
      if (!def) continue; // validated against this schema: cannot happen
      const subSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
      const outType = this.outType(def.type, subSets);
      out.push({ key, kind: isCompositeType(getNamedType(def.type)) ? 2 : 1, type: outType, coordinate });
    }
    return out;
  }

  private outType(type: GraphQLOutputType, sets: readonly SelectionSetNode[]): OutType {
    const nonNull = isNonNullType(type);
    const inner = getNullableType(type);
    if (isListType(inner))
      return { nonNull, list: this.outType(inner.ofType as GraphQLOutputType, sets), selection: null };
    if (isCompositeType(inner)) return { nonNull, list: null, selection: this.selection(inner, sets) };
    return nonNull ? nonNullLeaf : leafType;
  }

  private collect(
    type: GraphQLObjectType,
    set: SelectionSetNode,
    out: Map<string, FieldNode[]>,
    visited: Set<string>,
  ): void {
    for (const s of set.selections) {
      if (!this.included(s.directives)) continue;
      switch (s.kind) {
        case Kind.FIELD: {
          const key = s.alias?.value ?? s.name.value;
          const list = out.get(key);
          if (list) list.push(s);
          else out.set(key, [s]);
          break;
        }
        case Kind.INLINE_FRAGMENT:
          if (!s.typeCondition || this.applies(type, s.typeCondition.name.value))
            this.collect(type, s.selectionSet, out, visited);
          break;
        case Kind.FRAGMENT_SPREAD: {
          const name = s.name.value;
          if (visited.has(name)) break;
          visited.add(name);
          const frag = this.fragments.get(name);
          if (frag && this.applies(type, frag.typeCondition.name.value))
            this.collect(type, frag.selectionSet, out, visited);
          break;
        }
      }
    }
  }

  private applies(type: GraphQLObjectType, condition: string): boolean {
    if (condition === type.name) return true;
    const cond = this.schema.getType(condition);
    return cond !== undefined && isAbstractType(cond) && this.schema.isSubType(cond, type);
  }

  private included(directives: FieldNode['directives']): boolean {
    if (!directives) return true;
    for (const d of directives) {
      const name = d.name.value;
      if (name !== 'skip' && name !== 'include') continue;
      const arg = d.arguments?.find((a) => a.name.value === 'if');
      const value = arg ? this.boolean(arg.value) : false;
      if (name === 'skip' ? value : !value) return false;
    }
    return true;
  }

  private boolean(v: ValueNode): boolean {
    if (v.kind === Kind.BOOLEAN) return v.value;
    if (v.kind === Kind.VARIABLE) return this.variables[v.name.value] === true;
    return false;
  }
}

const leafType: OutType = { nonNull: false, list: null, selection: null };
const nonNullLeaf: OutType = { nonNull: true, list: null, selection: null };
