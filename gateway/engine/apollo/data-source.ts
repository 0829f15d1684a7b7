import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { Kind, OperationTypeNode, type DocumentNode } from 'graphql';
import type { SubgraphAnswer } from '../../pipeline/plugin.ts';
import type { SubgraphRequest } from '../engine.ts';
import type { ApolloContext } from './context.ts';

/**
 * What @apollo/gateway's `buildService` returns: its data-source shape over Tessera's subgraph
 * fetch function. Tessera's client never throws (a failure is an answer with a field-level error),
 * so the gateway attaches `serviceName` and maps the path as it does for a subgraph's own errors.
 */
export function apolloDataSource(fetch: (request: SubgraphRequest) => Promise<SubgraphAnswer>): GraphQLDataSource<ApolloContext> {
  return {
    process: async (options) => {
      const query = options.request.query ?? '';
      const document = 'document' in options ? options.document : undefined;
      const answer = await fetch({
        query,
        variables: options.request.variables,
        operationName: options.request.operationName,
        document,
        operationType: operationTypeOf(document, query),
        schema: 'incomingRequestContext' in options ? options.incomingRequestContext.schema : undefined,
        // Health checks and schema loads carry an empty context.
        context: (options.context as Partial<ApolloContext>).tessera ?? null,
      });
      return answer as GatewayGraphQLResponse;
    },
  };
}

/**
 * The fetch's operation type from the plan's parsed operation. A plan always has it in memory; the
 * text is the fallback (the planner prints `mutation` first for a mutation's root fetch).
 */
function operationTypeOf(document: DocumentNode | undefined, query: string): OperationTypeNode {
  const op = document?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (op?.kind === Kind.OPERATION_DEFINITION) return op.operation;
  return /^\s*mutation\b/.test(query) ? OperationTypeNode.MUTATION : OperationTypeNode.QUERY;
}
