import { Kind, type DocumentNode, type FieldNode, type SelectionNode, type SelectionSetNode } from 'graphql';
import type { GraphQLFormattedError } from 'graphql';
import type { ResponseView } from '../policy.ts';
import type { Analysis, Guard, NullTarget } from './analyze.ts';

/**
 * Added where the filter needs an object's runtime type (a null limited to one fragment's types)
 * or where removing fields left a selection set empty. Stripped from the response.
 */
export const MARKER = '__tessera_typename';
const markerField: FieldNode = { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: MARKER }, name: { kind: Kind.NAME, value: '__typename' } };

export interface FilterPlan {
  readonly document: DocumentNode;
  /** Identifies the rewrite for the query-plan cache. */
  readonly planKey: string;
  readonly targets: readonly NullTarget[];
  /** The guards that produce an error (not those inside an ancestor that is itself denied). */
  readonly reported: readonly Guard[];
  readonly dataNull: boolean;
}

/** The operation without the denied fields, plus what to patch into the response afterwards. */
export function planFilter(analysis: Analysis, denied: readonly Guard[]): FilterPlan {
  const deniedFields = new Set(denied.map((g) => g.field));
  const inside = denied.filter((g) => !g.ancestors.some((a) => deniedFields.has(a)));
  const targets = inside.map((g) => g.target);
  // A field reached through an interface and again through a fragment is one path: one error.
  const seen = new Set<string>();
  const reported = inside.filter((g) => {
    const key = g.path.join('\u0000');
    return !seen.has(key) && seen.add(key);
  });
  const dataNull = targets.some((t) => t.kind === 'data');
  const remove = new Set<FieldNode>();
  const marked = new Set<FieldNode | null>();
  for (const t of targets) {
    if (t.kind === 'data') continue;
    remove.add(t.remove);
    if (t.scope) marked.add(t.scopeOwner);
  }
  const op = analysis.operation;
  const selectionSet: SelectionSetNode = dataNull
    ? { kind: Kind.SELECTION_SET, selections: [markerField] }
    : copy(op.selectionSet, null, remove, marked, false)!;
  return {
    document: { kind: Kind.DOCUMENT, definitions: [{ ...op, selectionSet }] },
    planKey: `authz:${inside.map((g) => g.index).join(',')}`,
    targets,
    reported,
    dataNull,
  };
}

function copy(set: SelectionSetNode, owner: FieldNode | null, remove: ReadonlySet<FieldNode>, marked: ReadonlySet<FieldNode | null>, inFragment: boolean): SelectionSetNode | null {
  const selections: SelectionNode[] = [];
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (remove.has(sel)) continue;
      selections.push(sel.selectionSet ? { ...sel, selectionSet: copy(sel.selectionSet, sel, remove, marked, false)! } : sel);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const inner = copy(sel.selectionSet, owner, remove, marked, true);
      if (inner) selections.push({ ...sel, selectionSet: inner });
    }
  }
  if (inFragment) return selections.length ? { ...set, selections } : null;
  if (marked.has(owner) || selections.length === 0) selections.push(markerField);
  return { ...set, selections };
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
    else if (el !== null && typeof el === 'object' && (!scope || scope.has((el as Record<string, unknown>)[MARKER] as string))) list[i] = null;
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
