import { GraphQLError, type ASTNode, type Source } from 'graphql';
import { errorCodes, type ErrorCode } from './codes.ts';

/** The JSON body for errors the HTTP front raises before the engine sees the request (framing, body limit…). */
export function errorBody(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] });
}

export interface TesseraErrorOptions {
  /** Response headers for a request-level refusal (e.g. `retry-after`); the pipeline sends them. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly nodes?: ASTNode | readonly ASTNode[];
  /** With `positions`: where in a query text the error is, when there is no AST node yet. */
  readonly source?: Source;
  readonly positions?: readonly number[];
}

/**
 * A catalog error. The client sees `message` and `extensions.code`; a request-level code carries
 * its HTTP status and headers on the error itself, and the engine adapter turns them into what its
 * server expects (engine/apollo/errors.ts). Engine-independent: it is a graphql-js GraphQLError.
 */
export class TesseraError extends GraphQLError {
  readonly code: ErrorCode;
  /** The catalog's status; null for a field-level code (the response stays 200, next to partial data). */
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, opts: TesseraErrorOptions = {}) {
    super(message, {
      nodes: opts.nodes,
      source: opts.source,
      positions: opts.positions,
      extensions: { ...opts.extensions, code },
    });
    this.code = code;
    this.status = errorCodes[code].status;
    this.headers = opts.headers ?? {};
  }
}

/** How a plugin refuses: `throw tesseraError('RATE_LIMITED', '…', { headers: { 'retry-after': '3' } })`. */
export function tesseraError(code: ErrorCode, message: string, opts: TesseraErrorOptions = {}): TesseraError {
  return new TesseraError(code, message, opts);
}
