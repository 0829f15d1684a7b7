#!/usr/bin/env node
import { runTessera } from './cli-commands.ts';

const argv = process.argv.slice(2);

runTessera(argv, {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
  env: process.env,
}).then(
  (code) => {
    // Long-running commands keep their own handles open and return -1.
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    // Input problems were answered with usage (exit 2); this is everything else. One line, unless asked.
    const verbose = argv.includes('--verbose') || /^(debug|trace)$/i.test(process.env['LOG_LEVEL'] ?? '');
    const e = err as { message?: string; code?: string; stack?: string };
    const line = String(e?.message ?? err).split('\n')[0];
    process.stderr.write(
      verbose && e?.stack
        ? `${e.stack}\n`
        : `error${e?.code ? `[${e.code}]` : ''}: ${line} (--verbose shows the stack)\n`,
    );
    process.exitCode = 1;
  },
);
