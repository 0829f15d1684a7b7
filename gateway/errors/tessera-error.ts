import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { errorCodes, type ErrorCode } from './codes.ts';

export interface TesseraErrorOptions {
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
  path?: ReadonlyArray<string | number>;
  cause?: unknown;
}

/**
 * Builds the GraphQLError for a catalog code. Request-level codes carry `extensions.http`, which
 * Apollo Server merges into the HTTP response and strips from the body; it only does so when
 * `headers` is a real Map (errorNormalize.ts checks `instanceof Map`), hence HeaderMap.
 */
export function tesseraError(code: ErrorCode, message: string, opts: TesseraErrorOptions = {}): GraphQLError {
  const { status } = errorCodes[code];
  const http = status === null ? {} : { http: { status, headers: new HeaderMap(Object.entries(opts.headers ?? {})) } };
  return new GraphQLError(message, {
    path: opts.path,
    originalError: opts.cause instanceof Error ? opts.cause : undefined,
    extensions: { ...opts.extensions, code, ...http },
  });
}

/** The JSON body for errors raised before Apollo sees the request (HTTP framing, body limit…). */
export function errorBody(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] });
}
