import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { isErrorCode } from './codes.ts';

const MASKED: GraphQLFormattedError = { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };

/**
 * True for errors the client must not see verbatim. A catalog code is deliberate; so is a
 * subgraph's own error (it carries `serviceName`). Anything else is internal: a crash, or a
 * library's code that was never meant for clients (federation's `INVALID_GRAPHQL` from the planner
 * reads like an answer but names gateway internals, and comes with status 500).
 */
export function isUnexpected(formatted: GraphQLFormattedError): boolean {
  const code = formatted.extensions?.['code'];
  if (code === 'INTERNAL_SERVER_ERROR') return true;
  return !isErrorCode(code) && formatted.extensions?.['serviceName'] === undefined;
}

/**
 * Apollo's `formatError`. Deliberate errors (Apollo's request errors, subgraph errors, catalog
 * errors) pass through; the unexpected are masked here and logged in full by the error-log plugin.
 * Apollo reports a few conditions as BAD_REQUEST with another status (405 for a GET mutation, 406
 * for an unusable `Accept`); Tessera's catalog gives each code one status, so those get their own.
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
  if (formatted.extensions?.['code'] === 'BAD_REQUEST' && http?.status === 406) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'NOT_ACCEPTABLE' } };
  }
  return formatted;
}
