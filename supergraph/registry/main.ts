import type { AddressInfo } from 'node:net';
import { ConfigError, indent } from '../../gateway/config/config-file.ts';
import { createLogger } from '../../gateway/observability/log.ts';
import { CompositionPool } from '../composition-pool.ts';
import { loadRegistryConfig } from './config.ts';
import { createRegistryServer } from './server.ts';
import { RegistryService } from './service.ts';
import { SqliteStore } from './sqlite-store.ts';

/** `tessera registry --config registry.yaml`: serve the schema registry until SIGTERM/SIGINT. */
export async function runRegistry(configFile: string): Promise<number> {
  let config;
  try {
    config = loadRegistryConfig(configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The registry's first line names the file only (no count): its documented, tested output.
    process.stderr.write(`CONFIG_INVALID: ${err.source}\n${indent(err.problems)}\n`);
    return 78;
  }
  const log = createLogger({ level: config.log.level, name: 'tessera-registry' });
  const store = new SqliteStore(config.storage.sqlite);
  const pool = new CompositionPool(config.composition);
  const service = new RegistryService(store, pool, {
    usageRetentionDays: config.usage.retentionDays,
    maxPending: config.composition.maxPending,
  });
  const server = createRegistryServer(config, service, store, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
  log.info({ url: `http://${host}:${port}`, storage: config.storage.sqlite }, 'registry listening');
  const stop = () => {
    server.close(() => {
      // A pool that fails to close is logged and exits 1, not an unhandled rejection with a stack trace.
      pool.close().then(
        () => {
          store.close();
          log.info('registry stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'registry stop failed');
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}
