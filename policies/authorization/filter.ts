import { createHash } from 'node:crypto';
import {
  Kind,
  type DefinitionNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ResponseView, SelectionSetInfo } from '../policy.ts';
import type { AuthAnalysis, Guard, NullTarget, Position } from './analyze.ts';

/**
 * Added where the filter needs an object's runtime type (a null limited to one fragment's types)
 * or where removing fields left a selection set empty. Stripped from the response.
 */
export const MARKER = '__tessera_typename';
const markerField: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: MARKER },
  name: { kind: Kind.NAME, value: '__typename' },
};

export interface FilterPlan {
  readonly document: DocumentNode;
  /** Identifies the rewrite for the query-plan cache. */
  readonly planKey: string;
  /** One per distinct null to put back (several positions of one fragment can land on the same key). */
  readonly targets: readonly NullTarget[];
  /** The guards that produce an error (not those inside an ancestor that is itself denied). */
  readonly reported: readonly Guard[];
  readonly dataNull: boolean;
}

/**
 * The operation without the denied fields, plus what to patch into the response afterwards. It is
 * copy-on-write: only the selection sets on the way to a removed field (or to a typename marker)
 * are copied. A fragment spread on that way becomes an inline fragment holding a copy of the
 * fragment minus the removal, so the fragment's other spreads keep the original definition.
 */
export function planFilter(auth: AuthAnalysis, denied: readonly Guard[]): FilterPlan {
  const deniedIndexes = new Set(denied.map((g) => g.index));
  const inside = denied.filter((g) => !g.enclosedBy.some((i) => deniedIndexes.has(i)));
  // A field reached through an interface and again through a fragment is one path: one error.
  const seen = new Set<string>();
  const reported = inside.filter((g) => {
    const key = g.path.join('\u0000');
    return !seen.has(key) && seen.add(key);
  });
  const dataNull = inside.some((g) => g.target.kind === 'data');
  const remove = new Set<Position>();
  const marked = new Set<Position | null>();
  const targets: NullTarget[] = [];
  const distinct = new Set<string>();
  for (const { target: t } of inside) {
    if (t.kind === 'data') continue;
    remove.add(t.remove);
    if (t.scope) marked.add(t.scopeOwner);
    const id = `${t.kind}\u0000${t.route.join('\u0000')}\u0000${t.kind === 'key' ? t.key : ''}\u0000${t.scope ? [...t.scope].sort().join(',') : ''}`;
    if (!distinct.has(id)) {
      distinct.add(id);
      targets.push(t);
    }
  }
  const analysis = auth.analysis;
  const op = analysis.operation;
  let definitions: DefinitionNode[];
  if (dataNull) {
    definitions = [{ ...op, selectionSet: { kind: Kind.SELECTION_SET, selections: [markerField] } }];
  } else {
    // The positions on the way to each removal or marker, by the position (or null, the root) holding them.
    const touched = new Map<Position | null, Map<object, Position>>();
    const touch = (p: Position | null) => {
      for (let at = p; at; at = at.parent) {
        let kids = touched.get(at.parent);
        if (!kids) touched.set(at.parent, (kids = new Map()));
        if (kids.has(at.selection)) return;
        kids.set(at.selection, at);
      }
    };
    for (const p of remove) touch(p);
    for (const p of marked) touch(p);
    let copied = 0;
    const rewrite = (set: SelectionSetInfo, at: Position | null, fieldLevel: boolean): SelectionSetNode | null => {
      const kids = touched.get(at);
      const selections: SelectionNode[] = [];
      for (const sel of set.selections) {
        copied++;
        const p = kids?.get(sel);
        if (!p) selections.push(sel.node);
        else if (remove.has(p)) continue;
        else if (sel.kind === 'field')
          selections.push({ ...sel.node, selectionSet: rewrite(sel.selectionSet!, p, true)! });
        else {
          const inner = rewrite(sel.selectionSet, p, false);
          if (!inner) continue;
          const typeCondition =
            sel.node.kind === Kind.INLINE_FRAGMENT
              ? sel.node.typeCondition
              : analysis.fragments.get(sel.node.name.value)?.typeCondition;
          selections.push({
            kind: Kind.INLINE_FRAGMENT,
            ...(typeCondition ? { typeCondition } : {}),
            ...(sel.node.directives ? { directives: sel.node.directives } : {}),
            selectionSet: inner,
          });
        }
      }
      if (!fieldLevel) return selections.length ? { kind: Kind.SELECTION_SET, selections } : null;
      if (marked.has(at) || selections.length === 0) selections.push(markerField);
      return { kind: Kind.SELECTION_SET, selections };
    };
    const selectionSet = rewrite(analysis.root, null, true)!;
    analysis.countVisits(copied);
    definitions = [{ ...op, selectionSet }, ...fragmentsUsed(selectionSet, analysis.fragments)];
  }
  const ids = inside.map((g) => g.index).join(',');
  return {
    document: { kind: Kind.DOCUMENT, definitions },
    // A denial list can be long (a fragment spread many times): the plan cache key stays short.
    planKey: `authz:${ids.length > 64 ? createHash('sha256').update(ids).digest('base64url') : ids}`,
    targets,
    reported,
    dataNull,
  };
}

