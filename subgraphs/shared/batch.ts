import DataLoader from 'dataloader';
import type { SubgraphStats } from './stats.ts';

/**
 * A per-request DataLoader over an in-memory index. Each batch counts once in the stats, so tests
 * can prove that N entities cost one lookup, not N.
 */
export function indexLoader<K, V>(
  index: ReadonlyMap<K, V>,
  stats: SubgraphStats,
  name: string,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(async (keys) => {
    stats.recordBatch(name, keys.length);
    return keys.map((k) => index.get(k) ?? null);
  });
}

export function groupBy<K, V>(items: readonly V[], key: (v: V) => K): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** `first` argument semantics shared by every list field: null/undefined = all, negative = error. */
export function take<T>(items: readonly T[], first: number | null | undefined): T[] {
  if (first === null || first === undefined) return items.slice();
  if (first < 0) throw new Error('`first` must not be negative');
  return items.slice(0, first);
}
