import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  parse,
  print,
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * The operation with every field selected on an interface or union asked on each of its possible
 * types instead: `{ media { title rating } }` becomes
 * `{ media { ... on Book { title rating } ... on Movie { title rating } } }`.
 *
 * Why: Hive Router's planner (0.0.x) plans an interface field at the interface level only, and finds
 * no path when the one subgraph declaring it there is a non-resolvable `@interfaceObject`, although
 * every implementation has the field in another subgraph (conformance case
 * interface-object-shareable-field). Asked per implementation, those paths exist. The runtime tries
 * this only after the planner failed, once per operation (failures and plans are cached).
 *
 * The answer is the same for the client: a selection on an abstract type is, by definition, that
 * selection on each of its possible types, and the shaper is compiled from the client's own
 * document. `__typename` and the existing fragments stay where they are.
 *
 * Returns null when nothing is abstract, or when the result would be larger than `maxLength`
 * characters (each abstract level multiplies its fields by its possible types: the bound keeps a
 * document that passed the operation limits from becoming a huge planner input).
 */
export function explodeAbstractSelections(schema: GraphQLSchema, query: string, maxLength: number): string | null {
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return null;
  }
  let changed = false;
  // Each field copied under N types counts N times: a running total stops a blow-up before it is built.
  let budget = maxLength;

  const rewrite = (set: SelectionSetNode, parent: GraphQLCompositeType): SelectionSetNode => {
    if (!isAbstractType(parent)) {
      return { ...set, selections: set.selections.map((s) => rewriteSelection(s, parent)) };
    }
    const fields: FieldNode[] = [];
    const kept: SelectionNode[] = [];
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD && s.name.value !== '__typename') fields.push(s);
      else kept.push(rewriteSelection(s, parent));
    }
    if (fields.length === 0) return { ...set, selections: kept };
    changed = true;
    const perType: InlineFragmentNode[] = schema.getPossibleTypes(parent).map((type) => ({
      kind: Kind.INLINE_FRAGMENT,
      typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: type.name } },
      directives: [],
      selectionSet: { kind: Kind.SELECTION_SET, selections: fields.map((f) => rewriteField(f, type)) },
    }));
    return { ...set, selections: [...kept, ...perType] };
  };

  const rewriteSelection = (s: SelectionNode, parent: GraphQLCompositeType): SelectionNode => {
    if (s.kind === Kind.FIELD) return isObjectType(parent) ? rewriteField(s, parent) : s;
    if (s.kind === Kind.FRAGMENT_SPREAD) return s; // its definition is rewritten on its own
    const type = s.typeCondition ? composite(schema.getType(s.typeCondition.name.value)) : parent;
    return type ? { ...s, selectionSet: rewrite(s.selectionSet, type) } : s;
  };

  const rewriteField = (f: FieldNode, parent: GraphQLCompositeType): FieldNode => {
    budget -= f.name.value.length + 1;
    if (budget < 0) throw tooLarge;
    if (!f.selectionSet || isAbstractType(parent)) return f;
    const type = composite(getNamedType(parent.getFields()[f.name.value]?.type));
    return type ? { ...f, selectionSet: rewrite(f.selectionSet, type) } : f;
  };

  try {
    const definitions = document.definitions.map((d) => {
      if (d.kind === Kind.OPERATION_DEFINITION) {
        const root = schema.getRootType(d.operation);
        return root ? { ...d, selectionSet: rewrite(d.selectionSet, root) } : d;
      }
      if (d.kind === Kind.FRAGMENT_DEFINITION) {
        const type = composite(schema.getType(d.typeCondition.name.value));
        return type ? { ...d, selectionSet: rewrite(d.selectionSet, type) } : d;
      }
      return d;
    });
    if (!changed) return null;
    const out = print({ ...document, definitions });
    return out.length <= maxLength ? out : null;
  } catch (err) {
    if (err === tooLarge) return null;
    throw err;
  }
}

const tooLarge = new Error('exploded operation too large');

function composite(type: GraphQLNamedType | undefined | null): GraphQLCompositeType | null {
  return type && (isObjectType(type) || isAbstractType(type)) ? type : null;
}
