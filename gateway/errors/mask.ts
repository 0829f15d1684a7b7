import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';

const MASKED: GraphQLFormattedError = { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };

/** True for errors the client must not see verbatim: anything that is not a deliberate GraphQL error. */
export function isUnexpected(formatted: GraphQLFormattedError): boolean {
  const code = formatted.extensions?.['code'];
  return code === undefined || code === 'INTERNAL_SERVER_ERROR';
}

/**
 * Apollo's `formatError`. Deliberate errors (Apollo's request errors, subgraph errors, catalog
 * errors) pass through; the unexpected are masked here and logged in full by the error-log plugin.
 * Apollo reports a GET mutation as BAD_REQUEST with status 405; Tessera's catalog gives each code
 * one status, so that one becomes METHOD_NOT_ALLOWED.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (isUnexpected(formatted)) return MASKED;
  const http = error instanceof GraphQLError ? (error.extensions['http'] as { status?: number } | undefined) : undefined;
  const tokens = formatted.extensions?.['code'] === 'GRAPHQL_PARSE_FAILED' ? /Document contains more tha[nt] (\d+) tokens/.exec(formatted.message) : null;
  if (tokens) {
    return { ...formatted, message: `The document has more than ${tokens[1]} tokens; parsing stopped there.`, extensions: { ...formatted.extensions, code: 'MAX_TOKENS_EXCEEDED' } };
  }
  if (formatted.extensions?.['code'] === 'BAD_REQUEST' && http?.status === 405) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'METHOD_NOT_ALLOWED' } };
  }
  return formatted;
}
