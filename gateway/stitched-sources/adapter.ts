import { stitchSchemas } from '@graphql-tools/stitch';
import {
  buildSchema,
  execute,
  getNamedType,
  isEnumType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  parse,
  print,
  printType,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type GraphQLUnionType,
} from 'graphql';
import { internalFailure } from '../subgraph-client/classify-failure.ts';
import type {
  ClientScope,
  SubgraphAnswer,
  SubgraphFailed,
  SubgraphFetch,
  SubgraphRequest,
} from '../subgraph-client/fetch.ts';
import { resolveMerge, type ResolvedMerge, type StitchedSourceDescriptor } from './descriptor.ts';

type SubschemaConfig = Extract<
  NonNullable<Parameters<typeof stitchSchemas>[0]['subschemas']>[number],
  { schema: unknown }
>;
type Executor = NonNullable<SubschemaConfig['executor']>;
type MergedTypeConfig = NonNullable<SubschemaConfig['merge']>[string];

/** Per adapter fetch: the fetch it serves and the first thing that ended it below. */
interface AdapterState {
  readonly request: SubgraphRequest;
  /** A failed exchange with the service (the retry layer and the breaker above judge it). */
  failure: SubgraphFailed | null;
  /** A reply that is not GraphQL (a 4xx page, a non-JSON 200): handed up whole for the answer check. */
  passUp: SubgraphAnswer | null;
}

/**
 * The bottom of a stitched source's client, instead of the transport: it serves the federation
 * subgraph that composition made of the plain service (`_entities` and its root fields) by
 * executing each fetch in process against a schema `@graphql-tools/stitch` builds, whose calls to
 * the service go through `send` (the transport, on this client's pool, TLS and limits). Everything
 * above it (rate cap, headers, plugin wraps, answer check, dedupe, retry, breaker, deadline) is the
 * client every subgraph has, so one federation fetch is one attempt whatever number of exchanges
 * with the service it takes; the first failed exchange fails the attempt.
 *
 * Two subschemas are stitched. One is local: `_entities` hands the representations back as they
 * came (they hold the key fields). The other is the service, with stitch's merged-type config made
 * from `merge:`; stitch sees that the selected fields are not in the local subschema and fetches
 * them from the service by key, batched (batch-delegate) and, with `batch: true`, several root
 * calls in one request.
 */
export function stitchedBottom(
  scope: ClientScope,
  source: StitchedSourceDescriptor | Error,
  send: SubgraphFetch,
): SubgraphFetch {
  const name = scope.settings.name;
  let schema: GraphQLSchema;
  try {
    if (source instanceof Error) throw source;
    schema = adapterSchema(source, send);
  } catch (err) {
    // Composition checked the descriptor: this is a bug or a hand-edited supergraph. Only this
    // subgraph's fields fail.
    scope.log.error({ subgraph: name, err }, 'stitched source cannot be served');
    return () => Promise.resolve({ ok: false, failure: internalFailure(name, 'stitched source adapter', err) });
  }
  const documents = new Map<string, DocumentNode>();
  return async (request) => {
    const state: AdapterState = { request, failure: null, passUp: null };
    let result: ExecutionResult;
    try {
      result = await execute({
        schema,
        document: documentOf(documents, request.query),
        variableValues: request.variables,
        operationName: request.operationName,
        contextValue: state,
      });
    } catch (err) {
      return { ok: false, failure: internalFailure(name, 'stitched source adapter', err) };
    }
    if (state.failure) return state.failure;
    if (state.passUp) return state.passUp;
    return { ok: true, status: 200, text: JSON.stringify(result) };
  };
}

/** The planner sends the same few fetch documents again and again. */
function documentOf(cache: Map<string, DocumentNode>, query: string): DocumentNode {
  let doc = cache.get(query);
  if (!doc) {
    doc = parse(query);
    if (cache.size >= 500) cache.clear();
    cache.set(query, doc);
  }
  return doc;
}

