import type { Redis } from 'ioredis';
import type { PolicyDeps, PolicyFunction } from '../../policies/policy.ts';
import { policyModules } from '../../policies/registry.ts';
import { RegistryClient } from '../../supergraph/registry/client.ts';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { errorLogging } from '../features/error-logging.ts';
import { persistedOperations } from '../features/persisted-operations/index.ts';
import { progressiveOverride } from '../features/progressive-override.ts';
import { requestMetrics } from '../features/request-metrics.ts';
import { tokenLimit } from '../features/token-limit.ts';
import { usageReporting } from '../features/usage-reporting.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { GatewayPlugin } from './plugin.ts';

/**
 * The one ordered list of plugins: the configured policies in the order of policies/registry.ts,
 * then Tessera's own features. Hooks of one phase run in this order:
 * - onParams: persisted operations (a documentId or hash becomes its query text, before the engine);
 * - onRequest: the policies' (who is calling, API keys), then the persisted-operations allow-list
 *   (it reads the identity), then the token limit: after them, so a
 *   caller refused for who they are is told that, as when the parser applied the limit;
 * - onOperation: the policies', then the progressive-override labels when configured (they read verified claims);
 * - onResponse: error logging, usage reporting, request metrics: they only read, and they see the
 *   answer after every policy's done-callback.
 */
export async function createPlugins(
  config: Config,
  deps: {
    log: Logger;
    metrics: Metrics;
    redis: Redis | null;
    baseDir: string;
    policyFunctions?: Record<string, PolicyFunction>;
  },
): Promise<GatewayPlugin[]> {
  const policyDeps: PolicyDeps = {
    log: deps.log,
    redis: deps.redis,
    baseDir: deps.baseDir,
    policyFunctions: deps.policyFunctions ?? {},
    metrics: deps.metrics.forPolicies(),
  };
  const plugins: GatewayPlugin[] = [];
  const section = config.policies as Record<string, unknown>;
  for (const mod of policyModules) {
    const c = section[mod.key];
    if (c === undefined) continue;
    try {
      plugins.push(await mod.create(c, policyDeps));
    } catch (err) {
      await Promise.allSettled(plugins.map((p) => p.close?.()));
      throw new ConfigError('config', [`policies.${mod.key}: ${(err as Error).message}`]);
    }
  }
  // After the policies: its onRequest (the allow-list) reads the identity auth has set.
  plugins.push(
    persistedOperations(config.persistedOperations, {
      log: deps.log,
      redis: deps.redis,
      registry: config.supergraph.registry ?? null,
    }),
  );
  plugins.push(tokenLimit(config.policies.operationLimits.maxTokens));
  // Without custom labels the engine draws the percentage itself (overrideOf): no hook per request.
  if (Object.keys(config.progressiveOverride.labels).length > 0)
    plugins.push(progressiveOverride(config.progressiveOverride, deps.metrics));
  plugins.push(errorLogging(deps.log));
  const registry = config.supergraph.registry;
  if (registry?.usageReporting) {
    const client = new RegistryClient({
      url: registry.url,
      graph: registry.graph,
      variant: registry.variant,
      token: registry.token,
      timeoutMs: registry.timeoutMs,
    });
    plugins.push(usageReporting(client, { flushIntervalMs: registry.usageFlushIntervalMs, log: deps.log }));
  }
  plugins.push(requestMetrics(deps.metrics, config));
  return plugins;
}
