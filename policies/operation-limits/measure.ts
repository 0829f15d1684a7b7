import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

export interface OperationShape {
  readonly depth: number;
  readonly aliases: number;
  readonly rootFields: number;
  readonly maxDirectivesOnAField: number;
}

/**
 * Measures an operation with its fragments expanded, the way it would execute. Each fragment is
 * measured once and reused, so a document of nested fragment spreads costs linear time here.
 */
export function measure(document: DocumentNode, operation: OperationDefinitionNode): OperationShape {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, { depth: number; aliases: number; directives: number }>();

  const walk = (set: SelectionSetNode, visiting: Set<string>): { depth: number; aliases: number; directives: number } => {
    let depth = 0;
    let aliases = 0;
    let directives = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.alias) aliases++;
        directives = Math.max(directives, sel.directives?.length ?? 0);
        const inner = sel.selectionSet ? walk(sel.selectionSet, visiting) : { depth: 0, aliases: 0, directives: 0 };
        depth = Math.max(depth, 1 + inner.depth);
        aliases += inner.aliases;
        directives = Math.max(directives, inner.directives);
      } else {
        let inner;
        if (sel.kind === Kind.INLINE_FRAGMENT) inner = walk(sel.selectionSet, visiting);
        else {
          const name = sel.name.value;
          const frag = fragments.get(name);
          // Validation has rejected cycles and unknown fragments already; this is only a guard.
          if (!frag || visiting.has(name)) continue;
          inner = memo.get(name);
          if (!inner) {
            visiting.add(name);
            inner = walk(frag.selectionSet, visiting);
            visiting.delete(name);
            memo.set(name, inner);
          }
        }
        depth = Math.max(depth, inner.depth);
        aliases += inner.aliases;
        directives = Math.max(directives, inner.directives);
      }
    }
    return { depth, aliases, directives };
  };

  const all = walk(operation.selectionSet, new Set());
  let rootFields = 0;
  const countRoot = (set: SelectionSetNode, visiting: Set<string>) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) rootFields++;
      else if (sel.kind === Kind.INLINE_FRAGMENT) countRoot(sel.selectionSet, visiting);
      else {
        const frag = fragments.get(sel.name.value);
        if (frag && !visiting.has(frag.name.value)) countRoot(frag.selectionSet, new Set([...visiting, frag.name.value]));
      }
    }
  };
  countRoot(operation.selectionSet, new Set());
  return { depth: all.depth, aliases: all.aliases, rootFields, maxDirectivesOnAField: all.directives };
}
