/**
 * A valid subgraph SDL of about `bytes` bytes: many object types with many scalar fields, all
 * reachable from Query. Composition work grows with it, so it stands in for a very large schema.
 */
export function bigSubgraphSdl(bytes: number, opts: { fieldsPerType?: number; prefix?: string } = {}): string {
  const fieldsPerType = opts.fieldsPerType ?? 40;
  const prefix = opts.prefix ?? 'T';
  const body = Array.from({ length: fieldsPerType }, (_, j) => `  f${j}: ${j % 3 === 0 ? 'Int' : 'String'}`).join('\n');
  const types: string[] = [];
  const roots: string[] = [];
  let size = 'type Query {\n}\n'.length;
  for (let i = 0; size < bytes; i++) {
    const type = `type ${prefix}${i} {\n  id: ID!\n${body}\n}\n`;
    const root = `  ${prefix.toLowerCase()}${i}: ${prefix}${i}`;
    types.push(type);
    roots.push(root);
    size += type.length + root.length + 1;
  }
  return `type Query {\n${roots.join('\n')}\n}\n${types.join('')}`;
}