function adapterSchema(source: StitchedSourceDescriptor, send: SubgraphFetch): GraphQLSchema {
  const service = buildSchema(source.sdl);
  const { merged, problems } = resolveMerge(service, source.merge);
  if (problems.length) throw new Error(problems.join('; '));
  const resolvable = merged.filter((m) => m.resolver);
  const plain: SubschemaConfig = {
    schema: service,
    executor: serviceExecutor(send),
    batch: true,
    merge: Object.fromEntries(resolvable.map((m) => [m.typeName, mergedTypeConfig(m)])),
  };
  if (!resolvable.length) return stitchSchemas({ subschemas: [plain] });
  return stitchSchemas({ subschemas: [{ schema: representations(service, resolvable) }, plain] });
}

/** stitch's `MergedTypeConfig` for one type, its functions made from the declarative config. */
function mergedTypeConfig(m: ResolvedMerge): MergedTypeConfig {
  const r = m.resolver!;
  const pick = (rep: Record<string, unknown>) => Object.fromEntries(m.keyFields.map((f) => [f, rep[f]]));
  if (r.kind === 'batched') {
    return {
      selectionSet: m.selectionSet,
      fieldName: r.fieldName,
      key: (rep: Record<string, unknown>) => (r.keyField ? rep[r.keyField] : pick(rep)),
      argsFromKeys: (keys: readonly unknown[]) => ({ [r.arg]: keys }),
    };
  }
  return {
    selectionSet: m.selectionSet,
    fieldName: r.fieldName,
    args: (rep: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r.args).map(([arg, keyField]) => [arg, rep[keyField]])),
  };
}

/**
 * The local subschema: `_entities` returns the representations, which carry `__typename` and the
 * key fields; each merged type here has only its key fields, so stitch fetches the rest.
 */
function representations(service: GraphQLSchema, merged: readonly ResolvedMerge[]): GraphQLSchema {
  const extra = new Set<string>();
  const types = merged.map((m) => {
    const type = service.getType(m.typeName);
    if (!isObjectType(type)) throw new Error(`${m.typeName} is not an object type`);
    const fields = m.keyFields.map((f) => {
      const field = type.getFields()[f]!;
      const named = getNamedType(field.type);
      if ((isScalarType(named) && !isSpecifiedScalarType(named)) || isEnumType(named)) extra.add(printType(named));
      return `  ${f}: ${String(field.type)}`;
    });
    return `type ${m.typeName} {\n${fields.join('\n')}\n}`;
  });
  const local = buildSchema(
    [
      'scalar _Any',
      `union _Entity = ${merged.map((m) => m.typeName).join(' | ')}`,
      'type Query { _entities(representations: [_Any!]!): [_Entity]! }',
      ...types,
      ...extra,
    ].join('\n'),
  );
  // Resolvers on the built schema itself (graphql-js types are plain objects): no schema toolkit needed.
  local.getQueryType()!.getFields()['_entities']!.resolve = (_root, args: { representations: unknown[] }) =>
    args.representations;
  (local.getType('_Entity') as GraphQLUnionType).resolveType = (rep: { __typename?: unknown }) =>
    typeof rep?.__typename === 'string' ? rep.__typename : undefined;
  return local;
}

/**
 * Calls to the service, as stitch makes them, sent by the transport below the client's layers: a
 * copy of the federation fetch (its headers, attempt signal, identity) with the service's operation.
 */
function serviceExecutor(send: SubgraphFetch): Executor {
  const executor = async (call: Parameters<Executor>[0]): Promise<ExecutionResult> => {
    const state = call.context as AdapterState | undefined;
    if (!state?.request) throw new Error('stitched source called outside an adapter fetch');
    if (state.failure || state.passUp) throw new Error('an earlier call to the service failed');
    const request: SubgraphRequest = {
      ...state.request,
      operationType: call.operationType ?? 'query',
      query: print(call.document),
      operationName: call.operationName,
      variables: call.variables,
      document: call.document,
      headers: { ...state.request.headers },
      body: undefined,
    };
    const answer = await send(request);
    if (!answer.ok) {
      state.failure ??= answer;
      throw new Error(answer.failure.message);
    }
    const body = parseObject(answer.text);
    if (!body || answer.status < 200 || answer.status >= 300) {
      state.passUp ??= answer;
      throw new Error('the service sent no GraphQL response');
    }
    return body as ExecutionResult;
  };
  return executor as Executor;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
