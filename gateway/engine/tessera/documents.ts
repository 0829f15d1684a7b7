import { GraphQLError, type DocumentNode, type ValidationRule } from 'graphql';

/**
 * Parsed documents by query text, least recently used first out. Bounded by count and by the
 * total length of the texts (an AST is some tens of bytes per character of its text), so a client
 * sending ever-new large queries costs a bounded amount of memory. The same text gets the same
 * DocumentNode back, which is what per-document caches downstream (the pipeline's operation
 * analysis, validation, plans) key on.
 */
export class DocumentCache {
  private readonly maxEntries: number;
  private readonly maxChars: number;
  private readonly entries = new Map<string, DocumentNode>();
  private chars = 0;

  constructor(limits: { maxEntries: number; maxChars: number }) {
    this.maxEntries = limits.maxEntries;
    this.maxChars = limits.maxChars;
  }

  get(text: string): DocumentNode | undefined {
    const document = this.entries.get(text);
    if (document !== undefined) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      this.entries.delete(text);
      this.entries.set(text, document);
    }
    return document;
  }

  set(text: string, document: DocumentNode): void {
    if (text.length > this.maxChars) return;
    if (this.entries.delete(text)) this.chars -= text.length;
    this.entries.set(text, document);
    this.chars += text.length;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * `server.introspection: false`: `__schema` and `__type` fail validation, with the message and
 * `validationErrorCode` clients already match on (Apollo Server's). `__typename` stays allowed.
 */
export const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(
        new GraphQLError(
          'GraphQL introspection is not allowed by Apollo Server, but the query contained __schema or __type. To enable introspection, pass introspection: true to ApolloServer in production',
          { nodes: node, extensions: { validationErrorCode: 'INTROSPECTION_DISABLED' } },
        ),
      );
    }
  },
});
