import { HeaderMap } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { maskError } from '../../errors/mask.ts';
import { TesseraError } from '../../errors/tessera-error.ts';

/**
 * A TesseraError as Apollo Server expects a refusal: its status on `extensions.http`, which Apollo
 * merges into the response head and strips from the body, but only when `headers` is a real Map
 * (`isPartialHTTPGraphQLHead` in errorNormalize.ts); with a plain object the status is ignored too.
 * The headers themselves travel the pipeline's one header channel (pipeline.ts), not this one.
 */
export function toApolloError(err: unknown): unknown {
  if (!(err instanceof TesseraError) || err.status === null) return err;
  return new GraphQLError(err.message, {
    nodes: err.nodes,
    source: err.source,
    positions: err.positions,
    path: err.path,
    originalError: err,
    extensions: { ...err.extensions, http: { status: err.status, headers: new HeaderMap() } },
  });
}

/**
 * Apollo's `formatError`. Deliberate errors (Apollo's request errors, subgraph errors, catalog
 * errors) pass through; the unexpected are masked (errors/mask.ts). Apollo reports a few conditions
 * as BAD_REQUEST with another status (405 for a GET mutation, 406 for an unusable `Accept`, 415
 * for a GET with a content type other than JSON);
 * Tessera's catalog gives each code one status, so those get their own.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const masked = maskError(formatted);
  if (masked !== formatted) return masked;
  const http =
    error instanceof GraphQLError ? (error.extensions['http'] as { status?: number } | undefined) : undefined;
  if (formatted.extensions?.['code'] === 'BAD_REQUEST' && http?.status === 405) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'METHOD_NOT_ALLOWED' } };
  }
  if (formatted.extensions?.['code'] === 'BAD_REQUEST' && http?.status === 406) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'NOT_ACCEPTABLE' } };
  }
  // A GET with a non-JSON content type: the same refusal as a POST with one.
  if (formatted.extensions?.['code'] === 'BAD_REQUEST' && http?.status === 415) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'UNSUPPORTED_MEDIA_TYPE' } };
  }
  return formatted;
}
