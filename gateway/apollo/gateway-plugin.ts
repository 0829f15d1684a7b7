import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context.ts';
import { isUnexpected } from '../errors/mask.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';

/**
 * Tessera's one Apollo plugin for its own concerns: it counts every GraphQL request by operation
 * type and outcome, and logs (with the request id) each error that formatError masks.
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
        },
      };
    },
  };
}
