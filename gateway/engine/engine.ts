import type { IncomingHttpHeaders } from 'node:http';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode, OperationTypeNode } from 'graphql';
import type { Logger } from '../observability/log.ts';
import type { ResponseView } from '../pipeline/plugin.ts';
import type { RequestContext } from '../pipeline/request-context.ts';
import type { SupergraphSource } from '../schema-source/source.ts';
import type { SubgraphClient } from '../subgraph-client/client.ts';

/**
 * The GraphQL engine behind one boundary: what parses, validates, plans and executes. Tessera's
 * HTTP front, pipeline, policies and subgraph clients talk to it only through these types; the
 * one implementation today is engine/apollo/ (the only code that imports Apollo's gateway and
 * server packages). Another engine is another folder implementing `EngineFactory`.
 *
 * What an engine does, and where:
 * - load a supergraph generation: from `options.source` at `start()` and on each update it pushes,
 *   reporting each one to `options.onGeneration` (Tessera leases subgraph clients and runs the
 *   plugins' onSchema there);
 * - prepare an operation: GraphQL-over-HTTP framing, parse, validate (with its document and plan
 *   caches), choose the operation, coerce variables, then hand it to `phases.operation` before
 *   planning;
 * - execute it with Tessera's subgraph fetch function (`options.subgraphs`), counting the execution
 *   against the current generation (`options.enterGeneration`);
 * - report the operation type, per request (`EngineResponse.operationType`) and per subgraph fetch
 *   (`SubgraphRequest.operationType` in subgraph-client/fetch.ts, so a mutation is never retried).
 */
export interface Engine {
  /** Loads the first generation; rejects when it does not build. */
  start(): Promise<void>;
  /** One /graphql request, from framing to the serialised body, calling `phases` on the way. */
  execute(request: EngineRequest, phases: EnginePhases): Promise<EngineResponse>;
  stop(): Promise<void>;
}

export type EngineFactory = (options: EngineOptions) => Engine;

export interface EngineOptions {
  readonly source: SupergraphSource;
  /**
   * Tessera's subgraph client for a subgraph name and routing URL, looked up at each fetch (clients
   * come and go with supergraph generations; an engine holds this for its life). Its `fetch` is the
   * function the engine executes plans with.
   */
  readonly subgraphs: (subgraph: { name: string; url: string }) => () => SubgraphClient;
  /** Called synchronously for every generation the engine starts serving (start-up and each update). */
  readonly onGeneration: (generation: { apiSchema: GraphQLSchema; supergraphSdl: string }) => void;
  /** Counts one execution against the current generation; the returned function ends it. */
  readonly enterGeneration: () => () => void;
  readonly log: Logger;
  /** `server.csrfPrevention`: refuse GETs (and simple POSTs) without a preflight-forcing header. */
  readonly csrfPrevention: boolean;
  readonly introspection: boolean;
}

/** A /graphql request as the HTTP front framed it (method, media type and body limit checked). */
export interface EngineRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The query string with its '?', or ''. GET requests carry their operation there. */
  readonly search: string;
  /** The parsed JSON body of a POST (an object); undefined for GET. */
  readonly body: unknown;
}

/**
 * The pipeline, as the engine calls it. A throw from `request` or `operation` refuses the request:
 * a TesseraError answers with its code and status; anything else is masked as INTERNAL_SERVER_ERROR.
 */
export interface EnginePhases {
  readonly context: RequestContext;
  /** The request is GraphQL-over-HTTP the engine accepts (CSRF checked); nothing parsed yet. */
  request(): Promise<void>;
  /** Parsed, validated, one operation chosen, variables coerced; before planning. */
  operation(op: PreparedOperation): Promise<void>;
  /** The result the client will get, before it is serialised: the done-callbacks patch it here. */
  result(result: ResponseView): Promise<void>;
  /** The request's trace when tracing is on and the request is traced; null otherwise (one check). */
  readonly trace: EngineTrace | null;
}

/**
 * Where an engine reports its own steps as spans (observability/tracing.ts makes them under the
 * request's server span). An engine opens and ends, when it does the step:
 *
 *   'graphql.parse'     parsing the document (skip it on a document-cache hit)
 *   'graphql.validate'  validating it against the API schema (skip it on a cache hit)
 *   'graphql.plan'      getting the query plan; set `tessera.plan.cache` to 'hit' or 'miss'
 *   'graphql.execute'   running the plan: while it is open, every subgraph fetch span is its child
 *
 * `end(error)` marks the span failed (the error's `extensions.code` or name, and its message).
 * Attributes never carry variables, tokens or documents (the document's hash is on the server span).
 * Tessera's own spans (the server span, one per plugin hook, one per subgraph fetch and attempt)
 * are made outside the engine.
 */
export interface EngineTrace {
  span(name: string, attributes?: Readonly<Record<string, string | number | boolean>>): EngineSpan;
}

export interface EngineSpan {
  setAttribute(key: string, value: string | number | boolean): void;
  end(error?: unknown): void;
}

export interface PreparedOperation {
  /** The API schema of the generation the operation is planned on. */
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly source: string;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null;
  readonly variables: Readonly<Record<string, unknown>>;
  /** Plan and execute `document` instead; plans are cached per rewritten document object. */
  rewrite(document: DocumentNode): void;
}

export interface EngineResponse {
  readonly status: number;
  /** The engine's own headers (content type…); the pipeline adds the plugins' after them. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body:
    | { readonly kind: 'complete'; readonly string: string }
    | { readonly kind: 'chunked'; readonly chunks: AsyncIterable<string> };
  /** The result as `body` serialises it; null for a chunked body. */
  readonly result: ResponseView | null;
  /** The resolved operation's type; null when the request was refused before one was chosen. */
  readonly operationType: OperationTypeNode | null;
  /** Errors the client got masked as INTERNAL_SERVER_ERROR, with their causes. */
  readonly internalErrors: readonly Error[];
}
