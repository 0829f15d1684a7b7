import type { IncomingHttpHeaders } from 'node:http';
import type {
  DocumentNode,
  GraphQLFormattedError,
  GraphQLSchema,
  OperationDefinitionNode,
  OperationTypeNode,
} from 'graphql';
import type { Logger } from 'pino';
import type { SubgraphFetch } from '../subgraph-client/fetch.ts';
import type { OperationAnalysis } from './operation-analysis.ts';

/**
 * The one shape every part of Tessera's request pipeline has: the edge policies (policies/**) and
 * Tessera's own features (gateway/features/**) are GatewayPlugins, run by one runner
 * (runner.ts) in the order of one list (plugins.ts). After Envelop/Yoga: optional typed hooks,
 * one payload object each, run in series, the first throw ends the phase.
 *
 * The phases of a /graphql request, in order (pipeline.ts runs them):
 *
 *   onSchema           once per supergraph generation, awaited before any operation runs on it
 *   0. onParams        before the engine sees the request: the GraphQL parameters as sent; may
 *                      `substitute` the query text (a persisted document for its id or hash), so
 *                      every engine gets a plain request and needs no persisted-query support
 *   1. onRequest       HTTP framing accepted: method, headers, the GraphQL parameters (query,
 *                      operationName, variables, extensions) as sent; nothing parsed yet
 *   2. onOperation     parsed, validated, one operation chosen, variables coerced, the shared
 *                      analysis ready; before planning. May `rewrite` the document; may return a
 *                      done-callback that patches the result before it is sent
 *      onRefused       the plugins after one whose onOperation threw (it cannot change the answer)
 *   3. execution       the engine plans and runs the operation; each subgraph fetch goes through
 *                      every plugin's `wrapSubgraphFetch`, in order (the first is outermost)
 *   4. done-callbacks  in order: they patch the result (e.g. nulls for filtered fields)
 *   5. onResponse      last, every request (refused ones too): the final status, headers and body
 *
 *   close              once, at shutdown
 *
 * A refusal is a throw of `tesseraError(code, …)`: its status and headers become the response's.
 */
export interface GatewayPlugin {
  /** In logs and in `tessera_policy_duration_seconds{policy}`: 'auth', 'rate-limit', 'request-metrics'… */
  readonly name: string;
  /** A supergraph generation was loaded (start-up and each accepted reload). Awaited, in order. */
  onSchema?(schema: SchemaPhase): void | Promise<void>;
  /**
   * Before the engine: the parameters as sent (POST body or GET query string), nothing checked yet.
   * `substitute(query)` makes the engine see that query text instead, with `documentId` and
   * `extensions.persistedQuery` removed, so engines know nothing of persisted documents. A throw
   * refuses the request before the engine (its status and headers are the response's).
   */
  onParams?(req: ParamsPhase): void | Promise<void>;
  /** Before parsing. A throw refuses the request (the later plugins' onRequest do not run). */
  onRequest?(req: RequestPhase): void | Promise<void>;
  /** Before planning. A throw refuses the operation; a returned function runs on the result. */
  onOperation?(op: OperationPhase): void | OperationDone | Promise<void | OperationDone>;
  /**
   * Called, in order, on the plugins after the one whose onOperation threw (e.g. so the rate
   * limiter can charge for refused documents). It cannot change the outcome: the original error is
   * what the client gets, and a throw here is only logged.
   */
  onRefused?(op: OperationPhase, error: unknown): void | Promise<void>;
  /**
   * The response as it will be written, after every done-callback. Runs for every /graphql request,
   * refused or not, so counts and logs see what the client gets. It may set response headers; a
   * throw is logged and changes nothing.
   */
  onResponse?(res: ResponsePhase): void | Promise<void>;
  /**
   * Per-subgraph fetch middleware, built once per subgraph client: return a fetch that calls `next`
   * (or answers without it). It is a layer of the subgraph client (subgraph-client/client.ts),
   * below the headers and above dedupe. A throw, sync or async, becomes a field-level error of that
   * subgraph (SUBGRAPH_FETCH_INTERNAL_ERROR); the client's other fields are still served.
   */
  wrapSubgraphFetch?(next: SubgraphFetch, subgraph: { readonly name: string }): SubgraphFetch;
  /** Release timers, sockets, Redis scripts. Called once on shutdown. */
  close?(): Promise<void>;
}

