import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { GraphQLError } from 'graphql';
import { isUnexpected } from '../../errors/mask.ts';
import { TesseraError } from '../../errors/tessera-error.ts';
import type { ResponseView } from '../../pipeline/plugin.ts';
import type { Engine, EngineFactory, EngineOptions, EngineResponse } from '../engine.ts';
import { bridgePlugin } from './bridge-plugin.ts';
import type { ApolloContext, Exchange } from './context.ts';
import { apolloDataSource } from './data-source.ts';
import { formatError, toApolloError } from './errors.ts';
import { ApolloProgressiveOverride } from './progressive-override.ts';
import { supergraphForPlanner } from './security-features.ts';

/**
 * The engine as @apollo/gateway (query planning and execution) inside @apollo/server (the
 * GraphQL-over-HTTP protocol, document cache, validation). Tessera's pipeline is entered from one
 * place each: the context function (phases.request) and the bridge plugin (phases.operation,
 * phases.result).
 */
export const createApolloEngine: EngineFactory = (options: EngineOptions): Engine => {
  const plansSeen = new WeakSet<object>();
  const gateway = new ApolloGateway({
    supergraphSdl: {
      // Every SDL the source serves, the first and each update, reaches the planner adapted.
      initialize: async ({ update }) => {
        const first = await options.source.initialize({ update: (sdl) => update(supergraphForPlanner(sdl)) });
        return { ...first, supergraphSdl: supergraphForPlanner(first.supergraphSdl) };
      },
    },
    buildService: (def) => apolloDataSource(options.subgraphs({ name: def.name, url: def.url ?? '' })),
    // Validate every supergraph we load, whatever NODE_ENV says: a reload must never half-apply.
    validateSupergraph: true,
    serviceHealthCheck: false,
    logger: options.log,
    // Between planning and execution: where a traced request's plan span ends and its execute span opens.
    experimental_didResolveQueryPlan: ({ queryPlan, requestContext }) => {
      const { phases, exchange } = requestContext.context as Partial<ApolloContext>;
      const step = exchange?.step;
      if (!phases?.trace || !step) return;
      // The plan store hands back the object it holds: a plan object seen before came from the cache.
      step.plan?.setAttribute('tessera.plan.cache', plansSeen.has(queryPlan) ? 'hit' : 'miss');
      plansSeen.add(queryPlan);
      step.plan?.end();
      step.plan = null;
      step.execute = phases.trace.span('graphql.execute');
    },
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) =>
    options.onGeneration({ apiSchema, supergraphSdl: coreSupergraphSdl }),
  );
  const apollo = new ApolloServer<ApolloContext>({
    gateway: countingRequests(gateway, options.enterGeneration),
    logger: options.log,
    csrfPrevention: options.csrfPrevention,
    introspection: options.introspection,
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
      bridgePlugin(),
    ],
  });

  return {
    start: () => apollo.start(),
    stop: () => apollo.stop(),
    async execute(request, phases): Promise<EngineResponse> {
      const exchange: Exchange = { result: null, operationType: null, internal: [] };
      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: request.method, headers, search: request.search, body: request.body },
        // Apollo has checked CSRF by now; a GraphQLError thrown here is sent as-is with the
        // status on its `extensions.http` (Apollo trusts that "the message was chosen thoughtfully").
        context: async () => {
          try {
            await phases.request();
          } catch (err) {
            if (
              !(err instanceof TesseraError) &&
              (!(err instanceof GraphQLError) || isUnexpected({ message: err.message, extensions: err.extensions }))
            ) {
              exchange.internal.push(err instanceof Error ? err : new Error(String(err)));
            }
            throw toApolloError(err);
          }
          return { tessera: phases.context, phases, exchange };
        },
      });
      const complete = response.body.kind === 'complete' ? response.body.string : null;
      // Refused before any plugin hook ran (CSRF, the context function, a malformed request): the
      // small error body is all there is to read.
      if (exchange.result === null && complete !== null) exchange.result = parseResult(complete);
      return {
        status: response.status ?? 200,
        headers: [...response.headers],
        body:
          complete !== null
            ? { kind: 'complete', string: complete }
            : { kind: 'chunked', chunks: (response.body as { asyncIterator: AsyncIterable<string> }).asyncIterator },
        result: exchange.result,
        operationType: exchange.operationType,
        internalErrors: exchange.internal,
      };
    },
  };
};

/**
 * The gateway as Apollo Server sees it, with each execution counted against the supergraph
 * generation current when it starts. Everything that touches subgraph clients (planning, the
 * captured data sources, every fetch) happens inside the executor, and try/finally ends the
 * count on every path, so a superseded generation's clients close only after its last fetch.
 * Progressive-override labels reach the planner from here too (progressive-override.ts).
 */
function countingRequests(gateway: ApolloGateway, enter: () => () => void): GatewayInterface {
  const override = new ApolloProgressiveOverride();
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    load: async (options) => {
      const { executor } = await gateway.load(options);
      return {
        executor: async (requestContext) => {
          const done = enter();
          // A traced request: planning starts here (the gateway's own checks, the plan store, the
          // planner); experimental_didResolveQueryPlan ends it and opens the execute span.
          const { phases, exchange, tessera } = requestContext.context as Partial<ApolloContext>;
          const step: NonNullable<Exchange['step']> | null =
            phases?.trace && exchange
              ? (exchange.step = { plan: phases.trace.span('graphql.plan'), execute: null })
              : null;
          let error: unknown;
          try {
            return await override.around(gateway, requestContext, tessera, () => executor(requestContext));
          } catch (err) {
            error = err;
            throw err;
          } finally {
            done();
            step?.plan?.end(error);
            step?.execute?.end(error);
          }
        },
      };
    },
  };
}

function parseResult(text: string): ResponseView | null {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ResponseView) : null;
  } catch {
    return null;
  }
}
