import type { IncomingHttpHeaders } from 'node:http';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';

/** Connection-level headers (RFC 9110 §7.6.1) and ones the client itself owns: never forwarded. */
export const NEVER_FORWARDED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'accept',
  'accept-encoding',
  'expect',
  'http2-settings',
]);

/** The headers of one subgraph request: content negotiation, then propagated, then static ones. */
export type HeaderBuilder = (incoming: IncomingHttpHeaders | undefined) => Record<string, string>;

/** Compiles a subgraph's header rules once; the result runs per fetch. */
export function compileHeaderRules(headers: SubgraphSettings['headers']): HeaderBuilder {
  const named = headers.propagate.flatMap((r) =>
    'named' in r ? [{ from: r.named.toLowerCase(), to: (r.rename ?? r.named).toLowerCase(), fallback: r.default }] : [],
  );
  const matching = headers.propagate.flatMap((r) => ('matching' in r ? [new RegExp(r.matching, 'i')] : []));
  const fixed = Object.entries(headers.set).map(([k, v]) => [k.toLowerCase(), v] as const);
  for (const r of named)
    if (NEVER_FORWARDED.has(r.from) || NEVER_FORWARDED.has(r.to))
      throw new Error(`header "${r.from}" is hop-by-hop or client-owned and cannot be propagated`);

  return (incoming) => {
    const out: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (incoming) {
      for (const r of named) {
        const v = incoming[r.from];
        const value = Array.isArray(v) ? v.join(', ') : v;
        if (value !== undefined) out[r.to] = value;
        else if (r.fallback !== undefined) out[r.to] = r.fallback;
      }
      if (matching.length) {
        for (const [name, v] of Object.entries(incoming)) {
          if (v === undefined || NEVER_FORWARDED.has(name) || !matching.some((re) => re.test(name))) continue;
          out[name] = Array.isArray(v) ? v.join(', ') : v;
        }
      }
    } else {
      for (const r of named) if (r.fallback !== undefined) out[r.to] = r.fallback;
    }
    for (const [k, v] of fixed) out[k] = v;
    return out;
  };
}
