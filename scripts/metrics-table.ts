import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../gateway/config/load.ts';
import { createLogger } from '../gateway/observability/log.ts';
import { Metrics } from '../gateway/observability/metrics.ts';
import { createPlugins } from '../gateway/pipeline/plugins.ts';

export interface MetricDoc {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly help: string;
}

/** Node's process metrics (prom-client's defaults) carry this prefix; they are prom-client's to document. */
export const PROCESS_PREFIX = 'tessera_process_';

/**
 * Every metric a gateway registers, read off a real prom-client registry: the gateway's own
 * (`new Metrics()`) and those its plugins register, built as a gateway builds them
 * (`createPlugins`) with every policy on, since a policy registers its metrics only when configured.
 */
export async function metricDefinitions(): Promise<MetricDoc[]> {
  const metrics = new Metrics();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-docs-'));
  try {
    writeFileSync(join(dir, 'jwks.json'), '{"keys":[]}');
    const config = parseConfig(
      {
        supergraph: { file: 'supergraph.graphql' },
        policies: {
          auth: { issuers: [{ issuer: 'https://docs.invalid/', jwksFile: 'jwks.json', audiences: ['docs'] }] },
          cost: {},
          rateLimit: { store: 'memory' },
        },
      },
      { baseDir: dir, env: {} },
    );
    const plugins = await createPlugins(config, {
      log: createLogger({ level: 'silent', name: 'docs' }),
      metrics,
      redis: null,
      baseDir: dir,
    });
    await Promise.all(plugins.map((p) => p.close?.()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const all = metrics.registry.getMetricsAsArray() as unknown as Array<{
    name: string;
    type: string;
    labelNames?: readonly string[];
    help: string;
  }>;
  return all
    .filter((m) => !m.name.startsWith(PROCESS_PREFIX))
    .map((m) => ({ name: m.name, type: String(m.type), labels: [...(m.labelNames ?? [])], help: m.help }));
}

const cell = (s: string) => s.replaceAll('|', '\\|');

/** docs/metrics.md's table, in registration order (the gateway's own first, then each policy's). */
export async function renderMetricsTable(): Promise<string> {
  const rows = (await metricDefinitions()).map(
    (m) => `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ')} | ${cell(m.help)} |`,
  );
  return ['| metric | type | labels | help |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
