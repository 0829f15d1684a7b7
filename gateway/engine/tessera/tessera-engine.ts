import {
  getOperationAST,
  GraphQLError,
  parse,
  print,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type OperationTypeNode,
  type ValidationRule,
} from 'graphql';
import { errorCodes, isErrorCode } from '../../errors/codes.ts';
import { isUnexpected, maskError } from '../../errors/mask.ts';
import { TesseraError, tesseraError } from '../../errors/tessera-error.ts';
import { overrideOf } from '../../features/progressive-override.ts';
import type { ResponseView } from '../../pipeline/plugin.ts';
import type { SubgraphClient } from '../../subgraph-client/client.ts';
import type { Engine, EngineFactory, EngineOptions, EnginePhases, EngineRequest, EngineResponse } from '../engine.ts';
import { coerceVariables, operationResolutionFailure, refuseSubscription } from '../prepare.ts';
import { DocumentCache, noIntrospection } from './documents.ts';
import { csrfRefusal, headerValue, mediaTypes, readParams, responseContentType, serializeResult } from './framing.ts';
import { createGenerationRuntime, type GenerationRuntime } from './runtime.ts';

/**
 * Parsed documents kept across requests. Bounded by count and by total text (about 2 MiB of query
 * text, some tens of MiB of AST), like the document store the Apollo engine has.
 */
const DOCUMENT_CACHE = { maxEntries: 1_000, maxChars: 2 * 1024 * 1024 };

/** One supergraph generation as this engine serves it. */
interface Generation {
  readonly runtime: GenerationRuntime;
  /** Validation errors per document, for this generation's API schema (empty: valid). */
  readonly validated: WeakMap<DocumentNode, readonly GraphQLError[]>;
}

/**
 * Tessera's own engine: GraphQL-over-HTTP framing, parse and validation (with their caches),
 * operation choice and variable coercion here; planning and execution in the generation's runtime
 * (runtime.ts: Hive Router's query planner, Tessera's executor over its subgraph clients). The
 * pipeline's phases are called where the Apollo engine calls them, and every answer a client can
 * get (body, status, content type) is the one the Apollo engine gives.
 */
