import { Kind, parse, type SelectionSetNode } from 'graphql';

/**
 * Fragment-chain documents: `levels` fragments, each spreading the next `fanOut` times, so the
 * last fragment's selection appears fanOut^levels times once expanded, from a few hundred tokens.
 * Shared by test/e2e/hostile-documents.test.ts and bench/hostile-documents.ts.
 */
export interface ChainSpec {
  /** How many fragments spread the next one. */
  readonly levels: number;
  readonly fanOut: number;
  /** Type the fragments are on. */
  readonly on: string;
  /** The operation around the first spread: `{ ... }` at the root, or e.g. `{ users(first: 1) { ... } }`. */
  readonly wrap: (spread: string) => string;
  /** The last fragment's selection. */
  readonly leaf: string;
  /** Each fragment also selects `a<i>: <aliasField>`, so aliases multiply too. */
  readonly aliasField?: string;
  /** Fragment name prefix. */
  readonly prefix?: string;
}

export function fragmentChain(spec: ChainSpec): string {
  const p = spec.prefix ?? 'F';
  const parts = [spec.wrap(`...${p}0`)];
  for (let i = 0; i < spec.levels; i++) {
    const alias = spec.aliasField ? `a${i}: ${spec.aliasField} ` : '';
    parts.push(
      `fragment ${p}${i} on ${spec.on} { ${alias}${Array(spec.fanOut)
        .fill(`...${p}${i + 1}`)
        .join(' ')} }`,
    );
  }
  parts.push(`fragment ${p}${spec.levels} on ${spec.on} { ${spec.leaf} }`);
  return parts.join(' ');
}

/** The attack from issue 12: under 300 tokens, a protected field (`User.email`) at the end. */
export const nestedChain = (levels: number, fanOut = 2, alias = false): string =>
  fragmentChain({
    levels,
    fanOut,
    on: 'User',
    wrap: (s) => `{ users(first: 1) { ${s} } }`,
    leaf: 'email',
    ...(alias ? { aliasField: 'id' } : {}),
  });

/** The chain at the root: the expanded fields are root fields, the last one `me` (`@authenticated`). */
export const rootChain = (levels: number, fanOut = 2, alias = false): string =>
  fragmentChain({
    levels,
    fanOut,
    on: 'Query',
    wrap: (s) => `{ ${s} }`,
    leaf: 'me { id }',
    ...(alias ? { aliasField: '__typename' } : {}),
  });

/** Introspection at the end of a chain at the root. */
export const introspectionChain = (levels: number): string =>
  fragmentChain({
    levels,
    fanOut: 2,
    on: 'Query',
    wrap: (s) => `{ ${s} }`,
    leaf: '__schema { queryType { name } }',
    prefix: 'I',
  });

/** A chain inside `__schema`: the expansion is all introspection fields. */
export const schemaChain = (levels: number): string =>
  fragmentChain({
    levels,
    fanOut: 2,
    on: '__Schema',
    wrap: (s) => `{ __schema { ${s} } }`,
    leaf: 'types { name }',
    prefix: 'S',
  });

/** Selection nodes written in a document, each fragment definition counted once: what building its analysis visits. */
export function selectionsWritten(query: string): number {
  let n = 0;
  const visit = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      n++;
      if (s.kind !== Kind.FRAGMENT_SPREAD && s.selectionSet) visit(s.selectionSet);
    }
  };
  for (const d of parse(query).definitions)
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) visit(d.selectionSet);
  return n;
}
