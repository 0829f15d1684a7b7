import { bodyOf, type FetchLayer, type SubgraphAnswer } from '../fetch.ts';

/**
 * Identical concurrent queries share one request (and one retry loop below). Same body and same
 * headers: the same answer. The request id is left out of the key (it differs per request; a
 * shared request carries the first caller's). What is shared is the reply's text: the answer
 * check above parses a copy per caller. Anything but a query is never shared: two identical
 * mutations are two mutations.
 */
export const dedupe: FetchLayer = (next, { settings, metrics }) => {
  if (!settings.dedupe) return next;
  const inflight = new Map<string, Promise<SubgraphAnswer>>();
  const hits = metrics.dedupeHits.labels({ subgraph: settings.name });
  return (request) => {
    if (request.operationType !== 'query') return next(request);
    const key = `${bodyOf(request)}\n${JSON.stringify(request.headers)}`;
    let shared = inflight.get(key);
    if (shared) {
      hits.inc();
      return shared;
    }
    shared = next(request).finally(() => inflight.delete(key));
    inflight.set(key, shared);
    return shared;
  };
};
