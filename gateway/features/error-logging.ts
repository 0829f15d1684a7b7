import type { Logger } from '../observability/log.ts';
import type { GatewayPlugin } from '../pipeline/plugin.ts';

/**
 * Logs, with the request id, each error the client got masked as INTERNAL_SERVER_ERROR: the client
 * sees nothing internal, the operator sees the cause (Yoga's mask-error split).
 */
export function errorLogging(log: Logger): GatewayPlugin {
  return {
    name: 'error-logging',
    onResponse({ internalErrors, requestId, operation }) {
      for (const cause of internalErrors) {
        log.error(
          { requestId, operationName: operation?.operationName ?? undefined, err: cause.stack ?? cause.message },
          'internal error (masked for the client)',
        );
      }
    },
  };
}
