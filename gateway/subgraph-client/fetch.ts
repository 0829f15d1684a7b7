import type { IncomingHttpHeaders } from 'node:http';
import type { DocumentNode, GraphQLFormattedError } from 'graphql';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RequestScope } from '../pipeline/plugin.ts';
import type { ClassifiedFailure } from './classify-failure.ts';
import type { AttemptFailure } from './retry-policy.ts';

export type OperationType = 'query' | 'mutation' | 'subscription';

/**
 * One fetch to one subgraph, as the engine asks for it. The engine's adapter makes one per fetch
 * (`subgraphRequest`); the layers pass it down. Three fields are filled on the way, by the layer
 * named on each, on this object (no copy per layer): `headers`, `body` and `deadlineAt`. A layer
 * that changes anything else passes a copy (the deadline layer does, per attempt, for `signal`).
 */
export interface SubgraphRequest {
  /**
   * From the engine, which knows it: a query's fetches are all queries; a mutation's root fetches
   * are mutations. Never retried once possibly sent, never deduplicated: anything but a query.
   */
  readonly operationType: OperationType;
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
  /** The operation sent, when the engine has it parsed (saves a parse for the answer check). */
  readonly document: DocumentNode | undefined;
  /** The schema generation the operation was planned against: answers are checked against it. */
  readonly schema: object | undefined;
  readonly requestId: string | undefined;
  /** The request's logger (lines carry its `requestId`); the client's own when absent. */
  readonly log: Logger | undefined;
  /** The client's request headers: the headers layer propagates the allow-listed ones. */
  readonly incomingHeaders: IncomingHttpHeaders | undefined;
  /** The client request this fetch serves (the plugins' wraps read its identity); null for the engine's own fetches. */
  readonly context: RequestScope | null;
  /** What is sent. Set by the headers layer; the plugins' wraps may edit it. */
  headers: Record<string, string>;
  /** The JSON body, made once on first use (`bodyOf`): a refused fetch never serializes. */
  body: string | undefined;
  /** `performance.now()` by which every attempt must be over. Set by the retry layer. */
  deadlineAt: number;
  /** Aborts the attempt in flight. Set per attempt by the deadline layer. */
  readonly signal: AbortSignal | undefined;
}

/** How a fetch ends. A failure is a value, never a throw, so every layer sees it the same way. */
export type SubgraphAnswer = SubgraphReply | SubgraphFailed;

/** The subgraph answered with a status the transport passes up (below 500, not 429). */
export interface SubgraphReply {
  readonly ok: true;
  readonly status: number;
  /** The body as received. Shared by deduplicated callers: never parsed in place. */
  readonly text: string;
  /** The answer as the engine may use it; set by the answer check (each caller its own copy). */
  readonly result?: SubgraphResult;
}

/** A GraphQL response the engine may merge: shape-checked data, redacted errors. */
export interface SubgraphResult {
  readonly data?: unknown;
  readonly errors?: GraphQLFormattedError[];
}

export interface SubgraphFailed {
  readonly ok: false;
  readonly failure: ClassifiedFailure;
  /** What one failed attempt tells the retry layer; absent: the failure is final. */
  readonly retry?: AttemptFailure;
  /** The subgraph's own (redacted) errors that came with an answer refused whole. */
  readonly errors?: readonly GraphQLFormattedError[];
}

export type SubgraphFetch = (request: SubgraphRequest) => Promise<SubgraphAnswer>;

/** What a layer is built with, once per subgraph client (never per request). */
export interface ClientScope {
  readonly settings: SubgraphSettings;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The instance this scope's layers serve, when the subgraph has several (traffic/instances.ts); its label in metrics and logs. */
  readonly instance?: string;
  /** Registers what to release when the client closes; `force` aborts what is still in flight. */
  onClose(release: (force: boolean) => void | Promise<void>): void;
}

/**
 * A layer wraps the fetch below it (`next`) and is the fetch for the layer above: undici's
 * `dispatcher.compose(interceptors)` and Hive's `setExecutor(wrap(next))` have the same shape.
 * It is called once per client; what it returns runs per fetch, so anything a layer can make
 * ahead (label children, compiled rules, a breaker) is made here, not per request.
 */
export type FetchLayer = (next: SubgraphFetch, scope: ClientScope) => SubgraphFetch;

/** `layers[0]` sees each request first and each answer last; `bottom` sends it. */
export function compose(layers: readonly FetchLayer[], bottom: SubgraphFetch, scope: ClientScope): SubgraphFetch {
  let fetch = bottom;
  for (let i = layers.length - 1; i >= 0; i--) fetch = layers[i]!(fetch, scope);
  return fetch;
}

/** A request as the engine's adapter makes it; the fields the layers fill start empty. */
export function subgraphRequest(
  init: Omit<SubgraphRequest, 'headers' | 'body' | 'deadlineAt' | 'signal'>,
): SubgraphRequest {
  return {
    operationType: init.operationType,
    query: init.query,
    operationName: init.operationName,
    variables: init.variables,
    document: init.document,
    schema: init.schema,
    requestId: init.requestId,
    log: init.log,
    incomingHeaders: init.incomingHeaders,
    context: init.context,
    headers: {},
    body: undefined,
    deadlineAt: Infinity,
    signal: undefined,
  };
}

/** The request's JSON body, serialized on first use and kept (dedupe keys on it; transport sends it). */
export function bodyOf(request: SubgraphRequest): string {
  return (request.body ??= JSON.stringify({
    query: request.query,
    variables: request.variables,
    operationName: request.operationName,
  }));
}
