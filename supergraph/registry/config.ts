import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { listenHost, readConfigFile, type ConfigSpec, type DeepReadonly } from '../../gateway/config/config-file.ts';
import { permissions, registryName } from './names.ts';

export { registryName };

export const registryConfigSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: listenHost.describe('Listen address.').default('0.0.0.0'),
        port: z.int().min(0).max(65535).describe('Listen port (0 picks a free one).').default(4100),
        bodyLimitBytes: z
          .int()
          .positive()
          .describe('Largest request body (a check may carry several subgraphs); beyond, 413 `PAYLOAD_TOO_LARGE`.')
          .default(5_242_880), // 5 MiB
      })
      .describe("The registry's HTTP API.")
      .prefault({}),
    storage: z
      .strictObject({
        sqlite: z
          .string()
          .min(1)
          .describe(
            'SQLite file (created with its directory), relative to the config file; its directory must be writable (checked at start-up).',
          ),
      })
      .describe('Where graphs, variants, versions and usage are kept.'),
    tokens: z
      .array(
        z.strictObject({
          name: z.string().min(1).describe('Who the token belongs to; shown as "who" in a variant\'s history.'),
          graph: z
            .union([z.string(), z.array(z.string()).min(1)])
            .refine(
              (g) => g === '*' || (Array.isArray(g) ? g : [g]).every((n) => registryName.test(n)),
              'a graph name (letters, digits, _ and -, at most 64), a list of them, or `*`',
            )
            .describe('The graph the token is for: a name, a list of names, or `*` for every graph.'),
          sha256: z
            .string()
            .regex(/^[0-9a-f]{64}$/, 'a 64-character lowercase hex SHA-256 digest')
            .describe(
              'SHA-256 hex digest of the token (`tessera registry hash-token <token>` prints it); the token itself is never stored.',
            ),
          permissions: z
            .array(z.enum(permissions))
            .min(1)
            .describe(
              'What the token may do on its graphs: `read` (gateways, fetch, usage reports), `check`, `publish`.',
            ),
        }),
      )
      .min(1)
      .superRefine((list, ctx) => {
        // Tokens are looked up by digest: a second entry with the same one would silently replace the first.
        const seen = new Map<string, number>();
        list.forEach((t, i) => {
          const first = seen.get(t.sha256);
          if (first !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'sha256'],
              message: `the same token as tokens.${first} ("${list[first]!.name}")`,
            });
          else seen.set(t.sha256, i);
        });
      })
      .describe(
        'Bearer tokens (`tessera registry token create` makes one and prints its entry). A digest listed twice is a config error.',
      ),
    limits: z
      .strictObject({
        maxSdlBytes: z
          .int()
          .positive()
          .describe(
            'Largest subgraph SDL a publish or check accepts (UTF-8 bytes). A publish body is read up to what such an SDL can take as JSON (2 × the limit + 64 KiB) and no further: 413 `PAYLOAD_TOO_LARGE` as soon as it is passed. At most `server.bodyLimitBytes`.',
          )
          .default(2_097_152), // 2 MiB
      })
      .describe('What one publish or check may bring.')
      .prefault({}),
    composition: z
      .strictObject({
        timeoutMs: z
          .int()
          .min(100)
          .describe(
            'A composition (publish or check) still running after this, from the moment a worker starts it, is stopped: 503 `COMPOSITION_TIMEOUT`, nothing changed.',
          )
          .default(30_000), // 30 s
        workers: z
          .int()
          .min(1)
          .max(32)
          .describe('Compositions running at once, each in its own worker process; more wait in line.')
          .default(2),
        maxHeapMb: z
          .int()
          .min(64)
          .describe(
            'Heap limit of each worker process (`--max-old-space-size`); beyond it 503 `COMPOSITION_OUT_OF_MEMORY`, nothing changed. A 2 MiB SDL composes in about 512 MB.',
          )
          .default(1_024),
        maxPending: z
          .int()
          .positive()
          .describe(
            'Publishes and checks waiting or composing at once; beyond, 503 `REGISTRY_BUSY` with `Retry-After`.',
          )
          .default(64),
      })
      .describe('Composition runs in worker processes, off the event loop that serves reads and `/health`.')
      .prefault({}),
    usage: z
      .strictObject({
        retentionDays: z
          .int()
          .positive()
          .describe('Field-usage reports older than this many days are deleted.')
          .default(90),
      })
      .describe('Field usage that gateways report, for usage-aware checks.')
      .prefault({}),
    log: z
      .strictObject({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .describe('Log level.')
          .default('info'),
      })
      .describe('Structured logs: JSON lines (pino) on stdout.')
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.limits.maxSdlBytes > c.server.bodyLimitBytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'maxSdlBytes'],
        message: `${c.limits.maxSdlBytes} is more than server.bodyLimitBytes (${c.server.bodyLimitBytes}): no request could carry such an SDL`,
      });
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