export const createTesseraEngine: EngineFactory = (options: EngineOptions): Engine => {
  const documents = new DocumentCache(DOCUMENT_CACHE);
  const rules: readonly ValidationRule[] = options.introspection
    ? specifiedRules
    : [...specifiedRules, noIntrospection];
  // A rewritten document is planned from its printed text; a plugin that caches its rewrite gets it printed once.
  const printed = new WeakMap<DocumentNode, string>();
  let current: Generation | null = null;
  let state: 'new' | 'started' | 'stopped' = 'new';
  let cleanup: (() => Promise<void>) | null = null;

  /** Builds a generation's runtime; throws (and the previous generation keeps serving) when the SDL does not build. */
  const load = (supergraphSdl: string) => {
    const clients = new Map<string, () => SubgraphClient>();
    const runtime = createGenerationRuntime(supergraphSdl, {
      client: ({ name, url }) => {
        const key = `${name}\n${url}`;
        let client = clients.get(key);
        if (!client) clients.set(key, (client = options.subgraphs({ name, url })));
        return client();
      },
      log: options.log,
    });
    current = { runtime, validated: new WeakMap() };
    options.onGeneration({ apiSchema: runtime.apiSchema, supergraphSdl });
  };

  return {
    async start() {
      const first = await options.source.initialize({ update: load });
      cleanup = first.cleanup;
      try {
        load(first.supergraphSdl);
      } catch (err) {
        await cleanup();
        throw err;
      }
      state = 'started';
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      await cleanup?.();
    },
    async execute(request, phases) {
      const internal: Error[] = [];
      try {
        return await serve(request, phases, internal);
      } catch (err) {
        // A bug here or a throw from a done-callback: the client gets the masked 500.
        internal.push(err instanceof Error ? err : new Error(String(err)));
        return refused([maskedInternal()], null, internal, mediaTypes.json);
      }
    },
  };

  async function serve(request: EngineRequest, phases: EnginePhases, internal: Error[]): Promise<EngineResponse> {
    const negotiated = responseContentType(headerValue(request.headers, 'accept'));
    // Answers before the GraphQL request is read: no result phase, content type as negotiated or JSON.
    const early = (err: unknown) => refused([formatted(err, internal)], null, internal, negotiated ?? mediaTypes.json);
    const generation = current;
    if (state !== 'started' || !generation) return early(new Error(`the engine is ${state}`));
    if (options.csrfPrevention) {
      const csrf = csrfRefusal(request.headers);
      if (csrf) return early(csrf);
    }
    try {
      await phases.request();
    } catch (err) {
      return early(err);
    }
    let params;
    try {
      params = readParams(request);
    } catch (err) {
      return early(err);
    }
    if (negotiated === null)
      return early(
        tesseraError(
          'NOT_ACCEPTABLE',
          `An 'accept' header was provided for this request which does not accept ${mediaTypes.json} or ${mediaTypes.graphqlResponse}`,
        ),
      );

    // From here on every answer goes through the result phase (its done-callbacks may patch it).
    let operationType: OperationTypeNode | null = null;
    const fail = async (errors: readonly unknown[], headers: ReadonlyArray<readonly [string, string]> = []) => {
      const result: ResponseView = { errors: errors.map((e) => formatted(e, internal)) };
      await phases.result(result);
      return respond(result, refusalStatus(errors[0], result), [...headers], operationType, internal, negotiated);
    };

    if (params.extensions?.['persistedQuery']) {
      // Automatic persisted queries are not served; the header keeps caches from holding the refusal.
      return fail(
        [tesseraError('PERSISTED_QUERY_NOT_SUPPORTED', 'PersistedQueryNotSupported')],
        [['cache-control', 'private, no-cache, must-revalidate']],
      );
    }
    const source = params.query;
    if (!source)
      return fail([
        tesseraError(
          'BAD_REQUEST',
          'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.',
        ),
      ]);

    // Traced requests report parsing and validation only when they happen (not on a cache hit).
    const trace = phases.trace;
    let document = documents.get(source);
    if (!document) {
      const span = trace?.span('graphql.parse') ?? null;
      try {
        document = parse(source);
        span?.end();
      } catch (err) {
        span?.end(err);
        const syntax = err as GraphQLError;
        return fail([
          tesseraError('GRAPHQL_PARSE_FAILED', syntax.message, {
            source: syntax.source,
            positions: syntax.positions,
          }),
        ]);
      }
    }
    let invalid = generation.validated.get(document);
    if (!invalid) {
      const span = trace?.span('graphql.validate') ?? null;
      generation.validated.set(document, (invalid = validate(generation.runtime.apiSchema, document, rules)));
      span?.end(invalid[0]);
    }
    if (invalid.length) {
      return fail(
        invalid.map(
          (e) => new TesseraError('GRAPHQL_VALIDATION_FAILED', e.message, { nodes: e.nodes, extensions: e.extensions }),
        ),
      );
    }
    documents.set(source, document);

    const operation = getOperationAST(document, params.operationName);
    operationType = operation?.operation ?? null;
    // GET is for reads: a mutation over GET could be triggered by a link or an image.
    if (request.method === 'GET' && operation && operation.operation !== 'query') {
      return fail(
        [
          tesseraError(
            'METHOD_NOT_ALLOWED',
            `GET requests only support query operations, not ${operation.operation} operations`,
          ),
        ],
        [['allow', 'POST']],
      );
    }

    let executed = { document, source, operation: operation as OperationDefinitionNode };
    let variables: Record<string, unknown>;
    try {
      if (!operation) throw operationResolutionFailure(document, params.operationName);
      refuseSubscription(operation);
      variables = coerceVariables(generation.runtime.apiSchema, operation, params.variables ?? {});
      await phases.operation({
        schema: generation.runtime.apiSchema,
        document,
        source,
        operation,
        operationName: operation.name?.value ?? null,
        variables,
        rewrite(rewritten) {
          let text = printed.get(rewritten);
          if (text === undefined) printed.set(rewritten, (text = print(rewritten)));
          const chosen = getOperationAST(rewritten, operation.name?.value);
          if (!chosen) throw new Error('the rewritten document lost the operation it was asked to run');
          executed = { document: rewritten, source: text, operation: chosen };
        },
      });
    } catch (err) {
      return fail([err]);
    }

    const leave = options.enterGeneration();
    let outcome;
    try {
      outcome = await generation.runtime.execute({
        ...executed,
        operationName: executed.operation.name?.value ?? null,
        variables,
        context: phases.context,
        // Decided once per request by the progressive-override plugin (features/progressive-override.ts).
        override: overrideOf(phases.context),
        trace,
      });
    } catch (err) {
      return fail([err]);
    } finally {
      leave();
    }
    const result: ResponseView = { data: outcome.data };
    if (outcome.errors?.length) result.errors = outcome.errors.map((e) => formatted(e, internal));
    await phases.result(result);
    // A done-callback may have removed `data`: then it is a request error like any other.
    const status = result.data === undefined ? refusalStatus(null, result, 400) : 200;
    return respond(result, status, [], operationType, internal, negotiated);
  }
};

