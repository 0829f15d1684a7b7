import { Lexer, Source, TokenKind } from 'graphql';
import { tesseraError } from '../errors/tessera-error.ts';
import type { GatewayPlugin } from '../pipeline/plugin.ts';

/**
 * `policies.operationLimits.maxTokens`: refuses a document with more tokens before the engine
 * parses it, so a huge document is never parsed to the end. It counts tokens as graphql-js's
 * parser does (comments excluded) and stops at the first one over the limit; a document whose
 * text is no longer than the limit cannot exceed it and is not read at all. A lexing error ends
 * the count: the engine's parser reports it.
 */
export function tokenLimit(maxTokens: number): GatewayPlugin {
  return {
    name: 'token-limit',
    onRequest({ params }) {
      const query = params.query;
      // Every token is at least one character long.
      if (typeof query !== 'string' || query.length <= maxTokens) return;
      const source = new Source(query);
      const lexer = new Lexer(source);
      let count = 0;
      let token;
      try {
        token = lexer.advance();
        while (token.kind !== TokenKind.EOF && ++count <= maxTokens) token = lexer.advance();
      } catch {
        return;
      }
      if (token.kind === TokenKind.EOF) return;
      throw tesseraError(
        'MAX_TOKENS_EXCEEDED',
        `The document has more than ${maxTokens} tokens; parsing stopped there.`,
        { source, positions: [token.start] },
      );
    },
  };
}
