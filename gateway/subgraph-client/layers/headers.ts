import type { FetchLayer } from '../fetch.ts';
import { compileHeaderRules } from '../headers.ts';

/**
 * The outgoing headers from the subgraph's rules (content negotiation, propagated, then static
 * ones), compiled once per client. The request id is not set here but by the transport, so it
 * stays out of the dedupe key.
 */
export const headers: FetchLayer = (next, { settings }) => {
  const build = compileHeaderRules(settings.headers);
  return (request) => {
    request.headers = build(request.incomingHeaders);
    return next(request);
  };
};
