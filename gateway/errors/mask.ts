import type { GraphQLFormattedError } from 'graphql';
import { isErrorCode } from './codes.ts';

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
 * Deliberate errors pass through; the unexpected become a bare INTERNAL_SERVER_ERROR (Yoga's
 * mask-error), and the error-logging feature logs the cause with the request id.
 */
export function maskError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  return isUnexpected(formatted)
    ? { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }
    : formatted;
}
