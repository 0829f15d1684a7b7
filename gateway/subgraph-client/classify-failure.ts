import type { ErrorCode } from '../errors/codes.ts';

export interface ClassifiedFailure {
  readonly code: Extract<
    ErrorCode,
    | 'SUBGRAPH_UNAVAILABLE'
    | 'SUBGRAPH_TIMEOUT'
    | 'SUBGRAPH_HTTP_ERROR'
    | 'SUBGRAPH_CIRCUIT_OPEN'
    | 'SUBGRAPH_RATE_LIMITED'
    | 'SUBGRAPH_RESPONSE_TOO_LARGE'
    | 'SUBGRAPH_INVALID_RESPONSE'
    | 'SUBGRAPH_FETCH_INTERNAL_ERROR'
  >;
  /** Client-visible: names the subgraph, never its address or the request body. */
  readonly message: string;
  /** Log-only detail: the undici/system/TLS error code, or the HTTP status and body excerpt. */
  readonly cause: string;
  readonly status?: number;
}

const timeoutCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ATTEMPT_TIMEOUT',
  'DEADLINE_EXCEEDED',
]);

/** Abort reasons of the client's own timers: which limit ended the attempt decides whether to retry. */
export const attemptTimeout = (ms: number) =>
  Object.assign(new Error(`attempt timed out after ${ms} ms`), { code: 'ATTEMPT_TIMEOUT' });
export const deadlineExceeded = (ms: number) =>
  Object.assign(new Error(`deadline of ${ms} ms exceeded`), { code: 'DEADLINE_EXCEEDED' });
/** undici's code when a body passes `maxResponseSize`; the Content-Length check up front reuses it. */
export const TOO_LARGE = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';

/** The code a transport error is known by: ours, undici's, the system's or TLS's. */
export function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  return e?.code ?? e?.cause?.code ?? e?.name ?? 'UNKNOWN';
}

/** The one place that maps transport errors, open circuits and bad answers to catalog codes. */
export function classifyFailure(subgraph: string, err: unknown): ClassifiedFailure {
  const code = errorCode(err);
  const detail = `${code}${(err as Error)?.message ? `: ${(err as Error).message}` : ''}`;
  if (code === 'EOPENBREAKER') {
    return {
      code: 'SUBGRAPH_CIRCUIT_OPEN',
      message: `Subgraph "${subgraph}" is failing; its circuit breaker is open`,
      cause: code,
    };
  }
  if (code === TOO_LARGE) return tooLarge(subgraph, detail);
  if (timeoutCodes.has(code))
    return { code: 'SUBGRAPH_TIMEOUT', message: `Subgraph "${subgraph}" did not respond in time`, cause: detail };
  return { code: 'SUBGRAPH_UNAVAILABLE', message: `Subgraph "${subgraph}" is unavailable`, cause: detail };
}

export function httpFailure(subgraph: string, status: number, detail: string): ClassifiedFailure {
  return {
    code: 'SUBGRAPH_HTTP_ERROR',
    message: `Subgraph "${subgraph}" answered HTTP ${status}`,
    cause: detail,
    status,
  };
}

export function tooLarge(subgraph: string, detail: string): ClassifiedFailure {
  return {
    code: 'SUBGRAPH_RESPONSE_TOO_LARGE',
    message: `Subgraph "${subgraph}" answered with more data than the gateway accepts from it`,
    cause: detail,
  };
}

/** A whole answer that cannot be used (not an object, `_entities` of the wrong length). */
export function invalidResponse(subgraph: string, detail: string): ClassifiedFailure {
  return {
    code: 'SUBGRAPH_INVALID_RESPONSE',
    message: `Subgraph "${subgraph}" sent an invalid response`,
    cause: detail,
  };
}

/**
 * The gateway's own code for this fetch threw (a plugin's `wrapSubgraphFetch`): a bug on this side, reported for this subgraph's fields only. The cause (with the
 * stack) is logged, never sent.
 */
export function internalFailure(subgraph: string, where: string, err: unknown): ClassifiedFailure {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return {
    code: 'SUBGRAPH_FETCH_INTERNAL_ERROR',
    message: `The gateway failed while calling subgraph "${subgraph}"`,
    cause: `${where} threw: ${detail.slice(0, 2000)}`,
  };
}
