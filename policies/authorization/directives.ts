import { Kind, type ConstDirectiveNode, type ConstValueNode, type DefinitionNode, type DocumentNode } from 'graphql';

/**
 * What one schema element requires. Every entry of `scopes` (one per `@requiresScopes`) must be
 * satisfied; an entry is an OR of AND-lists. `policies` works the same with policy names.
 */
export interface Requirement {
  readonly authenticated: boolean;
  readonly scopes: ReadonlyArray<ReadonlyArray<ReadonlyArray<string>>>;
  readonly policies: ReadonlyArray<ReadonlyArray<ReadonlyArray<string>>>;
}

export const none: Requirement = { authenticated: false, scopes: [], policies: [] };

export function isEmpty(r: Requirement): boolean {
  return !r.authenticated && r.scopes.length === 0 && r.policies.length === 0;
}

export function merge(a: Requirement, b: Requirement): Requirement {
  if (isEmpty(b)) return a;
  if (isEmpty(a)) return b;
  return {
    authenticated: a.authenticated || b.authenticated,
    scopes: [...a.scopes, ...b.scopes],
    policies: [...a.policies, ...b.policies],
  };
}

/** Requirements keyed by type name and by `Type.field`. */
export interface AuthRules {
  readonly types: ReadonlyMap<string, Requirement>;
  readonly fields: ReadonlyMap<string, Requirement>;
}

const specs = {
  authenticated: 'https://specs.apollo.dev/authenticated/',
  requiresScopes: 'https://specs.apollo.dev/requiresScopes/',
  policy: 'https://specs.apollo.dev/policy/',
} as const;
type Kind3 = keyof typeof specs;

/**
 * Reads the authorization directives from a parsed supergraph. Composition keeps them (as
 * `@link`ed features), while the API schema the gateway validates against drops them, so the
 * supergraph text is the source of truth. Names honour `@link(as:)`.
 */
export function readAuthRules(doc: DocumentNode): AuthRules {
  const names = new Map<string, Kind3>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'link') continue;
      const url = stringArg(d, 'url');
      const kind = (Object.keys(specs) as Kind3[]).find((k) => url?.startsWith(specs[k]));
      if (kind) names.set(stringArg(d, 'as') ?? kind, kind);
    }
  }
  const types = new Map<string, Requirement>();
  const fields = new Map<string, Requirement>();
  if (names.size === 0) return { types, fields };
  const read = (directives: readonly ConstDirectiveNode[] | undefined): Requirement => {
    let r = none;
    for (const d of directives ?? []) {
      const kind = names.get(d.name.value);
      if (kind === 'authenticated') r = merge(r, { authenticated: true, scopes: [], policies: [] });
      else if (kind === 'requiresScopes')
        r = merge(r, { authenticated: false, scopes: [listOfLists(d, 'scopes')], policies: [] });
      else if (kind === 'policy')
        r = merge(r, { authenticated: false, scopes: [], policies: [listOfLists(d, 'policies')] });
    }
    return r;
  };
  const add = (map: Map<string, Requirement>, key: string, r: Requirement) => {
    if (!isEmpty(r)) map.set(key, merge(map.get(key) ?? none, r));
  };
  for (const def of doc.definitions as DefinitionNode[]) {
    if (!('name' in def) || !def.name || !('directives' in def)) continue;
    const typeName = def.name.value;
    add(types, typeName, read(def.directives as readonly ConstDirectiveNode[]));
    if (
      (def.kind === Kind.OBJECT_TYPE_DEFINITION ||
        def.kind === Kind.OBJECT_TYPE_EXTENSION ||
        def.kind === Kind.INTERFACE_TYPE_DEFINITION ||
        def.kind === Kind.INTERFACE_TYPE_EXTENSION) &&
      def.fields
    ) {
      for (const f of def.fields) add(fields, `${typeName}.${f.name.value}`, read(f.directives));
    }
  }
  return { types, fields };
}

function stringArg(d: ConstDirectiveNode, name: string): string | undefined {
  const v = d.arguments?.find((a) => a.name.value === name)?.value;
  return v?.kind === Kind.STRING ? v.value : undefined;
}

function listOfLists(d: ConstDirectiveNode, name: string): string[][] {
  const v = d.arguments?.find((a) => a.name.value === name)?.value;
  const list = (x: ConstValueNode | undefined): ConstValueNode[] =>
    x?.kind === Kind.LIST ? [...x.values] : x ? [x] : [];
  return list(v).map((inner) => list(inner).flatMap((s) => (s.kind === Kind.STRING ? [s.value] : [])));
}
