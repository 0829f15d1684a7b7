import type { IncomingHttpHeaders } from 'node:http';
import {
  parse,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type OperationTypeNode,
} from 'graphql';
import { TesseraError } from '../errors/tessera-error.ts';
import type { Engine, EngineRequest, PreparedOperation } from '../engine/engine.ts';
import { responseMediaType } from '../http/respond.ts';
import type { Logger } from '../observability/log.ts';
import { traceSlot } from '../observability/tracing.ts';
import {
  analysisGeneration,
  analyzeOperation,
  finite,
  RequestAnalysis,
  type AnalysisCore,
  type AnalysisGeneration,
  type OperationAnalysis,
} from './operation-analysis.ts';
import type {
  GraphQLParams,
  Identity,
  OperationDone,
  OperationPhase,
  ParamsPhase,
  RequestScope,
  ResponsePhase,
  ResponseView,
  SchemaPhase,
  Slot,
} from './plugin.ts';
import type { RequestContext } from './request-context.ts';
import type { PipelineRunner } from './runner.ts';

/** What the HTTP front writes for a /graphql request. */
export interface GatewayResponse {
  readonly status: number;
  /** The engine's headers, then the plugins' (a later one of the same name wins). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body:
    | { readonly kind: 'complete'; readonly string: string }
    | { readonly kind: 'chunked'; readonly chunks: AsyncIterable<string> };
  /** The chosen operation (for the request log line); null fields when refused before one was chosen. */
  readonly operation: { readonly name: string | null; readonly type: OperationTypeNode | null };
}

interface Generation {
  readonly phase: SchemaPhase;
  /** The plugins' onSchema for this generation; operations planned on it wait for it. */
  readonly ready: Promise<void>;
  readonly analysis: AnalysisGeneration;
  /**
   * One analysis per document and operation, for this generation. The engine's document cache
   * hands back the same DocumentNode for the same query text, so a repeated query costs a lookup.
   */
  readonly analyses: WeakMap<DocumentNode, Map<OperationDefinitionNode, AnalysisCore | null>>;
}

/**
 * The phases of one /graphql request, in the order plugin.ts lists them: the HTTP front hands
 * over the request context, the engine calls back at each phase, and every request, refused or
 * not, ends in the plugins' onResponse before a byte is written.
 */
export class Pipeline {
  private readonly runner: PipelineRunner;
  private readonly engine: () => Engine;
  private readonly log: Logger;
  private readonly maxExpandedFields: number;
  private readonly generations = new WeakMap<GraphQLSchema, Generation>();
  private current: Generation | null = null;
  /** onSchema runs for one generation at a time, oldest first: plugins keep "the current rules". */
  private schemaChain: Promise<void> = Promise.resolve();

  /**
   * `engine` is read at the first request: the engine itself reports generations to this pipeline.
   * `maxExpandedFields` bounds any per-position walk a plugin makes over the analysis.
   */
  constructor(runner: PipelineRunner, engine: () => Engine, opts: { log: Logger; maxExpandedFields: number }) {
    this.runner = runner;
    this.engine = engine;
    this.log = opts.log;
    this.maxExpandedFields = opts.maxExpandedFields;
  }

  /**
   * A supergraph generation was loaded. The plugins' onSchema hooks run, in order and awaited;
   * operations planned on this generation wait until they are done. When one fails, operations on
   * this generation are refused (INTERNAL_SERVER_ERROR): serving without, say, the authorization
   * rules of the new schema would fail open.
   */
  schemaLoaded(generation: { apiSchema: GraphQLSchema; supergraphSdl: string }): Promise<void> {
    const phase: SchemaPhase = {
      apiSchema: generation.apiSchema,
      supergraphSdl: generation.supergraphSdl,
      supergraphDocument: parse(generation.supergraphSdl, { noLocation: true }),
    };
    const ready = this.schemaChain.then(() => this.runner.onSchema(phase));
    ready.catch((err: Error) =>
      this.log.error(
        { err: err.message },
        'a plugin failed to load the new supergraph generation; operations on it are refused',
      ),
    );
    this.schemaChain = ready.catch(() => undefined);
    const gen: Generation = {
      phase,
      ready,
      analysis: analysisGeneration(phase.apiSchema, phase.supergraphDocument),
      analyses: new WeakMap(),
    };
    this.generations.set(generation.apiSchema, gen);
    this.current = gen;
    return ready;
  }

  /** Settles when the newest generation's onSchema hooks have run (rejects when one failed). */
  ready(): Promise<void> {
    return this.current?.ready ?? Promise.resolve();
  }

