import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isInputObjectType,
  isListType,
  isObjectType,
  type GraphQLCompositeType,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import type { FieldSelection, OperationAnalysis, SelectionSetInfo } from '../policy.ts';
import type { CostWeights, ListSize } from './directives.ts';

/** The operation breaks a `@listSize(requireOneSlicingArgument: true)` rule. */
export class SlicingArgumentError extends Error {}

/** A slicing argument is negative or null: the list's size cannot be known, so it cannot be costed. */
export class InvalidSlicingArgumentError extends Error {}

export interface CostSettings {
  readonly defaultListSize: number;
  readonly mutationBaseCost: number;
  /** Per `__schema` / `__type` selection. */
  readonly introspectionCost: number;
}

/** `a * b` where 0 wins over Infinity (an empty page of an unbounded list costs nothing, not NaN). */
const times = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : a * b);

/**
 * Static cost following the IBM GraphQL cost specification as Apollo Router implements it:
 * each field costs its weight (`@cost` on the field, else on its type, else 1 for objects,
 * interfaces and unions and 0 for scalars and enums) plus its selections, times its list size
 * (`@listSize` slicing argument value, else `assumedSize`, else the default), plus the weights of
 * the arguments it is given, plus the cost of what its `@requires` makes the plan fetch on the
 * same object. On an abstract type the most expensive possible type counts. `__schema`/`__type`
 * cost `introspectionCost` each.
 *
 * It folds over the shared analysis: each (selection set, concrete type, list-size context) is
 * costed once per request and reused for every spread of it, so a fragment chain costs its token
 * count, never its expansion. A negative or null slicing argument is refused
 * (InvalidSlicingArgumentError → INVALID_SLICING_ARGUMENT) rather than costed as an empty list.
 */
export function estimateCost(analysis: OperationAnalysis, weights: CostWeights, settings: CostSettings): number {
  const schema = analysis.schema;
  const mutation = analysis.operation.operation === 'mutation';
  // Arguments are read lazily: an operation without variables never coerces any.
  const variables = () => analysis.variableValues as Record<string, unknown>;
  const memo = new Map<SelectionSetInfo, Map<string, number>>();
  let visits = 0;

  const listSizeOf = (coordinate: string, ls: ListSize | undefined, args: Record<string, unknown>): number => {
    if (ls && ls.slicingArguments.length) {
      const values: number[] = [];
      for (const a of ls.slicingArguments) {
        if (!(a in args)) continue;
        const v = args[a];
        if (v === null || (typeof v === 'number' && v < 0)) {
          throw new InvalidSlicingArgumentError(
            `${coordinate} was given ${a}: ${String(v)}; a slicing argument must be a non-negative number.`,
          );
        }
        if (typeof v === 'number') values.push(v);
      }
      if (ls.requireOneSlicingArgument && values.length !== 1) {
        throw new SlicingArgumentError(
          `${coordinate} needs exactly one of its slicing arguments (${ls.slicingArguments.join(', ')}); got ${values.length}.`,
        );
      }
      if (values.length) return Math.max(...values);
    }
    return ls?.assumedSize ?? settings.defaultListSize;
  };

  const inputCost = (type: GraphQLInputType, value: unknown): number => {
    const t = getNullableType(type);
    if (value === null || value === undefined) return 0;
    if (isListType(t))
      return Array.isArray(value)
        ? value.reduce((s: number, v) => s + inputCost(t.ofType, v), 0)
        : inputCost(t.ofType, value);
    if (!isInputObjectType(t)) return weights.cost.get(t.name) ?? 0;
    let sum = weights.cost.get(t.name) ?? 0;
    for (const [name, f] of Object.entries(t.getFields())) {
      const v = (value as Record<string, unknown>)[name];
      if (v === undefined || v === null) continue;
      sum += (weights.cost.get(`${t.name}.${name}`) ?? 0) + inputCost(f.type, v);
    }
    return sum;
  };

  const fieldCost = (
    sel: FieldSelection,
    owner: GraphQLObjectType,
    sized: number | undefined,
    atRoot: boolean,
  ): number => {
    const def = owner.getFields()[sel.name];
    if (!def) return 0;
    const named = getNamedType(def.type);
    const coordinate = `${owner.name}.${def.name}`;
    let weight = weights.cost.get(coordinate) ?? weights.cost.get(named.name) ?? (isCompositeType(named) ? 1 : 0);
    if (atRoot && mutation) weight += settings.mutationBaseCost;
    const args = def.args.length ? getArgumentValues(def, sel.node, variables()) : {};
    let argumentsCost = 0;
    for (const a of def.args) {
      const v = args[a.name];
      if (v === undefined || v === null) continue;
      argumentsCost += (weights.cost.get(`${coordinate}(${a.name}:)`) ?? 0) + inputCost(a.type, v);
    }
    const ls = weights.listSize.get(coordinate);
    let multiplier = 1;
    let childSized: ReadonlyMap<string, number> | null = null;
    if (ls?.sizedFields.length) childSized = new Map(ls.sizedFields.map((f) => [f, listSizeOf(coordinate, ls, args)]));
    else if (sized !== undefined) multiplier = sized;
    else if (isListType(getNullableType(def.type))) multiplier = listSizeOf(coordinate, ls, args);
    const children =
      sel.selectionSet && isCompositeType(named) ? selectionSetCost(sel.selectionSet, named, childSized) : 0;
    // Fetched once per object that holds the field, not per item of the field's own list.
    const requires = analysis.requires.get(coordinate);
    const requiresCost = requires ? costFor(requires, owner, null, false) : 0;
    return times(multiplier, weight + children) + argumentsCost + requiresCost;
  };

  /** Sum over the selections that apply to `concrete`, memoized per set and context. */
  const costFor = (
    set: SelectionSetInfo,
    concrete: GraphQLObjectType,
    sized: ReadonlyMap<string, number> | null,
    atRoot: boolean,
  ): number => {
    const key = `${concrete.name}|${atRoot ? 1 : 0}|${sized ? JSON.stringify([...sized]) : ''}`;
    let bySet = memo.get(set);
    const known = bySet?.get(key);
    if (known !== undefined) return known;
    let sum = 0;
    for (const sel of set.selections) {
      visits++;
      if (!analysis.included(sel)) continue;
      if (sel.kind === 'field') {
        if (sel.name === '__schema' || sel.name === '__type') sum += settings.introspectionCost;
        else if (!sel.name.startsWith('__'))
          sum += fieldCost(sel, concrete, sized?.get(sel.responseKey) ?? sized?.get(sel.name), atRoot);
        continue;
      }
      const cond = sel.typeCondition;
      if (cond && cond.name !== concrete.name && !(isAbstractType(cond) && schema.isSubType(cond, concrete))) continue;
      sum += costFor(sel.selectionSet, concrete, sized, atRoot);
    }
    if (!bySet) memo.set(set, (bySet = new Map()));
    bySet.set(key, sum);
    return sum;
  };

  const selectionSetCost = (
    set: SelectionSetInfo,
    type: GraphQLCompositeType,
    sized: ReadonlyMap<string, number> | null,
  ): number => {
    if (isObjectType(type)) return costFor(set, type, sized, false);
    let max = 0;
    for (const t of schema.getPossibleTypes(type)) max = Math.max(max, costFor(set, t, sized, false));
    return max;
  };

  try {
    return costFor(analysis.root, analysis.rootType, null, true);
  } finally {
    analysis.countVisits(visits);
  }
}
