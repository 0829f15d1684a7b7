import { HeaderMap } from '@apollo/server';
import { GraphQLError, type ASTNode } from 'graphql';
import { errorCodes, type ErrorCode } from './codes.ts';

/** The JSON body for errors raised before Apollo sees the request (HTTP framing, body limit…). */
export function errorBody(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] });
}

/**
 * A catalog error for Apollo to send. Request-level codes carry their status on `extensions.http`;
 * Apollo honours it (and strips it from the body) only when `headers` is a real Map, hence HeaderMap.
 */
export function tesseraError(code: ErrorCode, message: string, opts: { headers?: Record<string, string>; extensions?: Record<string, unknown>; nodes?: ASTNode | readonly ASTNode[] } = {}): GraphQLError {
  const { status } = errorCodes[code];
  const http = status === null ? {} : { http: { status, headers: new HeaderMap(Object.entries(opts.headers ?? {})) } };
  return new GraphQLError(message, { nodes: opts.nodes, extensions: { ...opts.extensions, code, ...http } });
}
