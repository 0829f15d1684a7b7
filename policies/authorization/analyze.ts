import {
  getNamedType, getNullableType, isAbstractType, isCompositeType, isListType, isNonNullType, Kind,
  type DirectiveNode, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLCompositeType,
  type GraphQLOutputType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { isEmpty, merge, none, type AuthRules, type Requirement } from './directives.ts';

/** Where a denied field's null lands: the field itself, its nearest nullable ancestor, list items, or all of `data`. */
export type NullTarget =
  /** Set `key` to null on the objects reached by `route` (response keys; lists are traversed). */
  | { readonly kind: 'key'; readonly remove: FieldNode; readonly route: readonly string[]; readonly key: string; readonly scope: ReadonlySet<string> | null; readonly scopeOwner: FieldNode | null; readonly order: readonly string[] }
  /** Null the items of the list at `route` (its last key is the list field). */
  | { readonly kind: 'items'; readonly remove: FieldNode; readonly route: readonly string[]; readonly scope: ReadonlySet<string> | null; readonly scopeOwner: FieldNode }
  | { readonly kind: 'data' };

/** One guarded field selection of an operation (fragments inlined, so each node has one position). */
export interface Guard {
  readonly index: number;
  readonly requirement: Requirement;
  /** `Type.field`, for messages and logs. */
  readonly coordinate: string;
  /** Response keys from the root, `@` for each list level (Apollo Router's convention). */
  readonly path: ReadonlyArray<string>;
  /** `@skip`/`@include` on the field and everything enclosing it. */
  readonly conditions: readonly DirectiveNode[];
  readonly field: FieldNode;
  readonly ancestors: readonly FieldNode[];
  readonly target: NullTarget;
}

export interface Analysis {
  readonly schema: GraphQLSchema;
  /** The operation with every fragment spread inlined. */
  readonly operation: OperationDefinitionNode;
  readonly guards: readonly Guard[];
  /** Selects `__schema` or `__type` at the root. */
  readonly introspection: boolean;
}

interface FieldFrame {
  readonly node: FieldNode;
  readonly key: string;
  readonly type: GraphQLOutputType;
  /** Keys to the objects holding this field. */
  readonly containerRoute: readonly string[];
  readonly scope: ReadonlySet<string> | null;
  readonly parent: FieldNode | null;
}

/** Finds every field selection that needs authorization, and where its null would land. */
export function analyze(schema: GraphQLSchema, rules: AuthRules, document: DocumentNode, operationName: string | null): Analysis | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let op: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (operationName === null || d.name?.value === operationName)) op ??= d;
  }
  if (!op) return null;
  const operation: OperationDefinitionNode = { ...op, selectionSet: inline(op.selectionSet, fragments) };
  const rootType = schema.getRootType(op.operation);
  if (!rootType) return null;
  const guards: Guard[] = [];
  let introspection = false;
  const possible = (t: GraphQLCompositeType): ReadonlySet<string> => new Set(isAbstractType(t) ? schema.getPossibleTypes(t).map((o) => o.name) : [t.name]);

  const walk = (
    set: SelectionSetNode, parentType: GraphQLCompositeType, full: ReadonlySet<string>, scope: ReadonlySet<string>,
    route: string[], path: string[], typeReqs: Requirement, conditions: DirectiveNode[], ancestors: FieldFrame[],
  ) => {
    for (const sel of set.selections) {
      const conds = conditionsOf(sel.directives, conditions);
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const cond = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType) : parentType;
        const condTypes = possible(cond);
        const narrowed = new Set([...scope].filter((t) => condTypes.has(t)));
        const req = sel.typeCondition ? merge(typeReqs, rules.types.get(cond.name) ?? none) : typeReqs;
        walk(sel.selectionSet, cond, full, narrowed, route, path, req, conds, ancestors);
        continue;
      }
      if (sel.kind !== Kind.FIELD) continue;
      const name = sel.name.value;
      if (name.startsWith('__')) {
        if (ancestors.length === 0 && (name === '__schema' || name === '__type')) introspection = true;
        continue;
      }
      const fieldDef = 'getFields' in parentType ? parentType.getFields()[name] : undefined;
      if (!fieldDef) continue;
      let req = merge(typeReqs, rules.fields.get(`${parentType.name}.${name}`) ?? none);
      // A field read through an interface is only as open as its most guarded implementation.
      if (isAbstractType(parentType)) for (const t of scope) req = merge(req, rules.fields.get(`${t}.${name}`) ?? none);
      const named = getNamedType(fieldDef.type);
      req = merge(req, rules.types.get(named.name) ?? none);
      const key = sel.alias?.value ?? name;
      const narrowedScope = scope.size === full.size ? null : scope;
      const frame: FieldFrame = { node: sel, key, type: fieldDef.type, containerRoute: route, scope: narrowedScope, parent: ancestors.at(-1)?.node ?? null };
      const fieldPath = [...path, key];
      if (!isEmpty(req)) {
        guards.push({
          index: guards.length, requirement: req, coordinate: `${parentType.name}.${name}`, path: fieldPath, conditions: conds,
          field: sel, ancestors: ancestors.map((a) => a.node), target: targetFor(frame, ancestors, operation.selectionSet),
        });
      }
      if (sel.selectionSet && isCompositeType(named)) {
        const all = possible(named);
        walk(sel.selectionSet, named, all, all, [...route, key], [...fieldPath, ...listMarkers(fieldDef.type)], none, conds, [...ancestors, frame]);
      }
    }
  };
  const rootTypes = new Set([rootType.name]);
  walk(operation.selectionSet, rootType, rootTypes, rootTypes, [], [], none, [], []);
  return { schema, operation, guards, introspection };
}

