import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';

/** What one failed attempt tells the retry loop. */
export interface AttemptFailure {
  /** Worth another try for a query (transient). */
  readonly transient: boolean;
  /** The request provably never reached the subgraph, so even a mutation may be re-sent. */
  readonly neverSent: boolean;
  /** From a Retry-After header, in ms. */
  readonly retryAfterMs?: number;
  readonly reason: string;
}

const neverSentCodes = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EOPENBREAKER']);
const transientCodes = new Set([
  'ATTEMPT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);
const transientStatuses = new Set([429, 502, 503, 504]);

export function transportFailure(code: string): AttemptFailure {
  return { transient: transientCodes.has(code), neverSent: neverSentCodes.has(code), reason: code };
}

export function statusFailure(status: number, retryAfter: string | string[] | undefined): AttemptFailure {
  return {
    transient: transientStatuses.has(status),
    neverSent: false,
    retryAfterMs: parseRetryAfter(retryAfter),
    reason: `HTTP_${status}`,
  };
}

/**
 * Mutations are never retried once they may have reached the subgraph: a retried mutation can
 * apply twice. Only a failure that proves nothing was sent (refused connection) is safe.
 */
export function mayRetry(f: AttemptFailure, isMutation: boolean): boolean {
  return isMutation ? f.neverSent && f.transient : f.transient;
}

/** Exponential backoff with full jitter, or the server's Retry-After when it gave one. */
export function backoffMs(
  attempt: number,
  retry: SubgraphSettings['retry'],
  f: AttemptFailure,
  random = Math.random,
): number {
  if (f.retryAfterMs !== undefined) return f.retryAfterMs;
  const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/** `Retry-After`: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
