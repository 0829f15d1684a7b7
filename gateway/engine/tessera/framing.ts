import type { IncomingHttpHeaders } from 'node:http';
import { Kind } from 'graphql';
import { tesseraError, type TesseraError } from '../../errors/tessera-error.ts';
import type { ResponseView } from '../../pipeline/plugin.ts';
import type { EngineRequest } from '../engine.ts';

/**
 * GraphQL-over-HTTP as Tessera's engine reads and writes it: pure functions over the request the
 * HTTP front framed (method, media type, body limit and JSON already checked there). Messages and
 * statuses are the ones clients already get from the Apollo engine, so a client cannot tell which
 * engine answers.
 */

/** The GraphQL parameters of one request, each present only when it has the type the protocol allows. */
export interface RequestParams {
  readonly query: string | undefined;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
  readonly extensions: Readonly<Record<string, unknown>> | undefined;
}

/** A header as one string (Node keeps a repeated header as an array; join it as a proxy would). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The media types a browser may send cross-origin without a CORS preflight (fetch spec, CORS-safelisted). */
const simpleMediaTypes = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** Headers a browser's page can only set after a preflight, so their presence proves one happened. */
export const csrfHeaders = ['x-apollo-operation-name', 'apollo-require-preflight'] as const;

/**
 * CSRF prevention: a request a browser could send from any page without a preflight (no content
 * type, or a CORS-safelisted one) must carry a non-empty preflight-forcing header; otherwise the
 * operation could run, with the user's cookies, before the CORS policy is consulted. Returns the
 * refusal, or null when the request may proceed.
 */
export function csrfRefusal(headers: IncomingHttpHeaders): TesseraError | null {
  const contentType = headerValue(headers, 'content-type');
  if (contentType !== undefined) {
    const essence = mediaTypeEssence(contentType);
    // A type a browser cannot send without a preflight (or one it cannot send at all).
    if (essence === null || !simpleMediaTypes.has(essence)) return null;
  }
  if (csrfHeaders.some((name) => (headerValue(headers, name) ?? '').length > 0)) return null;
  return tesseraError(
    'BAD_REQUEST',
    `This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of ${[...simpleMediaTypes].join(', ')}) or provide a non-empty value for one of the following headers: ${csrfHeaders.join(', ')}\n`,
  );
}

const token = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** `type/subtype` of a media type, lower-cased; null when it does not parse as one. */
export function mediaTypeEssence(value: string): string | null {
  const semi = value.indexOf(';');
  const essence = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0) return null;
  return token.test(essence.slice(0, slash)) && token.test(essence.slice(slash + 1)) ? essence : null;
}

/**
 * The GraphQL parameters of a POST body or a GET query string, or BAD_REQUEST saying which one is
 * malformed. A GET with a content type other than JSON is refused (415): its parameters are in the URL.
 */
export function readParams(request: EngineRequest): RequestParams {
  if (request.method === 'GET') return readSearch(request);
  const body = request.body;
  if (!isRecord(body) || Object.keys(body).length === 0)
    throw badRequest('POST body missing, invalid Content-Type, or JSON object has no keys.');
  const { query, variables, extensions, operationName } = body;
  if (query && typeof query !== 'string') {
    throw badRequest(
      isRecord(query) && query['kind'] === Kind.DOCUMENT
        ? "GraphQL queries must be strings. It looks like you're sending the internal graphql-js representation of a parsed query in your request instead of a request in the GraphQL query language. You can convert an AST to a string using the `print` function from `graphql`, or use a client like `apollo-client` which converts the internal representation to a string for you."
        : 'GraphQL queries must be strings.',
    );
  }
  for (const [name, value] of [
    ['variables', variables],
    ['extensions', extensions],
  ] as const) {
    if (typeof value === 'string')
      throw badRequest(
        `\`${name}\` in a POST body should be provided as an object, not a recursively JSON-encoded string.`,
      );
  }
  // Checked in this order so a body with several problems gets the same answer as before.
  if (extensions !== undefined && extensions !== null && !isRecord(extensions))
    throw badRequest('`extensions` in a POST body must be an object if provided.');
  if (variables !== undefined && variables !== null && !isRecord(variables))
    throw badRequest('`variables` in a POST body must be an object if provided.');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    throw badRequest('`operationName` in a POST body must be a string if provided.');
  return {
    query: typeof query === 'string' ? query : undefined,
    operationName: typeof operationName === 'string' ? operationName : undefined,
    variables: isRecord(variables) ? variables : undefined,
    extensions: isRecord(extensions) ? extensions : undefined,
  };
}

