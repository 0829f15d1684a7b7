import {
  getNamedType,
  getVariableValues,
  isInputObjectType,
  typeFromAST,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { tesseraError, type TesseraError } from '../errors/tessera-error.ts';

/**
 * What every engine refuses between choosing an operation and planning it, with the same codes
 * and messages whichever engine runs (engine/apollo/bridge-plugin.ts, engine/tessera/).
 */

/**
 * Deeper values for input-object variables are refused before coercion. Only a recursive input
 * type accepts a value this deep, and every later step (coercion, plugins, the subgraph request's
 * JSON) walks it recursively.
 */
export const MAX_VARIABLE_DEPTH = 128;

/** `operationName` picked no operation of `document` (graphql-js `getOperationAST` gave null). */
export function operationResolutionFailure(document: DocumentNode, operationName: unknown): TesseraError {
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition').length;
  const message =
    typeof operationName === 'string'
      ? `Unknown operation named "${operationName.length > 64 ? `${operationName.slice(0, 64)}…` : operationName}".`
      : operations > 1
        ? 'Must provide operation name if query contains multiple operations.'
        : 'The document has no operation to execute.';
  return tesseraError('OPERATION_RESOLUTION_FAILURE', message);
}

/** The gateway plans queries and mutations only: a subscription has no root in the supergraph's plans. */
export function refuseSubscription(operation: OperationDefinitionNode): void {
  if (operation.operation === 'subscription') {
    throw tesseraError(
      'SUBSCRIPTIONS_NOT_SUPPORTED',
      'Subscriptions are not supported by this gateway; send a query or a mutation.',
      { nodes: operation },
    );
  }
}

/**
 * The variables as the operation declares them (defaults applied, single values wrapped in
 * lists), or BAD_USER_INPUT with graphql-js's message for the first that does not coerce. The
 * plugins, the planner and the subgraph requests all see these values, never the raw JSON.
 */
export function coerceVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  raw: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.length === 0) return {};
  for (const def of definitions) {
    // graphql-js coerces input objects recursively, so a deep value for a recursive input type
    // would overflow the stack; for scalars, enums and lists of them it fails at the first level.
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type);
    if (type && isInputObjectType(getNamedType(type)) && deeperThan(raw[name], MAX_VARIABLE_DEPTH)) {
      throw tesseraError(
        'BAD_USER_INPUT',
        `Variable "$${name}" is nested more than ${MAX_VARIABLE_DEPTH} levels deep.`,
        { nodes: def },
      );
    }
  }
  const coerced = getVariableValues(schema, definitions, raw, { maxErrors: 1 });
  if (coerced.errors) {
    // Only one error is answered: the one a client must fix first.
    const first = coerced.errors[0]!;
    throw tesseraError('BAD_USER_INPUT', first.message, { nodes: first.nodes });
  }
  return coerced.coerced;
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
