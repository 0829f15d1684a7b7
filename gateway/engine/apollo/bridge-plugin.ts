import type {
  ApolloServerPlugin,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestListener,
} from '@apollo/server';
import {
  getNamedType,
  getVariableValues,
  isInputObjectType,
  typeFromAST,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import { errorCodes, isErrorCode } from '../../errors/codes.ts';
import { isUnexpected } from '../../errors/mask.ts';
import { tesseraError } from '../../errors/tessera-error.ts';
import type { ResponseView } from '../../pipeline/plugin.ts';
import type { ApolloContext } from './context.ts';
import { toApolloError } from './errors.ts';

/**
 * Deeper values for input-object variables are refused before coercion. Only a recursive input
 * type accepts a value this deep, and every later step (coercion, plugins, the subgraph request's
 * JSON) walks it recursively.
 */
export const MAX_VARIABLE_DEPTH = 128;

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
  if (!operation) {
    const name = request.operationName;
    const operations = rc.document.definitions.filter((d) => d.kind === 'OperationDefinition').length;
    const message =
      typeof name === 'string'
        ? `Unknown operation named "${name.length > 64 ? `${name.slice(0, 64)}…` : name}".`
        : operations > 1
          ? 'Must provide operation name if query contains multiple operations.'
          : 'The document has no operation to execute.';
    throw tesseraError('OPERATION_RESOLUTION_FAILURE', message);
  }
  if (operation.operation === 'subscription') {
    throw tesseraError(
      'SUBSCRIPTIONS_NOT_SUPPORTED',
      'Subscriptions are not supported by this gateway; send a query or a mutation.',
      { nodes: operation },
    );
  }
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.length === 0) return operation;
  const raw = request.variables ?? {};
  for (const def of definitions) {
    // graphql-js coerces input objects recursively, so a deep value for a recursive input type
    // would overflow the stack; for scalars, enums and lists of them it fails at the first level.
    const name = def.variable.name.value;
    const type = typeFromAST(rc.schema, def.type);
    if (type && isInputObjectType(getNamedType(type)) && deeperThan(raw[name], MAX_VARIABLE_DEPTH)) {
      throw tesseraError(
        'BAD_USER_INPUT',
        `Variable "$${name}" is nested more than ${MAX_VARIABLE_DEPTH} levels deep.`,
        { nodes: def },
      );
    }
  }
  const coerced = getVariableValues(rc.schema, definitions, raw, { maxErrors: 1 });
  if (coerced.errors) {
    // Only one error travels from this hook; it is the one a client must fix first.
    const first = coerced.errors[0]!;
    throw tesseraError('BAD_USER_INPUT', first.message, { nodes: first.nodes });
  }
  // The plugins, the planner and the subgraph requests all see the values the operation declared
  // (defaults applied, single values wrapped in lists), never the raw JSON.
  request.variables = coerced.coerced;
  return operation;
}

/** Iterative, so the check itself cannot overflow the stack. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
