import type {
  ApolloServerPlugin,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestListener,
} from '@apollo/server';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { errorCodes, isErrorCode } from '../../errors/codes.ts';
import { isUnexpected } from '../../errors/mask.ts';
import type { ResponseView } from '../../pipeline/plugin.ts';
import { coerceVariables, operationResolutionFailure, refuseSubscription } from '../prepare.ts';
import type { ApolloContext } from './context.ts';
import { toApolloError } from './errors.ts';

/**
 * The one Apollo Server plugin: it maps Apollo's request lifecycle onto the pipeline's phases
 * (`didResolveOperation` → phases.operation, `willSendResponse` → phases.result), and is the only
 * plugin with those hooks, so nothing runs beside the pipeline in Apollo's parallel listeners. It
 * also refuses what @apollo/gateway cannot execute before any plugin sees it, and gives each
 * catalog code its one status.
 */
export function bridgePlugin(): ApolloServerPlugin<ApolloContext> {
  // A rewritten document gets its own plan-cache key; the same object (a rewrite the plugin
  // cached) gets the same key, so its plan is reused.
  const rewriteIds = new WeakMap<DocumentNode, number>();
  let nextRewriteId = 1;
  return {
    async requestDidStart({ contextValue }) {
      const { phases, exchange } = contextValue;
      const trace = phases.trace;
      // Apollo calls these only when it parses and validates (not on a document-cache hit).
      const spans: Pick<GraphQLRequestListener<ApolloContext>, 'parsingDidStart' | 'validationDidStart'> = trace
        ? {
            async parsingDidStart() {
              const span = trace.span('graphql.parse');
              return async (err) => span.end(err);
            },
            async validationDidStart() {
              const span = trace.span('graphql.validate');
              return async (errs) => span.end(errs?.[0]);
            },
          }
        : {};
      return {
        ...spans,
        async didResolveOperation(rc) {
          try {
            const operation = refuseUnexecutable(rc);
            const baseHash = rc.queryHash;
            // @apollo/gateway plans `document` and caches plans by `queryHash`; both must change.
            const writable = rc as { document: DocumentNode; queryHash: string };
            await phases.operation({
              schema: rc.schema,
              document: rc.document,
              source: rc.source,
              operation,
              operationName: rc.operationName,
              variables: rc.request.variables ?? {},
              rewrite(document) {
                let id = rewriteIds.get(document);
                if (id === undefined) rewriteIds.set(document, (id = nextRewriteId++));
                writable.document = document;
                writable.queryHash = `${baseHash}:rewrite-${id}`;
              },
            });
          } catch (err) {
            throw toApolloError(err);
          }
        },
        async didEncounterErrors({ errors }) {
          for (const e of errors)
            if (isUnexpected({ message: e.message, extensions: e.extensions }))
              exchange.internal.push(e.originalError ?? e);
        },
        async willSendResponse({ operation, response }) {
          exchange.operationType = operation?.operation ?? null;
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult as ResponseView;
          await phases.result(result);
          // One code, one status: Apollo answers a few of its own request errors with another
          // status than the catalog's (PERSISTED_QUERY_NOT_SUPPORTED with 200, for its APQ protocol).
          const code = result.data === undefined ? result.errors?.[0]?.extensions?.['code'] : undefined;
          const status = isErrorCode(code) ? errorCodes[code].status : null;
          if (status !== null) response.http.status = status;
          exchange.result = result;
        },
      };
    },
  };
}

/**
 * What Apollo and @apollo/gateway would otherwise answer with a 500: an `operationName` that picks
 * no operation, a subscription (the planner has no subscription root), and variables that do not
 * coerce (the gateway checks them only at execution, after the plugins have read them raw).
 */
function refuseUnexecutable(rc: GraphQLRequestContextDidResolveOperation<ApolloContext>): OperationDefinitionNode {
  const { operation, request } = rc;
  if (!operation) throw operationResolutionFailure(rc.document, request.operationName);
  refuseSubscription(operation);
  if ((operation.variableDefinitions ?? []).length === 0) return operation;
  request.variables = coerceVariables(rc.schema, operation, request.variables ?? {});
  return operation;
}
