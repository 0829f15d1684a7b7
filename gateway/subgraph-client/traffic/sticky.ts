import type { SubgraphRequest } from '../fetch.ts';

export type StickyBy = 'none' | { readonly header: string } | { readonly claim: string };

/** The header the canary-side layer sets: which side a sticky caller belongs to, `canary` or `stable`. */
export const SIDE_HEADER = 'x-tessera-canary';

/**
 * FNV-1a (32 bit) of the caller key, salted with the subgraph, as a bucket in [0, 10000). A
 * caller is on the canary when its bucket is below `weight × 100`, so raising the weight only
 * moves stable callers over (consistent hashing on a ring of 10,000 points): nobody on the canary
 * at 5 % is back on stable at 50 %.
 */
export function stickyBucket(subgraph: string, key: string): number {
  let h = 0x811c9dc5;
  const s = `${subgraph}\u0000${key}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 10_000;
}

/** The caller's key for stickiness: the header's value or the verified claim's; null when absent. */
export function callerKey(by: StickyBy, request: SubgraphRequest): string | null {
  if (by === 'none') return null;
  if ('header' in by) {
    const v = (request.context?.headers ?? request.incomingHeaders)?.[by.header.toLowerCase()];
    const s = Array.isArray(v) ? v.join(',') : v;
    return s ? s : null;
  }
  const v = request.context?.identity.claims[by.claim];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

/** Whether a fetch goes to the canary: sticky callers by their bucket, everyone else by a draw. */
export function onCanary(weight: number, bucket: number | null): boolean {
  if (weight <= 0) return false;
  if (weight >= 100) return true;
  return bucket === null ? Math.random() * 100 < weight : bucket < weight * 100;
}
