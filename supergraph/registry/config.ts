import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { readConfigFile, type ConfigSpec, type DeepReadonly } from '../../gateway/config/config-file.ts';
import { permissions, registryName } from './names.ts';

export { registryName };


export const registryConfigSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'an IP address or a host name' }).default('0.0.0.0'),
        port: z.int().min(0).max(65535).default(4100),
        /** Largest accepted request body (a check may carry several subgraphs). */
        bodyLimitBytes: z.int().positive().default(5_242_880), // 5 MiB
      })
      .prefault({}),
    /** SQLite file (created with its directory); relative to the config file. */
    storage: z.strictObject({ sqlite: z.string().min(1) }),
    /** Bearer tokens, stored as SHA-256 hex digests (`tessera registry hash-token <token>` prints one). */
    tokens: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          /** A graph name, a list of them, or `*` for every graph. */
          graph: z
            .union([z.string(), z.array(z.string()).min(1)])
            .refine((g) => g === '*' || (Array.isArray(g) ? g : [g]).every((n) => registryName.test(n)), 'a graph name (letters, digits, _ and -, at most 64), a list of them, or `*`'),
          sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a 64-character lowercase hex SHA-256 digest'),
          permissions: z.array(z.enum(permissions)).min(1),
        }),
      )
      .min(1)
      .superRefine((list, ctx) => {
        // Tokens are looked up by digest: a second entry with the same one would silently replace the first.
        const seen = new Map<string, number>();
        list.forEach((t, i) => {
          const first = seen.get(t.sha256);
          if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'sha256'], message: `the same token as tokens.${first} ("${list[first]!.name}")` });
          else seen.set(t.sha256, i);
        });
      }),
    limits: z
      .strictObject({
        /** Largest subgraph SDL a publish or a check accepts (413 beyond, checked while the body is read). */
        maxSdlBytes: z.int().positive().default(2_097_152), // 2 MiB
      })
      .prefault({}),
    /** Composition runs in worker threads, off the event loop that serves reads and /health. */
    composition: z
      .strictObject({
        /** A composition (publish or check) still running after this is stopped: 503 COMPOSITION_TIMEOUT, nothing changes. */
        timeoutMs: z.int().min(100).default(30_000), // 30 s
        /** Compositions running at once; more wait in line. */
        workers: z.int().min(1).max(32).default(2),
        /** Heap of each composition worker; beyond it the composition fails with COMPOSITION_OUT_OF_MEMORY. */
        maxHeapMb: z.int().min(64).default(1_024),
        /** Publishes and checks waiting or composing at once; beyond, 503 REGISTRY_BUSY. */
        maxPending: z.int().positive().default(64),
      })
      .prefault({}),
    /** Field-usage reports older than this are deleted. */
    usage: z.strictObject({ retentionDays: z.int().positive().default(90) }).prefault({}),
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.limits.maxSdlBytes > c.server.bodyLimitBytes) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'maxSdlBytes'], message: `${c.limits.maxSdlBytes} is more than server.bodyLimitBytes (${c.server.bodyLimitBytes}): no request could carry such an SDL` });
    }
  });

export type RegistryConfig = DeepReadonly<z.output<typeof registryConfigSchema>>;

/** `registry.yaml`: the schema, and the database file it names (made absolute, checked writable). */
export const registryConfigSpec: ConfigSpec<typeof registryConfigSchema> = {
  schema: registryConfigSchema,
  resolveFiles(config, baseDir) {
    if (config.storage.sqlite === ':memory:') return [];
    if (!isAbsolute(config.storage.sqlite)) config.storage.sqlite = resolve(baseDir, config.storage.sqlite);
    const problem = unwritable(config.storage.sqlite);
    return problem ? [`storage.sqlite: ${problem}`] : [];
  },
};

/** Reads and validates a registry config; problems name their key. */
export function loadRegistryConfig(file: string): RegistryConfig {
  return readConfigFile(file, registryConfigSpec, {});
}

/** Why the database file could not be created or written, checked before anything starts. */
function unwritable(file: string): string | null {
  let dir = existsSync(file) ? file : dirname(file);
  // The store creates missing directories: the nearest existing ancestor must let it.
  while (!existsSync(dir)) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return null;
  } catch (err) {
    return `${dir} is not writable (${(err as NodeJS.ErrnoException).code})`;
  }
}
