import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const registryConfigSchema = z.strictObject({
  server: z.strictObject({ host: z.string().default('0.0.0.0'), port: z.int().min(0).max(65535).default(4100), bodyLimitBytes: z.int().positive().default(5_242_880) }).prefault({}),
  /** SQLite file (created with its directory); relative to the config file. */
  storage: z.strictObject({ sqlite: z.string().min(1) }),
  /** Bearer tokens, stored as SHA-256 hex digests (`tessera registry hash-token <token>` prints one). */
  tokens: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        /** A graph name, or `*` for every graph. */
        graph: z.string().min(1),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a 64-character lowercase hex SHA-256 digest'),
        permissions: z.array(z.enum(['read', 'check', 'publish'])).min(1),
      }),
    )
    .min(1),
  /** Field-usage reports older than this are deleted. */
  usage: z.strictObject({ retentionDays: z.int().positive().default(90) }).prefault({}),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
});

export type RegistryConfig = z.output<typeof registryConfigSchema>;

/** Reads and validates a registry config; problems name their key. */
export function loadRegistryConfig(file: string): RegistryConfig {
  const raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  const r = registryConfigSchema.safeParse(raw);
  if (!r.success) throw new Error(`CONFIG_INVALID: ${file}\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  const config = r.data;
  if (config.storage.sqlite !== ':memory:' && !isAbsolute(config.storage.sqlite)) config.storage.sqlite = resolve(dirname(resolve(file)), config.storage.sqlite);
  return config;
}