/** Null propagation as GraphQL execution would do it: up to the nearest nullable position. */
function targetFor(field: FieldFrame, ancestors: readonly FieldFrame[], root: SelectionSetNode): NullTarget {
  // The response keys of the selection holding `f`, so a null put back lands in query order.
  const order = (f: FieldFrame) => responseKeys(f.parent?.selectionSet ?? root);
  if (!isNonNullType(field.type)) {
    return { kind: 'key', remove: field.node, route: field.containerRoute, key: field.key, scope: field.scope, scopeOwner: field.parent, order: order(field) };
  }
  let child = field;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const p = ancestors[i]!;
    if (innermostItemNullable(p.type)) {
      return { kind: 'items', remove: field.node, route: [...p.containerRoute, p.key], scope: child.scope, scopeOwner: p.node };
    }
    if (!isNonNullType(p.type)) return { kind: 'key', remove: p.node, route: p.containerRoute, key: p.key, scope: p.scope, scopeOwner: p.parent, order: order(p) };
    child = p;
  }
  return { kind: 'data' };
}

function responseKeys(set: SelectionSetNode): string[] {
  const out: string[] = [];
  const visit = (s: SelectionSetNode) => {
    for (const sel of s.selections) {
      if (sel.kind === Kind.FIELD) {
        const k = sel.alias?.value ?? sel.name.value;
        if (!out.includes(k)) out.push(k);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) visit(sel.selectionSet);
    }
  };
  visit(set);
  return out;
}

function innermostItemNullable(type: GraphQLOutputType): boolean {
  let t = getNullableType(type);
  if (!isListType(t)) return false;
  while (isListType(t)) {
    const item = t.ofType as GraphQLOutputType;
    if (!isNonNullType(item) && !isListType(item)) return true;
    t = getNullableType(item);
  }
  return false;
}

function listMarkers(type: GraphQLOutputType): string[] {
  const out: string[] = [];
  let t = getNullableType(type);
  while (isListType(t)) {
    out.push('@');
    t = getNullableType(t.ofType as GraphQLOutputType);
  }
  return out;
}

function conditionsOf(directives: readonly DirectiveNode[] | undefined, outer: DirectiveNode[]): DirectiveNode[] {
  const own = directives?.filter((d) => d.name.value === 'skip' || d.name.value === 'include');
  return own?.length ? [...outer, ...own] : outer;
}

function inline(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): SelectionSetNode {
  return {
    ...set,
    selections: set.selections.map((sel) => {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments.get(sel.name.value)!;
        return { kind: Kind.INLINE_FRAGMENT, typeCondition: frag.typeCondition, directives: sel.directives, selectionSet: inline(frag.selectionSet, fragments) };
      }
      if (sel.selectionSet) return { ...sel, selectionSet: inline(sel.selectionSet, fragments) } as typeof sel;
      return sel;
    }),
  };
}

/** Whether `@skip`/`@include` leave this position in the operation for these variables. */
export function isIncluded(conditions: readonly DirectiveNode[], variables: Readonly<Record<string, unknown>>): boolean {
  for (const d of conditions) {
    const arg = d.arguments?.find((a) => a.name.value === 'if')?.value;
    const value = arg?.kind === Kind.BOOLEAN ? arg.value : arg?.kind === Kind.VARIABLE ? variables[arg.name.value] === true : false;
    if (d.name.value === 'skip' ? value : !value) return false;
  }
  return true;
}
