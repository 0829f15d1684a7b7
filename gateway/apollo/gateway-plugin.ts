import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { getNamedType, getVariableValues, isInputObjectType, typeFromAST } from 'graphql';
import type { GatewayContext } from '../context.ts';
import { errorCodes, isErrorCode } from '../errors/codes.ts';
import { isUnexpected } from '../errors/mask.ts';
import { tesseraError } from '../errors/tessera-error.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';

/**
 * Deeper values for input-object variables are refused before coercion. Only a recursive input
 * type accepts a value this deep, and every later step (coercion, policies, the subgraph request's
 * JSON) walks it recursively.
 */
export const MAX_VARIABLE_DEPTH = 128;

/**
 * Tessera's one Apollo plugin for its own concerns: it refuses what the gateway cannot execute
 * before any policy sees it, counts every GraphQL request by operation type and outcome, and logs
 * (with the request id) each error that formatError masks.
 */
export function gatewayPlugin(log: Logger, metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  const counters = new Map<string, { inc(): void }>();
  const count = (operationType: string, outcome: string) => {
    const key = `${operationType} ${outcome}`;
    let c = counters.get(key);
    if (!c) counters.set(key, (c = metrics.requests.labels({ operation_type: operationType, outcome })));
    c.inc();
  };
  return {
    async requestDidStart() {
      return {
        // Not async on purpose: Apollo calls every plugin's didResolveOperation in one map() and
        // awaits them together. A synchronous throw here (this plugin is registered before the
        // policy plugin) stops that map, so no policy ever runs on an operation the gateway cannot
        // execute, and the policies read variables that are already coerced.
        didResolveOperation(rc) {
          refuseUnexecutable(rc);
          return Promise.resolve();
        },
        async didEncounterErrors({ errors, contextValue, request }) {
          for (const e of errors) {
            if (!isUnexpected({ message: e.message, extensions: e.extensions })) continue;
            const cause = e.originalError ?? e;
            log.error({ requestId: contextValue.requestId, operationName: request.operationName, err: cause.stack ?? cause.message }, 'internal error (masked for the client)');
          }
        },
        async willSendResponse({ operation, response }) {
          const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const outcome = !result?.errors?.length ? 'success' : result.data ? 'partial' : 'error';
          count(operation?.operation ?? 'none', outcome);
          // One code, one status: Apollo answers a few of its own request errors with another
          // status than the catalog's (PERSISTED_QUERY_NOT_SUPPORTED with 200, for its APQ protocol).
          const code = result && result.data === undefined ? result.errors?.[0]?.extensions?.['code'] : undefined;
          const status = isErrorCode(code) ? errorCodes[code].status : null;
          if (status !== null) response.http.status = status;
        },
      };
    },
  };
}

/**
 * What Apollo and @apollo/gateway would otherwise answer with a 500: an `operationName` that picks
 * no operation, a subscription (the planner has no subscription root), and variables that do not
 * coerce (the gateway checks them only at execution, after the policies have read them raw).
 */
function refuseUnexecutable(rc: GraphQLRequestContextDidResolveOperation<GatewayContext>): void {
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
    throw tesseraError('SUBSCRIPTIONS_NOT_SUPPORTED', 'Subscriptions are not supported by this gateway; send a query or a mutation.', { nodes: operation });
  }
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.length === 0) return;
  const raw = request.variables ?? {};
  for (const def of definitions) {
    // graphql-js coerces input objects recursively, so a deep value for a recursive input type
    // would overflow the stack; for scalars, enums and lists of them it fails at the first level.
    const name = def.variable.name.value;
    const type = typeFromAST(rc.schema, def.type);
    if (type && isInputObjectType(getNamedType(type)) && deeperThan(raw[name], MAX_VARIABLE_DEPTH)) {
      throw tesseraError('BAD_USER_INPUT', `Variable "$${name}" is nested more than ${MAX_VARIABLE_DEPTH} levels deep.`, { nodes: def });
    }
  }
  const coerced = getVariableValues(rc.schema, definitions, raw, { maxErrors: 1 });
  if (coerced.errors) {
    // Only one error travels from this hook; it is the one a client must fix first.
    const first = coerced.errors[0]!;
    throw tesseraError('BAD_USER_INPUT', first.message, { nodes: first.nodes });
  }
  // Policies, the planner and the subgraph requests all see the values the operation declared
  // (defaults applied, single values wrapped in lists), never the raw JSON.
  request.variables = coerced.coerced;
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
