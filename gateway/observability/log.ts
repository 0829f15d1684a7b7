import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** One JSON line per event on stdout; `name` tells processes of one stack apart. */
export function createLogger(opts: { level: LevelWithSilent; name: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