function respond(
  result: ResponseView,
  status: number,
  headers: Array<readonly [string, string]>,
  operationType: OperationTypeNode | null,
  internal: Error[],
  contentType: string,
): EngineResponse {
  return {
    status,
    headers: [['content-type', contentType], ...headers],
    body: { kind: 'complete', string: serializeResult(result) },
    result,
    operationType,
    internalErrors: internal,
  };
}

function refused(
  errors: GraphQLFormattedError[],
  operationType: OperationTypeNode | null,
  internal: Error[],
  contentType: string,
): EngineResponse {
  const result: ResponseView = { errors };
  const code = errors[0]?.extensions?.['code'];
  const status = isErrorCode(code) ? (errorCodes[code].status ?? 500) : 500;
  return respond(result, status, [], operationType, internal, contentType);
}

/**
 * The status of an answer without `data`: its first error's catalog code's (one code, one
 * status), else that of the TesseraError, else `otherwise`.
 */
function refusalStatus(error: unknown, result: ResponseView, otherwise = 500): number {
  const code = result.errors?.[0]?.extensions?.['code'];
  if (isErrorCode(code) && errorCodes[code].status !== null) return errorCodes[code].status;
  if (error instanceof TesseraError && error.status !== null) return error.status;
  return otherwise;
}

/**
 * What the client sees of an error: a deliberate one (catalog code, a subgraph's error) as it is,
 * anything else masked as INTERNAL_SERVER_ERROR and kept, with its cause, for the error log.
 */
function formatted(err: unknown, internal: Error[]): GraphQLFormattedError {
  let shape: GraphQLFormattedError;
  if (err instanceof GraphQLError) {
    const json = err.toJSON();
    shape = { ...json, extensions: { ...json.extensions, code: err.extensions['code'] ?? 'INTERNAL_SERVER_ERROR' } };
  } else if (err instanceof Error) {
    shape = { message: err.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  } else if (typeof err === 'object' && err !== null && typeof (err as GraphQLFormattedError).message === 'string') {
    shape = err as GraphQLFormattedError;
  } else {
    shape = { message: String(err), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  if (!isUnexpected(shape)) return shape;
  internal.push(
    err instanceof GraphQLError && err.originalError
      ? err.originalError
      : err instanceof Error
        ? err
        : new Error(shape.message),
  );
  return maskError(shape);
}

function maskedInternal(): GraphQLFormattedError {
  return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
