import {
  getArgumentValues, getNamedType, getNullableType, getVariableValues, isAbstractType, isCompositeType, isInputObjectType, isListType, isObjectType, Kind,
  type DirectiveNode, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLField,
  type GraphQLInputType, type GraphQLObjectType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import type { CostWeights, ListSize } from './directives.ts';

/** The operation breaks a `@listSize(requireOneSlicingArgument: true)` rule. */
export class SlicingArgumentError extends Error {}

export interface CostSettings {
  readonly defaultListSize: number;
  readonly mutationBaseCost: number;
}

/**
 * Static cost following the IBM GraphQL cost specification as Apollo Router implements it:
 * each field costs its weight (`@cost` on the field, else on its type, else 1 for objects,
 * interfaces and unions and 0 for scalars and enums) plus its selections, times its list size
 * (`@listSize` slicing argument value, else `assumedSize`, else the default), plus the weights of
 * the arguments it is given. On an abstract type the most expensive possible type counts.
 */
export function estimateCost(
  schema: GraphQLSchema, weights: CostWeights, document: DocumentNode, operation: OperationDefinitionNode,
  rawVariables: Readonly<Record<string, unknown>>, settings: CostSettings,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables as Record<string, unknown>);
  const variables = coerced.coerced ?? {};
  const root = schema.getRootType(operation.operation)!;
  const mutation = operation.operation === 'mutation';

  const included = (directives: readonly DirectiveNode[] | undefined): boolean => {
    if (!directives?.length) return true;
    for (const d of directives) {
      if (d.name.value !== 'skip' && d.name.value !== 'include') continue;
      const v = d.arguments?.[0]?.value;
      const on = v?.kind === Kind.BOOLEAN ? v.value : v?.kind === Kind.VARIABLE ? variables[v.name.value] === true : false;
      if (d.name.value === 'skip' ? on : !on) return false;
    }
    return true;
  };

  const listSizeOf = (coordinate: string, ls: ListSize | undefined, args: Record<string, unknown>): number => {
    if (ls && ls.slicingArguments.length) {
      const values = ls.slicingArguments.map((a) => args[a]).filter((v): v is number => typeof v === 'number');
      if (ls.requireOneSlicingArgument && values.length !== 1) {
        throw new SlicingArgumentError(`${coordinate} needs exactly one of its slicing arguments (${ls.slicingArguments.join(', ')}); got ${values.length}.`);
      }
      if (values.length) return Math.max(0, ...values);
    }
    return ls?.assumedSize ?? settings.defaultListSize;
  };

  const inputCost = (type: GraphQLInputType, value: unknown): number => {
    const t = getNullableType(type);
    if (value === null || value === undefined) return 0;
    if (isListType(t)) return Array.isArray(value) ? value.reduce((s: number, v) => s + inputCost(t.ofType, v), 0) : inputCost(t.ofType, value);
    if (!isInputObjectType(t)) return weights.cost.get(t.name) ?? 0;
    let sum = weights.cost.get(t.name) ?? 0;
    for (const [name, f] of Object.entries(t.getFields())) {
      const v = (value as Record<string, unknown>)[name];
      if (v === undefined || v === null) continue;
      sum += (weights.cost.get(`${t.name}.${name}`) ?? 0) + inputCost(f.type, v);
    }
    return sum;
  };

  const fieldCost = (node: FieldNode, owner: GraphQLObjectType, def: GraphQLField<unknown, unknown>, sized: number | undefined, atRoot: boolean): number => {
    const named = getNamedType(def.type);
    const coordinate = `${owner.name}.${def.name}`;
    let weight = weights.cost.get(coordinate) ?? weights.cost.get(named.name) ?? (isCompositeType(named) ? 1 : 0);
    if (atRoot && mutation) weight += settings.mutationBaseCost;
    const args = def.args.length ? getArgumentValues(def, node, variables) : {};
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
    const children = node.selectionSet && isCompositeType(named) ? selectionSetCost(node.selectionSet, named, childSized) : 0;
    return multiplier * (weight + children) + argumentsCost;
  };

  /** Sum over the selections that apply to `concrete`, looked up in `scope`. */
  const costFor = (set: SelectionSetNode, scope: GraphQLCompositeType, concrete: GraphQLObjectType, sized: ReadonlyMap<string, number> | null, atRoot: boolean): number => {
    let sum = 0;
    for (const sel of set.selections) {
      if (!included(sel.directives)) continue;
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        if (name.startsWith('__')) continue;
        const def = concrete.getFields()[name];
        if (def) sum += fieldCost(sel, concrete, def, sized?.get(sel.alias?.value ?? name) ?? sized?.get(name), atRoot);
        continue;
      }
      const cond = sel.kind === Kind.INLINE_FRAGMENT ? sel.typeCondition : fragments.get(sel.name.value)?.typeCondition;
      const body = sel.kind === Kind.INLINE_FRAGMENT ? sel.selectionSet : fragments.get(sel.name.value)?.selectionSet;
      if (!body) continue;
      const condType = cond ? (schema.getType(cond.name.value) as GraphQLCompositeType) : scope;
      if (condType.name !== concrete.name && !(isAbstractType(condType) && schema.isSubType(condType, concrete))) continue;
      sum += costFor(body, condType, concrete, sized, atRoot);
    }
    return sum;
  };

  const selectionSetCost = (set: SelectionSetNode, type: GraphQLCompositeType, sized: ReadonlyMap<string, number> | null): number => {
    if (isObjectType(type)) return costFor(set, type, type, sized, false);
    let max = 0;
    for (const t of schema.getPossibleTypes(type)) max = Math.max(max, costFor(set, type, t, sized, false));
    return max;
  };

  return costFor(operation.selectionSet, root, root, null, true);
}
