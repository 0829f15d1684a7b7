import {
  getNullableType,
  isAbstractType,
  isListType,
  isNonNullType,
  type GraphQLCompositeType,
  type GraphQLOutputType,
} from 'graphql';
import type { FieldSelection, OperationAnalysis, Selection, SelectionSetInfo } from '../policy.ts';
import { isEmpty, merge, none, type AuthRules, type Requirement } from './directives.ts';

/**
 * One place in the expanded operation: the chain of selections (fields and fragments) from the
 * root. Fragments are not copied to get here: two spreads of one fragment give two positions that
 * share the fragment's selection objects.
 */
export interface Position {
  readonly parent: Position | null;
  readonly selection: Selection;
}

/** Where a denied field's null lands: the field itself, its nearest nullable ancestor, list items, or all of `data`. */
export type NullTarget =
  /** Set `key` to null on the objects reached by `route` (response keys; lists are traversed). */
  | {
      readonly kind: 'key';
      readonly remove: Position;
      readonly route: readonly string[];
      readonly key: string;
      readonly scope: ReadonlySet<string> | null;
      readonly scopeOwner: Position | null;
      readonly order: readonly string[];
    }
  /** Null the items of the list at `route` (its last key is the list field). */
  | {
      readonly kind: 'items';
      readonly remove: Position;
      readonly route: readonly string[];
      readonly scope: ReadonlySet<string> | null;
      readonly scopeOwner: Position;
    }
  | { readonly kind: 'data' };

/** One guarded field selection at one position of the operation. */
export interface Guard {
  readonly index: number;
  readonly requirement: Requirement;
  /** `Type.field`, for messages and logs. */
  readonly coordinate: string;
  /** Response keys from the root, `@` for each list level (Apollo Router's convention). */
  readonly path: ReadonlyArray<string>;
  /** The selections with `@skip`/`@include` on the way to the field, itself included. */
  readonly conditions: readonly Selection[];
  readonly position: Position;
  /** Indexes of the guards that enclose this one. */
  readonly enclosedBy: readonly number[];
  readonly target: NullTarget;
}

export interface AuthAnalysis {
  readonly analysis: OperationAnalysis;
  readonly guards: readonly Guard[];
  /** Selects `__schema` or `__type` at the root. */
  readonly introspection: boolean;
}

interface FieldFrame {
  readonly position: Position;
  readonly key: string;
  readonly type: GraphQLOutputType;
  /** Keys to the objects holding this field. */
  readonly containerRoute: readonly string[];
  readonly scope: ReadonlySet<string> | null;
  readonly parent: FieldFrame | null;
  /** The selection set holding the field (for the key order of a null put back). */
  readonly container: SelectionSetInfo;
  readonly guard: number | null;
}

/**
 * Finds every field selection that needs authorization, and where its null would land. Only the
 * parts of the operation that can hold a guarded field are walked (a memo per selection set says
 * which), and that walk is per position, so it first asks the analysis whether the expansion is
 * within `maxExpandedFields`: over it, the request is refused before a single position is visited.
 */
