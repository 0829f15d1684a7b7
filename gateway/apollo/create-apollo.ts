import { ApolloGateway, type SupergraphManager } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { Config } from '../config/schema.ts';
import type { GatewayContext } from '../context.ts';
import { formatError, isUnexpected } from '../errors/mask.ts';
import type { Logger } from '../observability/log.ts';
import type { SubgraphClients } from '../subgraph-client/clients.ts';

/** Logs, with the request id, every error that formatError masks for the client. */
function errorLogPlugin(log: Logger): ApolloServerPlugin<GatewayContext> {
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
      };
    },
  };
}

export function createApollo(opts: { config: Config; log: Logger; source: SupergraphManager; clients: SubgraphClients }): { apollo: ApolloServer<GatewayContext>; gateway: ApolloGateway } {
  const { config, log } = opts;
  const gateway = new ApolloGateway({
    supergraphSdl: opts.source,
    buildService: (def) => opts.clients.get(def.name, def.url ?? ''),
    // Validate every supergraph we load, whatever NODE_ENV says: a reload must never half-apply.
    validateSupergraph: true,
    serviceHealthCheck: false,
    logger: log,
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: log,
    csrfPrevention: config.server.csrfPrevention,
    introspection: config.server.introspection,
    includeStacktraceInErrorResponses: false,
    persistedQueries: false,
    // Tessera owns SIGTERM handling (drain first, then stop).
    stopOnTerminationSignals: false,
    formatError,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      errorLogPlugin(log),
    ],
  });
  return { apollo, gateway };
}
