import { dirname, resolve } from 'node:path';
import { ConfigError, loadConfigFile } from './config/load.ts';
import { createGateway, ListenError, SupergraphLoadError } from './create-gateway.ts';
import { createLogger } from './observability/log.ts';

/** `tessera gateway`: load config, serve, and turn signals into reload and graceful shutdown. */
export async function runGateway(configFile: string): Promise<number> {
  let config;
  try {
    config = loadConfigFile(configFile);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const log = createLogger({ level: config.log.level, name: 'tessera-gateway' });
  let gateway;
  try {
    gateway = await createGateway(config, { log, baseDir: dirname(resolve(configFile)) });
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal({ code: err.code }, err.message);
      process.stderr.write(`${err.message}\n`);
      return 78;
    }
    if (err instanceof ListenError) {
      log.fatal(err.message);
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    if (err instanceof SupergraphLoadError) {
      log.fatal({ code: err.code }, err.message);
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  installSignals(gateway);
  return -1;
}

export function installSignals(
  gateway: { reload(): Promise<unknown>; shutdown(): Promise<void>; log: { info: (o: object, m: string) => void } },
  onStopped?: () => Promise<void>,
): void {
  process.on('SIGHUP', () => {
    gateway.log.info({ signal: 'SIGHUP' }, 'reloading supergraph');
    void gateway.reload();
  });
  let signalled = false;
  const stop = (signal: NodeJS.Signals) => {
    if (signalled) {
      // A second Ctrl-C means "now".
      process.exit(130);
    }
    signalled = true;
    gateway.log.info({ signal }, 'signal received');
    gateway
      .shutdown()
      .then(() => onStopped?.())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