/** Who is calling. Anonymous until the auth policy sets it; every later plugin reads it. */
export interface Identity {
  /** `sub` of a verified token; null when anonymous. */
  readonly subject: string | null;
  readonly authenticated: boolean;
  readonly scopes: ReadonlySet<string>;
  /** Verified claims only; empty when anonymous. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export const anonymous: Identity = Object.freeze({
  subject: null,
  authenticated: false,
  scopes: new Set<string>(),
  claims: Object.freeze({}),
});

/**
 * A typed place for one plugin to leave per-request data for another (the cost estimate for the
 * rate limiter), instead of a field on the generic contract. Declare it once with `slot()`.
 */
export interface Slot<T> {
  readonly name: string;
  /** Type only: never set. */
  readonly __value?: T;
}

export function slot<T>(name: string): Slot<T> {
  return Object.freeze({ name });
}

/** Rebuilt for every supergraph generation (startup and each hot reload). */
export interface SchemaPhase {
  readonly apiSchema: GraphQLSchema;
  readonly supergraphSdl: string;
  /** `supergraphSdl` parsed once per generation, for every plugin that reads its directives. */
  readonly supergraphDocument: DocumentNode;
}

/** The GraphQL-over-HTTP parameters as the client sent them (POST body or GET query): not validated yet. */
export interface GraphQLParams {
  readonly query?: unknown;
  readonly operationName?: unknown;
  readonly variables?: unknown;
  readonly extensions?: unknown;
  /** A persisted document's id (GraphQL-over-HTTP, Relay, Apollo's persisted queries). */
  readonly documentId?: unknown;
}

/**
 * What every phase of one request reads: the one per-request object (request-context.ts). Every
 * payload below extends it, so a plugin reads `op.identity` or `res.requestId` directly, and can
 * key its own per-request state by `context` in a WeakMap.
 */
export interface RequestScope {
  readonly requestId: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The TCP peer (a proxy's address when behind one). */
  readonly remoteAddress: string;
  /** `performance.now()` when the HTTP front received the request (for client-facing durations). */
  readonly startedAt: number;
  readonly log: Logger;
  identity: Identity;
  /**
   * The one way to add a header to the response, whatever the outcome (e.g. `ratelimit`). A
   * refusal's headers (`tesseraError(…, { headers })`) travel the same way.
   */
  setResponseHeader(name: string, value: string): void;
  get<T>(slot: Slot<T>): T | undefined;
  set<T>(slot: Slot<T>, value: T): void;
  /** The same object for every phase of this request. */
  readonly context: object;
}

/** Per request, before the engine: the parameters as sent, and the one way to replace the document. */
export interface ParamsPhase extends RequestScope {
  readonly params: GraphQLParams;
  /**
   * Run `query` instead of what was sent (the text of the persisted document the request names).
   * Later plugins' onParams and every later phase see the substituted parameters.
   */
  substitute(query: string): void;
}

/** Per request, before parsing: only headers and the raw parameters are known. */
export interface RequestPhase extends RequestScope {
  readonly params: GraphQLParams;
}

/** After parse + validate + variable coercion, before planning. */
export interface OperationPhase extends RequestScope {
  readonly schema: SchemaPhase;
  readonly document: DocumentNode;
  /** The query text the document was parsed from. */
  readonly source: string;
  readonly operation: OperationDefinitionNode;
  readonly operationType: OperationTypeNode;
  readonly operationName: string | null;
  readonly variables: Readonly<Record<string, unknown>>;
  /**
   * The one analysis of this operation (operation-analysis.ts): fragments resolved once, depth,
   * aliases, root fields, directives and the expanded field count computed without expanding,
   * cached per document and supergraph generation. Plugins read it instead of walking the document.
   */
  readonly analysis: OperationAnalysis;
  /**
   * Plan and execute this document instead (e.g. with unauthorized fields removed). The engine
   * caches plans per rewritten document object, so hand back the same object for the same rewrite.
   * Later plugins still read the original `document`.
   */
  rewrite(document: DocumentNode): void;
}

/** The response as the client will see it; a done-callback may edit it. */
export interface ResponseView {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/** Returned by `onOperation` to run after the result is known (e.g. fill nulls, add extensions). */
export type OperationDone = (response: ResponseView) => void | Promise<void>;

/** The final response of one /graphql request. */
export interface ResponsePhase extends RequestScope {
  readonly status: number;
  /** The body as sent; null for a streamed (incremental) body. */
  readonly result: ResponseView | null;
  /** The type of the operation the engine resolved; null when refused before (framing, CSRF, parse, validation). */
  readonly operationType: OperationTypeNode | null;
  /** The operation phase's payload, when the request got that far (refused there or not). */
  readonly operation: OperationPhase | null;
  /** Errors the client got masked as INTERNAL_SERVER_ERROR, with their causes: for the log only. */
  readonly internalErrors: readonly Error[];
}

/**
 * A subgraph fetch as `wrapSubgraphFetch` sees it: the subgraph client's own request, answer and
 * fetch types (subgraph-client/fetch.ts). `request.headers` is what will be sent (editable);
 * `request.context` is the client request the fetch serves (null for the engine's own fetches);
 * a failure is an answer (`ok: false`), never a throw.
 */
export type { SubgraphAnswer, SubgraphFetch, SubgraphRequest } from '../subgraph-client/fetch.ts';
