import type { GraphQLFormattedError } from 'graphql';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';

/** An error the client got less of than the subgraph sent, as the subgraph sent it (clipped). */
export interface Redacted {
  readonly index: number;
  readonly error: unknown;
}

/** Logged details are cut to this many characters of JSON each, and this many errors per answer. */
const LOG_CHARS = 2000;
const LOG_ERRORS = 10;

/**
 * A subgraph's GraphQL errors as the client may see them: `message` (or a generic one), `path`
 * and `extensions.code`, plus the extensions `errors.include` names; the gateway adds
 * `serviceName`. Stack traces, `exception` objects and anything else a subgraph framework puts
 * in `extensions` (hosts, SQL, ids) stay in the gateway's log. A subgraph's own
 * INTERNAL_SERVER_ERROR is an unexpected failure whose message is an exception's: it keeps
 * `serviceName` and `path` but gets a generic message and DOWNSTREAM_SERVICE_ERROR (Tessera's
 * INTERNAL_SERVER_ERROR means the gateway itself failed, and is masked whole).
 */
export function redactErrors(
  raw: unknown,
  subgraph: string,
  policy: SubgraphSettings['errors'],
): { errors: GraphQLFormattedError[]; redacted: Redacted[]; redactedCount: number } {
  const errors: GraphQLFormattedError[] = [];
  const redacted: Redacted[] = [];
  let redactedCount = 0;
  if (raw === undefined || raw === null) return { errors, redacted, redactedCount };
  const list = Array.isArray(raw) ? raw : [raw];
  const generic = `Subgraph "${subgraph}" returned an error`;
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as Record<string, unknown> | null;
    let out: GraphQLFormattedError;
    let changed: boolean;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      out = { message: generic, extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' } };
      changed = true;
    } else {
      const ext =
        typeof e['extensions'] === 'object' && e['extensions'] !== null && !Array.isArray(e['extensions'])
          ? (e['extensions'] as Record<string, unknown>)
          : {};
      const internal = ext['code'] === 'INTERNAL_SERVER_ERROR';
      const code = internal ? 'DOWNSTREAM_SERVICE_ERROR' : typeof ext['code'] === 'string' ? ext['code'] : undefined;
      const extensions: Record<string, unknown> = {};
      for (const k of policy.include) if (k !== 'code' && Object.hasOwn(ext, k)) extensions[k] = ext[k];
      if (code !== undefined) extensions['code'] = code;
      const message =
        typeof e['message'] === 'string' && e['message'] !== '' && policy.exposeMessages && !internal
          ? e['message']
          : generic;
      const path = validPath(e['path']);
      out = { message, ...(path ? { path } : {}), extensions };
      changed =
        message !== e['message'] ||
        code !== ext['code'] ||
        (path !== e['path'] && e['path'] !== undefined) ||
        Object.keys(ext).length !== Object.keys(extensions).length ||
        Object.keys(e).some((k) => k !== 'message' && k !== 'path' && k !== 'extensions' && k !== 'locations');
    }
    errors.push(out);
    if (changed && redactedCount++ < LOG_ERRORS) redacted.push({ index: i, error: clip(e) });
  }
  return { errors, redacted, redactedCount };
}

/** A GraphQL response path: strings and non-negative integers only, or nothing. */
function validPath(p: unknown): Array<string | number> | undefined {
  if (!Array.isArray(p) || p.length === 0 || p.length > 1000) return undefined;
  for (const s of p)
    if (typeof s !== 'string' && !(typeof s === 'number' && Number.isInteger(s) && s >= 0)) return undefined;
  return p as Array<string | number>;
}

/** A bounded copy for the log: a 16 MiB stack trace must not become a 16 MiB log line. */
function clip(v: unknown): unknown {
  if (typeof v === 'string') return v.length > LOG_CHARS ? `${v.slice(0, LOG_CHARS)}…` : v;
  if (typeof v !== 'object' || v === null) return v;
  const json = JSON.stringify(v);
  return json.length > LOG_CHARS ? `${json.slice(0, LOG_CHARS)}…` : v;
}
