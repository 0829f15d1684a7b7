import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PolicyFunction } from '../policies/policy.ts';
import { unknownSubgraphNames } from './config/resolve-subgraphs.ts';
import type { Config } from './config/schema.ts';
import { createApolloEngine } from './engine/apollo/apollo-engine.ts';
import type { Engine } from './engine/engine.ts';
import { createMetricsServer } from './http/metrics-server.ts';
import { createHttpServer } from './http/server.ts';
import { drainConnections } from './lifecycle/drain.ts';
import { Lifecycle } from './lifecycle/state.ts';
import { createLogger, type Logger } from './observability/log.ts';
import { Metrics } from './observability/metrics.ts';
import { Tracing } from './observability/tracing.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import type { GatewayPlugin } from './pipeline/plugin.ts';
import { createPlugins } from './pipeline/plugins.ts';
import { PipelineRunner } from './pipeline/runner.ts';
import { closeRedis, createRedis } from './redis/client.ts';
import { FileSupergraphSource, type ReloadOutcome } from './schema-source/file-source.ts';
import { Generations } from './schema-source/generations.ts';
import { RegistrySupergraphSource } from './schema-source/registry-source.ts';
import { SubgraphClients } from './subgraph-client/clients.ts';
import { stitchedSourcesOf } from './stitched-sources/descriptor.ts';

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly lifecycle: Lifecycle;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Where Prometheus text is served (its own listener), or null with `metrics.enabled: false`. */
  readonly metricsUrl: string | null;
  /** Re-reads the supergraph file (what SIGHUP does). */
  reload(): Promise<ReloadOutcome>;
  /** Readiness 503 → stop accepting → drain in-flight (bounded) → close. Idempotent. */
  shutdown(): Promise<void>;
}

export class SupergraphLoadError extends Error {
  readonly code = 'SUPERGRAPH_INVALID';
}

/** A listener could not open (port in use, address not available); the message names the key. */
export class ListenError extends Error {}

/** `@join__graph(name: "products", url: "http://…")` entries of a supergraph SDL. */
export function subgraphsOf(supergraphSdl: string): Array<{ name: string; url: string }> {
  return [...supergraphSdl.matchAll(/@join__graph\(name:\s*"([^"]+)",\s*url:\s*"([^"]*)"\)/g)].map((m) => ({
    name: m[1]!,
    url: m[2]!,
  }));
}

export interface GatewayOptions {
  log?: Logger;
  /** Directory relative policy paths resolve against (the config file's); default: cwd. */
  baseDir?: string;
  /** `@policy` functions registered in code, by name. */
  policyFunctions?: Record<string, PolicyFunction>;
}