export function analyze(analysis: OperationAnalysis, rules: AuthRules): AuthAnalysis {
  const schema = analysis.schema;
  const guards: Guard[] = [];
  const possibleCache = new Map<GraphQLCompositeType, ReadonlySet<string>>();
  const possible = (t: GraphQLCompositeType): ReadonlySet<string> => {
    let s = possibleCache.get(t);
    if (!s)
      possibleCache.set(t, (s = new Set(isAbstractType(t) ? schema.getPossibleTypes(t).map((o) => o.name) : [t.name])));
    return s;
  };
  let visits = 0;

  // Whether a field's own rules (on its parent type, any implementation, or its type) can guard it.
  const guardedField = (sel: FieldSelection): boolean => {
    if (sel.name.startsWith('__')) return false;
    const parent = sel.parentType;
    if (rules.fields.has(`${parent.name}.${sel.name}`)) return true;
    if (isAbstractType(parent)) for (const t of possible(parent)) if (rules.fields.has(`${t}.${sel.name}`)) return true;
    return sel.def !== null && rules.types.has(namedTypeName(sel.def.type));
  };
  // Whether walking into this selection can meet a guard (when no enclosing fragment's type is guarded).
  const relevant = (sel: Selection): boolean =>
    sel.kind === 'field'
      ? guardedField(sel) || (!sel.name.startsWith('__') && sel.selectionSet !== null && mayGuard(sel.selectionSet))
      : (sel.typeCondition !== null && rules.types.has(sel.typeCondition.name)) || mayGuard(sel.selectionSet);
  // Per selection set, once: can anything below need authorization? Fragments with a guarded type condition count.
  const mayGuardMemo = new Map<SelectionSetInfo, boolean>();
  const mayGuard = (set: SelectionSetInfo): boolean => {
    const known = mayGuardMemo.get(set);
    if (known !== undefined) return known;
    mayGuardMemo.set(set, false);
    let result = false;
    for (const sel of set.selections) {
      visits++;
      if (relevant(sel)) {
        result = true;
        break;
      }
    }
    mayGuardMemo.set(set, result);
    return result;
  };

  const walk = (
    set: SelectionSetInfo,
    parentType: GraphQLCompositeType,
    full: ReadonlySet<string>,
    scope: ReadonlySet<string>,
    at: Position | null,
    route: readonly string[],
    path: readonly string[],
    typeReqs: Requirement,
    conditions: readonly Selection[],
    parent: FieldFrame | null,
    container: SelectionSetInfo,
  ) => {
    for (const sel of set.selections) {
      // Fields of a fragment whose type condition is guarded inherit its requirement: they are walked whatever the memo says.
      if (isEmpty(typeReqs) && !relevant(sel)) continue;
      visits++;
      const position: Position = { parent: at, selection: sel };
      const conds = sel.conditional ? [...conditions, sel] : conditions;
      if (sel.kind === 'fragment') {
        const cond = sel.typeCondition ?? parentType;
        const condTypes = possible(cond);
        let narrowed = scope;
        for (const t of scope) {
          if (condTypes.has(t)) continue;
          narrowed = new Set([...scope].filter((x) => condTypes.has(x)));
          break;
        }
        const req = sel.typeCondition ? merge(typeReqs, rules.types.get(cond.name) ?? none) : typeReqs;
        walk(sel.selectionSet, cond, full, narrowed, position, route, path, req, conds, parent, container);
        continue;
      }
      const name = sel.name;
      if (name.startsWith('__') || !sel.def) continue;
      let req = merge(typeReqs, rules.fields.get(`${sel.parentType.name}.${name}`) ?? none);
      // A field read through an interface is only as open as its most guarded implementation.
      if (isAbstractType(sel.parentType))
        for (const t of scope) req = merge(req, rules.fields.get(`${t}.${name}`) ?? none);
      req = merge(req, rules.types.get(namedTypeName(sel.def.type)) ?? none);
      const key = sel.responseKey;
      const fieldPath = [...path, key];
      const guard = isEmpty(req) ? null : guards.length;
      const frame: FieldFrame = {
        position,
        key,
        type: sel.def.type,
        containerRoute: route,
        scope: scope.size === full.size ? null : scope,
        parent,
        container,
        guard,
      };
      if (guard !== null) {
        guards.push({
          index: guard,
          requirement: req,
          coordinate: `${sel.parentType.name}.${name}`,
          path: fieldPath,
          conditions: conds,
          position,
          enclosedBy: enclosing(parent),
          target: targetFor(analysis, frame),
        });
      }
      if (sel.selectionSet) {
        const all = possible(sel.selectionSet.type);
        walk(
          sel.selectionSet,
          sel.selectionSet.type,
          all,
          all,
          position,
          [...route, key],
          [...fieldPath, ...listMarkers(sel.def.type)],
          none,
          conds,
          frame,
          sel.selectionSet,
        );
      }
    }
  };

  try {
    if (mayGuard(analysis.root)) {
      analysis.assertExpandable();
      const rootTypes = new Set([analysis.rootType.name]);
      walk(analysis.root, analysis.rootType, rootTypes, rootTypes, null, [], [], none, [], null, analysis.root);
    }
  } finally {
    analysis.countVisits(visits);
  }
  return { analysis, guards, introspection: analysis.introspection };
}

function enclosing(frame: FieldFrame | null): number[] {
  const out: number[] = [];
  for (let f = frame; f; f = f.parent) if (f.guard !== null) out.push(f.guard);
  return out;
}

/** Null propagation as GraphQL execution would do it: up to the nearest nullable position. */
function targetFor(analysis: OperationAnalysis, field: FieldFrame): NullTarget {
  // The response keys of the selection holding `f`, so a null put back lands in query order.
  const order = (f: FieldFrame) => analysis.responseKeys(f.container);
  if (!isNonNullType(field.type)) {
    return {
      kind: 'key',
      remove: field.position,
      route: field.containerRoute,
      key: field.key,
      scope: field.scope,
      scopeOwner: field.parent?.position ?? null,
      order: order(field),
    };
  }
  let child = field;
  for (let p = field.parent; p; p = p.parent) {
    if (innermostItemNullable(p.type)) {
      return {
        kind: 'items',
        remove: field.position,
        route: [...p.containerRoute, p.key],
        scope: child.scope,
        scopeOwner: p.position,
      };
    }
    if (!isNonNullType(p.type))
      return {
        kind: 'key',
        remove: p.position,
        route: p.containerRoute,
        key: p.key,
        scope: p.scope,
        scopeOwner: p.parent?.position ?? null,
        order: order(p),
      };
    child = p;
  }
  return { kind: 'data' };
}

function namedTypeName(type: GraphQLOutputType): string {
  let t: GraphQLOutputType = type;
  while ('ofType' in t) t = t.ofType as GraphQLOutputType;
  return t.name;
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

/** Whether `@skip`/`@include` leave this position in the operation for the request's variables. */
export function isIncluded(analysis: OperationAnalysis, conditions: readonly Selection[]): boolean {
  for (const sel of conditions) if (!analysis.included(sel)) return false;
  return true;
}
