import type { ErrorCode } from '../errors/codes.ts';

export interface ClassifiedFailure {
  readonly code: Extract<ErrorCode, 'SUBGRAPH_UNAVAILABLE' | 'SUBGRAPH_TIMEOUT' | 'SUBGRAPH_HTTP_ERROR'>;
  /** Client-visible: names the subgraph, never its address or the request body. */
  readonly message: string;
  /** Log-only detail: the undici/system error code or the HTTP status. */
  readonly cause: string;
  readonly status?: number;
}

const timeoutCodes = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** The one place that maps transport errors and bad answers to catalog codes. */
export function classifyFailure(subgraph: string, err: unknown): ClassifiedFailure {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string }; message?: string };
  const code = e.code ?? e.cause?.code ?? e.name ?? 'UNKNOWN';
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError' || timeoutCodes.has(code)) {
    return { code: 'SUBGRAPH_TIMEOUT', message: `Subgraph "${subgraph}" did not respond in time`, cause: code };
  }
  return { code: 'SUBGRAPH_UNAVAILABLE', message: `Subgraph "${subgraph}" is unavailable`, cause: `${code}${e.message ? `: ${e.message}` : ''}` };
}

export function httpFailure(subgraph: string, status: number, detail: string): ClassifiedFailure {
  return { code: 'SUBGRAPH_HTTP_ERROR', message: `Subgraph "${subgraph}" answered HTTP ${status}`, cause: detail, status };
}