export async function createGateway(config: Config, opts: GatewayOptions = {}): Promise<RunningGateway> {
  const log = opts.log ?? createLogger({ level: config.log.level, name: 'tessera-gateway' });
  const lifecycle = new Lifecycle();
  const metrics = new Metrics(config.metrics.labels);
  const redis = config.redis ? createRedis(config.redis, log) : null;
  let plugins: GatewayPlugin[];
  try {
    plugins = await createPlugins(config, {
      log,
      metrics,
      redis,
      baseDir: opts.baseDir ?? process.cwd(),
      policyFunctions: opts.policyFunctions,
    });
  } catch (err) {
    if (redis) await closeRedis(redis);
    throw err;
  }
  const runner = new PipelineRunner(plugins, metrics.policyDuration);
  // The plugins' wrapSubgraphFetch, as layers of every subgraph client (subgraph-client/client.ts).
  // Off: no tracer provider, no tracing layers; the HTTP front checks one null per request.
  const tracing = config.telemetry.tracing.enabled ? new Tracing(config.telemetry, log) : null;
  const clients = new SubgraphClients(config, { log, metrics, wrap: runner.fetchLayers(), tracing: tracing !== null });
  const registry = config.supergraph.registry;
  const source = registry
    ? new RegistrySupergraphSource(registry, {
        log,
        onReload: (o) => {
          metrics.supergraphGeneration.set(o.generation);
          if (o.version !== null) metrics.supergraphVersion.set(o.version);
        },
      })
    : new FileSupergraphSource(config.supergraph.file!, {
        watch: config.supergraph.watch,
        debounceMs: config.supergraph.watchDebounceMs,
        log,
        onReload: (o) => metrics.supergraphGeneration.set(o.generation),
      });
  const supergraphName = registry ? `${registry.url} ${registry.graph}@${registry.variant}` : config.supergraph.file!;
  const generations = new Generations({ drainTimeoutMs: config.supergraph.reloadDrainTimeoutMs, log, metrics });
  const engine: Engine = createApolloEngine({
    source,
    subgraphs: ({ name, url }) => clients.live(name, url),
    enterGeneration: () => generations.enter(),
    onGeneration: ({ apiSchema, supergraphSdl }) => {
      clients.shapes.set(apiSchema, supergraphSdl);
      const subgraphs = subgraphsOf(supergraphSdl);
      const unknown = unknownSubgraphNames(
        config,
        subgraphs.map((s) => s.name),
      );
      if (unknown.length)
        log.warn(
          { keys: unknown.map((n) => `subgraphs.${n}`) },
          'config names subgraphs that are not in the supergraph',
        );
      // The new generation references its clients before the old one can release them, so a
      // subgraph whose URL and settings are unchanged keeps its client (and pool) across the reload.
      // Plain GraphQL services (supergraph.yaml `kind: graphql`) carry their descriptor in the supergraph.
      const stitched = stitchedSourcesOf(supergraphSdl);
      const lease = clients.lease(
        subgraphs.map((s) => (stitched.has(s.name) ? { ...s, stitched: stitched.get(s.name)! } : s)),
      );
      generations.activate(() => lease.release());
      void pipeline.schemaLoaded({ apiSchema, supergraphSdl });
    },
    log,
    csrfPrevention: config.server.csrfPrevention,
    introspection: config.server.introspection,
  });
  const pipeline = new Pipeline(runner, () => engine, {
    log,
    maxExpandedFields: config.policies.operationLimits.maxExpandedFields,
  });

  try {
    await engine.start();
  } catch (err) {
    await clients.closeAll();
    await runner.close();
    await tracing?.shutdown().catch(() => undefined);
    if (redis) await closeRedis(redis);
    throw new SupergraphLoadError(
      `SUPERGRAPH_INVALID: cannot load ${supergraphName}: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 2000)}`,
    );
  }
  try {
    // The first generation's onSchema hooks (authorization rules, cost weights) finish before the port opens.
    await pipeline.ready();
  } catch (err) {
    await engine.stop();
    await clients.closeAll();
    await runner.close();
    await tracing?.shutdown().catch(() => undefined);
    if (redis) await closeRedis(redis);
    throw new SupergraphLoadError(
      `SUPERGRAPH_INVALID: cannot load ${supergraphName}: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 2000)}`,
    );
  }

  metrics.supergraphGeneration.set(source.generation);
  const registryVersion = () =>
    source instanceof RegistrySupergraphSource ? { supergraphVersion: source.version } : {};
  if (source instanceof RegistrySupergraphSource && source.version !== null)
    metrics.supergraphVersion.set(source.version);
  const { server, connections } = createHttpServer({
    config,
    pipeline,
    lifecycle,
    log,
    metrics,
    readyInfo: () => ({ supergraphGeneration: source.generation, ...registryVersion() }),
    tracing,
  });
  const metricsServer = config.metrics.enabled ? createMetricsServer(metrics, log) : null;
  let port: number;
  let metricsUrl: string | null = null;
  try {
    if (metricsServer)
      metricsUrl = `http://${hostForUrl(config.metrics.host)}:${await listen(metricsServer, config.metrics.port, config.metrics.host, 'metrics')}/metrics`;
    port = await listen(server, config.server.port, config.server.host, 'server');
  } catch (err) {
    metricsServer?.close();
    await engine.stop();
    await clients.closeAll();
    await runner.close();
    await tracing?.shutdown().catch(() => undefined);
    if (redis) await closeRedis(redis);
    throw err;
  }
  const url = `${config.server.tls ? 'https' : 'http'}://${hostForUrl(config.server.host)}:${port}/graphql`;
  lifecycle.phase = 'serving';
  if (metricsUrl) log.info({ url: metricsUrl }, 'metrics listening');
  log.info(
    {
      url,
      metricsUrl,
      supergraph: supergraphName,
      ...registryVersion(),
      generation: source.generation,
      plugins: runner.names,
    },
    'gateway listening',
  );

  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      const { readinessDelayMs, drainTimeoutMs } = config.server.shutdown;
      // From here on every response is written with `Connection: close` (http/server.ts checks
      // the phase when it writes headers), so no client reuses a socket that is about to close.
      lifecycle.phase = 'draining';
      log.info(
        { readinessDelayMs, drainTimeoutMs, inFlight: lifecycle.inFlightRequests },
        'shutting down: readiness is now 503',
      );
      if (readinessDelayMs > 0) await new Promise((r) => setTimeout(r, readinessDelayMs));
      lifecycle.phase = 'closing';
      const drained = await drainConnections(server, connections, lifecycle, drainTimeoutMs);
      if (!drained)
        log.warn({ inFlight: lifecycle.inFlightRequests }, 'drain timeout reached; closing remaining connections');
      await engine.stop();
      generations.stop();
      await clients.closeAll({ force: !drained });
      // The plugins close last: usage reporting flushes what the last requests recorded.
      await runner.close();
      if (redis) await closeRedis(redis);
      // The last requests' spans are exported before the process may exit.
      await tracing?.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'tracing: final export failed'));
      // Last, so the drain itself can be watched.
      if (metricsServer) await closeServer(metricsServer);
      lifecycle.phase = 'stopped';
      log.info('gateway stopped');
    })());

  return { url, port, lifecycle, log, metrics, metricsUrl, reload: () => source.reload('SIGHUP'), shutdown };
}

function hostForUrl(host: string): string {
  const h = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return h.includes(':') ? `[${h}]` : h;
}

function listen(server: Server, port: number, host: string, key: 'server' | 'metrics'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ListenError(
          `cannot listen on ${host}:${port} (\`${key}.host\`/\`${key}.port\`): ${err.code ?? err.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
