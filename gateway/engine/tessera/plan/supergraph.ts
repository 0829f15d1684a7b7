import {
  buildASTSchema,
  isAbstractType,
  isObjectType,
  Kind,
  parse,
  type DefinitionNode,
  type ConstDirectiveNode,
  type DirectiveNode,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

/**
 * What the executor needs from one supergraph, read once per generation: the subgraphs' routing
 * URLs (from `join__Graph`), and which object types satisfy a type condition (the plan's
 * `TypeCondition`/`TypenameEquals` segments and `requires` fragments name supergraph types, some
 * of which the API schema hides: `@interfaceObject` interfaces, `@inaccessible` types).
 */
export class SupergraphInfo {
  /** Subgraph name (as plans' `serviceName` say it) → routing URL. */
  readonly subgraphs: ReadonlyMap<string, string>;
  private readonly schema: GraphQLSchema;
  /** `typename + '\0' + condition` → whether a value of that type satisfies the condition. */
  private readonly satisfies = new Map<string, boolean>();

  constructor(supergraphSdl: string) {
    const doc = parse(supergraphSdl, { noLocation: true });
    this.subgraphs = graphUrls(doc);
    this.schema = buildASTSchema(doc, { assumeValid: true, assumeValidSDL: true });
  }

  /** Whether a value whose `__typename` is `typename` is selected by `... on <condition>`. */
  typeSatisfies(typename: string, condition: string): boolean {
    if (typename === condition) return true;
    const key = `${typename}\0${condition}`;
    let yes = this.satisfies.get(key);
    if (yes === undefined) {
      const type = this.schema.getType(typename);
      const cond = this.schema.getType(condition);
      yes =
        (cond !== undefined && isAbstractType(cond) && type !== undefined && isObjectType(type)
          ? this.schema.isSubType(cond, type)
          : false) ||
        // An @interfaceObject subgraph answers with the interface's name: it satisfies its implementations' conditions.
        (type !== undefined && isAbstractType(type) && cond !== undefined && isObjectType(cond)
          ? this.schema.isSubType(type, cond)
          : false);
      if (this.satisfies.size < 10_000) this.satisfies.set(key, yes);
    }
    return yes;
  }

  /** Whether `field` of supergraph type `typename` is non-null (a required key that must not be sent as null). */
  isNonNullField(typename: string, field: string): boolean {
    const type = this.schema.getType(typename);
    if (!type || !('getFields' in type)) return false;
    const def = type.getFields()[field];
    return def !== undefined && 'type' in def && def.type.toString().endsWith('!');
  }
}

function graphUrls(doc: DocumentNode): Map<string, string> {
  const out = new Map<string, string>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const value of def.values ?? []) {
      const graph = value.directives?.find((d) => d.name.value === 'join__graph');
      const name = stringArg(graph, 'name');
      const url = stringArg(graph, 'url');
      if (name !== undefined) out.set(name, url ?? '');
    }
  }
  return out;
}

function stringArg(d: DirectiveNode | undefined, name: string): string | undefined {
  const arg = d?.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

/** Directives a client may use or see in the API schema; the rest of the planner's consumer schema is federation's. */
const apiDirectives = new Set(['skip', 'include', 'deprecated', 'specifiedBy', 'oneOf']);

/**
 * The API schema from the planner's `consumerSchema`: the planner already removed `@inaccessible`
 * elements and the join/link machinery, but its SDL also spells out the introspection types and
 * `__schema`/`__type` on Query, and keeps feature namespaced types (`join__FieldValue`,
 * `policy__Policy`) and security directives that clients must not see through introspection.
 */
export function apiSchemaFromConsumerSchema(consumerSchema: string): GraphQLSchema {
  const doc = parse(consumerSchema, { noLocation: true });
  const keepDirective = new Set<string>();
  for (const def of doc.definitions)
    if (def.kind === Kind.DIRECTIVE_DEFINITION && apiDirectives.has(def.name.value)) keepDirective.add(def.name.value);
  const directives = (ds: readonly ConstDirectiveNode[] | undefined) =>
    ds?.filter((d) => keepDirective.has(d.name.value));
  const definitions: DefinitionNode[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.DIRECTIVE_DEFINITION) {
      if (keepDirective.has(def.name.value)) definitions.push(def);
      continue;
    }
    if ('name' in def && def.name && def.name.value.includes('__')) continue;
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_DEFINITION:
        definitions.push({
          ...def,
          directives: directives(def.directives),
          fields: def.fields
            ?.filter((f) => !f.name.value.startsWith('__'))
            .map((f) => ({ ...f, directives: directives(f.directives) })),
        });
        break;
      case Kind.ENUM_TYPE_DEFINITION:
        definitions.push({
          ...def,
          directives: directives(def.directives),
          values: def.values?.map((v) => ({ ...v, directives: directives(v.directives) })),
        });
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        definitions.push({
          ...def,
          directives: directives(def.directives),
          fields: def.fields?.map((f) => ({ ...f, directives: directives(f.directives) })),
        });
        break;
      case Kind.UNION_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_DEFINITION:
        definitions.push({ ...def, directives: directives(def.directives) });
        break;
      default:
        definitions.push(def);
    }
  }
  return buildASTSchema({ kind: Kind.DOCUMENT, definitions }, { assumeValidSDL: true });
}
