const directives = ['@key', '@requires', '@provides', '@external', '@shareable', '@inaccessible', '@override'];

/** The `@link` line of a Federation 2 subgraph, importing the federation directives the cases use. */
export function fed2(...more: string[]): string {
  const imports = [...directives, ...more].map((d) => JSON.stringify(d)).join(', ');
  return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [${imports}])`;
}