/** The fragment definitions the rewritten operation still spreads (the planner refuses unused ones). */
function fragmentsUsed(
  root: SelectionSetNode,
  definitions: ReadonlyMap<string, FragmentDefinitionNode>,
): FragmentDefinitionNode[] {
  const used = new Map<string, FragmentDefinitionNode>();
  const visit = (set: SelectionSetNode) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const def = definitions.get(sel.name.value);
        if (def && !used.has(def.name.value)) {
          used.set(def.name.value, def);
          visit(def.selectionSet);
        }
      } else if (sel.selectionSet) visit(sel.selectionSet);
    }
  };
  visit(root);
  return [...used.values()];
}

/** Puts the denied fields back as nulls (or nulls their nearest nullable parent) and adds one error per path. */
export function patchResponse(plan: FilterPlan, response: ResponseView): void {
  const errors: GraphQLFormattedError[] = plan.reported.map((g) => ({
    message: `Unauthorized field or type: ${g.coordinate}`,
    path: [...g.path],
    extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
  }));
  response.errors = [...(response.errors ?? []), ...errors];
  if (plan.dataNull) {
    response.data = null;
    return;
  }
  const data = response.data;
  if (!data) return;
  for (const t of plan.targets) {
    if (t.kind === 'key') {
      visit(data, t.route, 0, (obj) => {
        if (t.scope && !t.scope.has(obj[MARKER] as string)) return;
        const added = !(t.key in obj);
        obj[t.key] = null;
        if (added) reorder(obj, t.order);
      });
    } else if (t.kind === 'items') {
      const last = t.route.at(-1)!;
      visit(data, t.route.slice(0, -1), 0, (obj) => nullItems(obj[last], t.scope));
    }
  }
  strip(data);
}

function visit(value: unknown, route: readonly string[], i: number, fn: (obj: Record<string, unknown>) => void): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) visit(v, route, i, fn);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (i === route.length) fn(obj);
  else visit(obj[route[i]!], route, i + 1, fn);
}

/** Re-inserts the keys in selection order (JS objects keep insertion order). */
function reorder(obj: Record<string, unknown>, order: readonly string[]): void {
  const entries = Object.entries(obj);
  for (const [k] of entries) delete obj[k];
  const values = new Map(entries);
  for (const k of order) if (values.has(k)) obj[k] = values.get(k);
  for (const [k, v] of entries) if (!(k in obj)) obj[k] = v;
}

function nullItems(list: unknown, scope: ReadonlySet<string> | null): void {
  if (!Array.isArray(list)) return;
  for (let i = 0; i < list.length; i++) {
    const el = list[i];
    if (Array.isArray(el)) nullItems(el, scope);
    else if (
      el !== null &&
      typeof el === 'object' &&
      (!scope || scope.has((el as Record<string, unknown>)[MARKER] as string))
    )
      list[i] = null;
  }
}

function strip(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) strip(v);
    return;
  }
  const obj = value as Record<string, unknown>;
  delete obj[MARKER];
  for (const k in obj) strip(obj[k]);
}
