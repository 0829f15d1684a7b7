import { randomUUID } from 'node:crypto';

const safe = /^[\w.:-]{1,128}$/;

/** Keeps a caller's `x-request-id` when it is a plain token (so it can be logged safely), else makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && safe.test(header) ? header : randomUUID();
}