  async execute(ctx: RequestContext, sent: EngineRequest): Promise<GatewayResponse> {
    ctx.params = paramsOf(sent);
    let request = sent;
    if (this.runner.hasParamsHooks) {
      // Before the engine, so a persisted document reaches every engine as a plain request.
      const phase = new ParamsView(ctx);
      try {
        await refusing(ctx, () => this.runner.onParams(phase));
      } catch (err) {
        return this.refuseBeforeEngine(ctx, err);
      }
      if (phase.substituted !== null) request = withQuery(request, phase.substituted);
    }
    let operation: OperationView | null = null;
    let done: OperationDone[] | null = null;
    let response;
    const trace = ctx.get(traceSlot) ?? null;
    try {
      response = await this.engine().execute(request, {
        context: ctx,
        trace,
        request: () => refusing(ctx, () => this.runner.onRequest(ctx)),
        operation: async (prepared) => {
          const gen = this.generations.get(prepared.schema) ?? this.current;
          if (!gen) throw new Error('no supergraph generation is loaded');
          await gen.ready;
          let byOperation = gen.analyses.get(prepared.document);
          if (!byOperation) gen.analyses.set(prepared.document, (byOperation = new Map()));
          const cached = byOperation.has(prepared.operation);
          let core = byOperation.get(prepared.operation);
          if (core === undefined)
            byOperation.set(
              prepared.operation,
              (core = analyzeOperation(gen.analysis, prepared.document, prepared.operation)),
            );
          // The schema has no root type for this operation kind: nothing can execute it.
          if (!core) return;
          const analysis = new RequestAnalysis(core, {
            variables: prepared.variables,
            cached,
            maxExpandedFields: this.maxExpandedFields,
          });
          const op = (operation = new OperationView(ctx, gen.phase, prepared, analysis));
          trace?.operation({ name: op.operationName, type: op.operationType, source: op.source });
          try {
            done = await refusing(ctx, () => this.runner.onOperation(op));
          } finally {
            // The work this request cost, refused or not: what test/e2e/hostile-documents.test.ts reads.
            ctx.log.debug(
              {
                requestId: ctx.requestId,
                nodesVisited: analysis.nodesVisited,
                cached,
                expandedFields: finite(analysis.expandedFields),
              },
              'operation analysed',
            );
          }
        },
        result: async (result) => {
          if (done) for (const d of done) await d(result);
        },
      });
    } catch (err) {
      // The HTTP front answers 500 and logs it; the request is still counted.
      await this.runner.onResponse(
        new FinalResponse(ctx, {
          status: 500,
          result: { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
          operationType: null,
          operation,
          internalErrors: [],
        }),
      );
      throw err;
    }
    await this.runner.onResponse(
      new FinalResponse(ctx, {
        status: response.status,
        result: response.result,
        operationType: response.operationType,
        operation,
        internalErrors: response.internalErrors,
      }),
    );
    return {
      status: response.status,
      headers: [...response.headers, ...ctx.responseHeaders],
      body: response.body,
      // Assigned inside the phase callback: TypeScript cannot see it.
      operation: { name: (operation as OperationView | null)?.operationName ?? null, type: response.operationType },
    };
  }

  /** An onParams refusal: answered here, as the engine answers a request-level error, and counted by onResponse. */
  private async refuseBeforeEngine(ctx: RequestContext, err: unknown): Promise<GatewayResponse> {
    let status: number;
    let result: ResponseView;
    const internalErrors: Error[] = [];
    if (err instanceof TesseraError && err.status !== null) {
      status = err.status;
      result = { errors: [err.toJSON()] };
    } else {
      internalErrors.push(err instanceof Error ? err : new Error(String(err)));
      status = 500;
      result = { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
    }
    await this.runner.onResponse(
      new FinalResponse(ctx, { status, result, operationType: null, operation: null, internalErrors }),
    );
    const accept = ctx.headers.accept;
    return {
      status,
      headers: [['content-type', responseMediaType(accept)], ...ctx.responseHeaders],
      body: { kind: 'complete', string: JSON.stringify(result) },
      // Refused before any operation was chosen.
      operation: { name: null, type: null },
    };
  }

  /**
   * A request the HTTP front refused before the engine saw it (media type, body limit, JSON):
   * only onResponse runs, so it is counted and logged like any other.
   */
  async refused(ctx: RequestContext, status: number, result: ResponseView): Promise<void> {
    await this.runner.onResponse(
      new FinalResponse(ctx, { status, result, operationType: null, operation: null, internalErrors: [] }),
    );
  }
}

/** A refusal's headers join the one response-header channel; the error goes on to the engine. */
async function refusing<T>(ctx: RequestContext, phase: () => Promise<T>): Promise<T> {
  try {
    return await phase();
  } catch (err) {
    if (err instanceof TesseraError)
      for (const [name, value] of Object.entries(err.headers)) ctx.setResponseHeader(name, value);
    throw err;
  }
}

/** The GraphQL parameters as sent: the POST body, or the GET query string (JSON values parsed when they parse). */
function paramsOf(request: EngineRequest): GraphQLParams {
  if (request.body !== undefined) return request.body as GraphQLParams;
  const search = new URLSearchParams(request.search);
  const json = (name: string) => {
    const raw = search.get(name);
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  };
  return {
    query: search.get('query') ?? undefined,
    operationName: search.get('operationName') ?? undefined,
    variables: json('variables'),
    extensions: json('extensions'),
    documentId: search.get('documentId') ?? undefined,
  };
}

/** `extensions` without `persistedQuery`: what the engine must not see once the document is substituted. */
function withoutPersistedQuery(extensions: unknown): unknown {
  if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) return extensions;
  const { persistedQuery: _, ...rest } = extensions as Record<string, unknown>;
  return Object.keys(rest).length ? rest : undefined;
}

/** The request as the engine gets it: `query` set, the persisted document's id and hash gone. */
function withQuery(request: EngineRequest, query: string): EngineRequest {
  if (request.body !== undefined) {
    const { documentId: _, extensions, ...body } = request.body as Record<string, unknown>;
    const ext = withoutPersistedQuery(extensions);
    return { ...request, body: { ...body, query, ...(ext === undefined ? {} : { extensions: ext }) } };
  }
  const search = new URLSearchParams(request.search);
  search.set('query', query);
  search.delete('documentId');
  const raw = search.get('extensions');
  if (raw !== null) {
    let ext: unknown = raw;
    try {
      ext = withoutPersistedQuery(JSON.parse(raw));
    } catch {
      // Not JSON: the engine answers it as it would have.
    }
    if (ext === undefined) search.delete('extensions');
    else if (ext !== raw) search.set('extensions', JSON.stringify(ext));
  }
  return { ...request, search: `?${search.toString()}` };
}

/** Every payload reads and writes the request's scope through the one context object. */
class ScopeView implements RequestScope {
  protected readonly ctx: RequestContext;
  constructor(ctx: RequestContext) {
    this.ctx = ctx;
  }
  get context(): RequestContext {
    return this.ctx;
  }
  get requestId(): string {
    return this.ctx.requestId;
  }
  get method(): string {
    return this.ctx.method;
  }
  get headers(): IncomingHttpHeaders {
    return this.ctx.headers;
  }
  get remoteAddress(): string {
    return this.ctx.remoteAddress;
  }
  get startedAt(): number {
    return this.ctx.startedAt;
  }
  get log(): Logger {
    return this.ctx.log;
  }
  get identity(): Identity {
    return this.ctx.identity;
  }
  set identity(identity: Identity) {
    this.ctx.identity = identity;
  }
  setResponseHeader(name: string, value: string): void {
    this.ctx.setResponseHeader(name, value);
  }
  get<T>(slot: Slot<T>): T | undefined {
    return this.ctx.get(slot);
  }
  set<T>(slot: Slot<T>, value: T): void {
    this.ctx.set(slot, value);
  }
}

class ParamsView extends ScopeView implements ParamsPhase {
  substituted: string | null = null;
  get params(): GraphQLParams {
    return this.ctx.params;
  }
  substitute(query: string): void {
    this.substituted = query;
    const { documentId: _, ...rest } = this.ctx.params;
    this.ctx.params = { ...rest, query, extensions: withoutPersistedQuery(rest.extensions) };
  }
}

class OperationView extends ScopeView implements OperationPhase {
  readonly schema: SchemaPhase;
  readonly document: DocumentNode;
  readonly source: string;
  readonly operation: OperationDefinitionNode;
  readonly operationType: OperationTypeNode;
  readonly operationName: string | null;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly analysis: OperationAnalysis;
  private readonly prepared: PreparedOperation;
  constructor(ctx: RequestContext, schema: SchemaPhase, prepared: PreparedOperation, analysis: OperationAnalysis) {
    super(ctx);
    this.analysis = analysis;
    this.schema = schema;
    this.prepared = prepared;
    this.document = prepared.document;
    this.source = prepared.source;
    this.operation = prepared.operation;
    this.operationType = prepared.operation.operation;
    this.operationName = prepared.operationName;
    this.variables = prepared.variables;
  }
  rewrite(document: DocumentNode): void {
    this.prepared.rewrite(document);
  }
}

class FinalResponse extends ScopeView implements ResponsePhase {
  readonly status: number;
  readonly result: ResponseView | null;
  readonly operationType: OperationTypeNode | null;
  readonly operation: OperationPhase | null;
  readonly internalErrors: readonly Error[];
  constructor(
    ctx: RequestContext,
    r: {
      status: number;
      result: ResponseView | null;
      operationType: OperationTypeNode | null;
      operation: OperationPhase | null;
      internalErrors: readonly Error[];
    },
  ) {
    super(ctx);
    this.status = r.status;
    this.result = r.result;
    this.operationType = r.operationType;
    this.operation = r.operation;
    this.internalErrors = r.internalErrors;
  }
}
