import type { GatewayContext } from '../../context.ts';
import { internalFailure } from '../classify-failure.ts';
import type { FetchLayer } from '../fetch.ts';

/** The policies' per-fetch hook: may edit the outgoing headers (e.g. forward verified claims). */
export type SubgraphHook = (ctx: Partial<GatewayContext>, subgraphName: string, headers: Record<string, string>) => void;

/**
 * Runs the policies' `onSubgraphRequest` on the headers about to be sent. A throw is a bug in a
 * policy: it fails this subgraph's fetch (its fields null, SUBGRAPH_FETCH_INTERNAL_ERROR, nothing
 * sent) instead of escaping into the engine, where it failed the whole response with a masked error.
 */
export function policyHook(hook: SubgraphHook | null): FetchLayer {
  return (next, { settings }) => {
    if (!hook) return next;
    const name = settings.name;
    return (request) => {
      try {
        hook(request.context, name, request.headers);
      } catch (err) {
        return Promise.resolve({ ok: false, failure: internalFailure(name, 'onSubgraphRequest hook', err) });
      }
      return next(request);
    };
  };
}
