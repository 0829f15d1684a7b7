import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { SubgraphClient } from '../../subgraph-client/client.ts';
import { failurePath } from '../../subgraph-client/error-path.ts';
import { subgraphRequest, type OperationType } from '../../subgraph-client/fetch.ts';
import type { ApolloContext } from './context.ts';

type ProcessOptions = GraphQLDataSourceProcessOptions<ApolloContext>;

/**
 * @apollo/gateway's data source over a Tessera subgraph client (what `buildService` returns):
 * Apollo's fetch becomes a `SubgraphRequest`, the client's answer becomes a
 * GraphQL response. A failure becomes one error, in the subgraph's own response shape (the
 * gateway adds `serviceName` and maps the path to the client's), so the other subgraphs' fields
 * are still served. It never throws.
 *
 * `client` is looked up at each fetch: Apollo keeps a data source for the life of the gateway,
 * while clients are closed and made again across supergraph generations.
 */
export function apolloDataSource(client: () => SubgraphClient): GraphQLDataSource<ApolloContext> {
  return { process: (options) => process(client(), options) };
}

async function process(client: SubgraphClient, options: ProcessOptions): Promise<GatewayGraphQLResponse> {
  const { request } = options;
  // Health checks and schema loads carry an empty context: no client request behind them.
  const ctx = (options.context as Partial<ApolloContext>).tessera ?? null;
  const incoming = 'incomingRequestContext' in options ? options : null;
  const req = subgraphRequest({
    operationType: operationTypeOf(options),
    query: request.query ?? '',
    operationName: request.operationName,
    variables: request.variables,
    document: incoming?.document,
    schema: incoming?.incomingRequestContext.schema,
    requestId: ctx?.requestId,
    log: ctx?.log,
    incomingHeaders: ctx?.headers,
    context: ctx,
  });
  const answer = await client.exchange(req);
  if (answer.ok) return answer.result as GatewayGraphQLResponse;
  const { failure } = answer;
  const isEntityFetch = Array.isArray(request.variables?.['representations']);
  const error = {
    message: failure.message,
    path: failurePath(req.query, req.document, isEntityFetch),
    extensions: { code: failure.code, ...(failure.status ? { status: failure.status } : {}) },
  };
  return { errors: answer.errors?.length ? [error, ...answer.errors] : [error] } as GatewayGraphQLResponse;
}

/**
 * The fetch's operation type, from what Apollo knows rather than the query text. Every fetch of a
 * query is a query. A mutation's fetches at the root of the response are its mutation fields (in
 * order, one subgraph each); its fetches below the root are entity fetches (`_entities`, a Query
 * field), which Apollo runs at the path of the entities. Unknown: treated as a mutation (never
 * retried once possibly sent, never shared). Health checks and schema loads are queries.
 */
export function operationTypeOf(options: ProcessOptions): OperationType {
  if (!('incomingRequestContext' in options)) return 'query';
  const incoming = options.incomingRequestContext.operation?.operation;
  if (incoming === 'query') return 'query';
  if (incoming === 'mutation')
    return options.pathInIncomingRequest && options.pathInIncomingRequest.length > 0 ? 'query' : 'mutation';
  return incoming ?? 'mutation';
}