function readSearch(request: EngineRequest): RequestParams {
  const contentType = headerValue(request.headers, 'content-type');
  if (contentType !== undefined && mediaTypeEssence(contentType) !== 'application/json') {
    throw tesseraError(
      'UNSUPPORTED_MEDIA_TYPE',
      'GET requests may not have a content-type header other than application/json.',
    );
  }
  const search = new URLSearchParams(request.search);
  const once = (name: string): string | undefined => {
    const values = search.getAll(name);
    if (values.length > 1) throw badRequest(`The '${name}' search parameter may only be specified once.`);
    return values[0];
  };
  const object = (name: string): Record<string, unknown> | undefined => {
    const raw = once(name);
    if (raw === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw badRequest(`The ${name} search parameter contains invalid JSON.`);
    }
    if (!isRecord(value)) throw badRequest(`The ${name} search parameter should contain a JSON-encoded object.`);
    return value;
  };
  return {
    query: once('query'),
    operationName: once('operationName'),
    variables: object('variables'),
    extensions: object('extensions'),
  };
}

function badRequest(message: string): TesseraError {
  return tesseraError('BAD_REQUEST', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const mediaTypes = {
  json: 'application/json; charset=utf-8',
  graphqlResponse: 'application/graphql-response+json; charset=utf-8',
  jsonCallback: 'application/json; callbackSpec=1.0; charset=utf-8',
} as const;

/** What the client may get, in the order that breaks ties (plain JSON first: what every client reads). */
const offered = [mediaTypes.json, mediaTypes.graphqlResponse, mediaTypes.jsonCallback].map((full) => {
  const [essence, ...params] = full.split(';').map((p) => p.trim());
  const [type, subtype] = essence!.split('/') as [string, string];
  return {
    full,
    type,
    subtype,
    params: new Map(params.map((p) => p.split('=') as [string, string]).map(([k, v]) => [k.toLowerCase(), v])),
  };
});

/** How well an `Accept` entry matches an offered type. */
interface Rank {
  readonly q: number;
  /** Specificity: 4 type named, 2 subtype named, 1 parameters named. */
  readonly s: number;
  /** The entry's position in the header. */
  readonly o: number;
}

/**
 * Content negotiation for a single result: the offered type the `Accept` header ranks highest
 * (quality, then how specifically an entry names it, then the entry's position, then our order),
 * or null when it accepts none of them (406). No header: plain JSON. The rules are those of the
 * `negotiator` package, which answered this question so far.
 */
export function responseContentType(accept: string | undefined): string | null {
  if (!accept) return mediaTypes.json;
  const entries = parseAccept(accept);
  let best: (Rank & { full: string }) | null = null;
  for (const type of offered) {
    // The entry naming this type most specifically, then with the highest quality.
    let rank: Rank | null = null;
    for (const entry of entries) {
      const s = specificity(entry, type);
      if (s === null) continue;
      const r = { q: entry.q, s, o: entry.o };
      // (On a full tie the later entry wins, as negotiator has it.)
      if (!rank || r.s > rank.s || (r.s === rank.s && (r.q > rank.q || (r.q === rank.q && r.o > rank.o)))) rank = r;
    }
    if (!rank || !(rank.q > 0)) continue;
    // Earlier offered types win the remaining ties, so only a strictly better rank replaces `best`.
    if (!best || rank.q > best.q || (rank.q === best.q && (rank.s > best.s || (rank.s === best.s && rank.o < best.o))))
      best = { ...rank, full: type.full };
  }
  return best?.full ?? null;
}

function specificity(entry: AcceptEntry, type: (typeof offered)[number]): number | null {
  let s = 0;
  if (entry.type === type.type) s |= 4;
  else if (entry.type !== '*') return null;
  if (entry.subtype === type.subtype) s |= 2;
  else if (entry.subtype !== '*') return null;
  if (entry.params.size > 0) {
    for (const [k, v] of entry.params) if (v !== '*' && v.toLowerCase() !== (type.params.get(k) ?? '')) return null;
    s |= 1;
  }
  return s;
}

interface AcceptEntry {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
  /** Position in the header. */
  o: number;
}

/** `type/subtype;param=value;q=0.5, …`; entries that are not media types are skipped. */
function parseAccept(accept: string): AcceptEntry[] {
  const entries: AcceptEntry[] = [];
  splitOutsideQuotes(accept, ',').forEach((raw, o) => {
    const [range, ...paramParts] = splitOutsideQuotes(raw, ';').map((p) => p.trim());
    const slash = range?.indexOf('/') ?? -1;
    if (!range || slash === -1) return;
    const params = new Map<string, string>();
    let q = 1;
    for (const part of paramParts) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      const key = part.slice(0, eq).trim().toLowerCase();
      let value = part.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      if (key === 'q') q = Number.parseFloat(value);
      else params.set(key, value);
    }
    entries.push({
      type: range.slice(0, slash).toLowerCase(),
      subtype: range.slice(slash + 1).toLowerCase(),
      params,
      q: Number.isNaN(q) ? 0 : q,
      o,
    });
  });
  return entries;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The body of a single result: `errors` before `data` (the spec's advice), then `extensions`; one line. */
export function serializeResult(result: ResponseView): string {
  return `${JSON.stringify({ errors: result.errors, data: result.data, extensions: result.extensions })}\n`;
}
