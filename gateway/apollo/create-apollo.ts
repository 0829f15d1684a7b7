import { ApolloGateway, type SupergraphManager } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { Config } from '../config/schema.ts';
import type { GatewayContext } from '../context.ts';
import { formatError } from '../errors/mask.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { policyPlugin } from '../policy-runner/apollo-plugin.ts';
import type { PolicyRunner } from '../policy-runner/runner.ts';
import type { Generations } from '../schema-source/generations.ts';
import type { SubgraphClients } from '../subgraph-client/clients.ts';
import { gatewayPlugin } from './gateway-plugin.ts';

export function createApollo(opts: { config: Config; log: Logger; metrics: Metrics; source: SupergraphManager; clients: SubgraphClients; generations: Generations; policies: PolicyRunner; extraPlugins?: ApolloServerPlugin<GatewayContext>[] }): { apollo: ApolloServer<GatewayContext>; gateway: ApolloGateway } {
  const { config, log } = opts;
  const gateway = new ApolloGateway({
    supergraphSdl: opts.source,
    buildService: (def) => opts.clients.dataSource(def.name, def.url ?? ''),
    // Validate every supergraph we load, whatever NODE_ENV says: a reload must never half-apply.
    validateSupergraph: true,
    serviceHealthCheck: false,
    logger: log,
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway: countingRequests(gateway, opts.generations),
    logger: log,
    csrfPrevention: config.server.csrfPrevention,
    introspection: config.server.introspection,
    // The token limit is applied by the parser, so a huge document is never parsed to the end.
    parseOptions: { maxTokens: config.policies.operationLimits.maxTokens },
    includeStacktraceInErrorResponses: false,
    persistedQueries: false,
    // Tessera owns SIGTERM handling (drain first, then stop).
    stopOnTerminationSignals: false,
    formatError,
    plugins: [
      // Tessera sets no HTTP cache headers, so Apollo need not compute a cache policy per request.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      gatewayPlugin(log, opts.metrics),
      policyPlugin(opts.policies, { maxExpandedFields: config.policies.operationLimits.maxExpandedFields }),
      ...(opts.extraPlugins ?? []),
    ],
  });
  return { apollo, gateway };
}

/**
 * The gateway as Apollo Server sees it, with each execution counted against the supergraph
 * generation current when it starts. Everything that touches subgraph clients (planning, the
 * captured data sources, every fetch) happens inside the executor, and try/finally ends the
 * count on every path, so a superseded generation's clients close only after its last fetch.
 */
function countingRequests(gateway: ApolloGateway, generations: Generations): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    load: async (options) => {
      const { executor } = await gateway.load(options);
      return {
        executor: async (requestContext) => {
          const done = generations.enter();
          try {
            return await executor(requestContext);
          } finally {
            done();
          }
        },
      };
    },
  };
}
