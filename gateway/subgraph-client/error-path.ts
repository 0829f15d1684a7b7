import { Kind, parse, type DocumentNode, type SelectionSetNode } from 'graphql';

const parsed = new Map<string, DocumentNode>();

/**
 * The path a whole-fetch failure is reported at, in the subgraph's own response shape. The
 * gateway rewrites it to the client's shape: `['_entities', 0, 'reviews']` becomes
 * `['topProducts', 0, 'reviews']`; a root fetch's `['topProducts']` stays as it is.
 */
export function failurePath(
  query: string,
  document: DocumentNode | undefined,
  isEntityFetch: boolean,
): Array<string | number> | undefined {
  const doc = document ?? cachedParse(query);
  const op = doc?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return undefined;
  if (!isEntityFetch) {
    const key = firstResponseKey(op.selectionSet);
    return key ? [key] : undefined;
  }
  const entities = op.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
  if (!entities || entities.kind !== Kind.FIELD || !entities.selectionSet) return undefined;
  const key = firstResponseKey(entities.selectionSet);
  return key ? ['_entities', 0, key] : ['_entities', 0];
}

function firstResponseKey(set: SelectionSetNode): string | undefined {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD && s.name.value !== '__typename') return s.alias?.value ?? s.name.value;
    if (s.kind === Kind.INLINE_FRAGMENT) {
      const inner = firstResponseKey(s.selectionSet);
      if (inner) return inner;
    }
  }
  return undefined;
}

function cachedParse(query: string): DocumentNode | undefined {
  let doc = parsed.get(query);
  if (!doc) {
    try {
      doc = parse(query);
    } catch {
      return undefined;
    }
    if (parsed.size > 500) parsed.clear();
    parsed.set(query, doc);
  }
  return doc;
}
