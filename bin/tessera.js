#!/usr/bin/env node
// The `tessera` command. Plain JavaScript that Node 14 parses, so an old Node prints one line
// saying which Node to get instead of ERR_UNKNOWN_FILE_EXTENSION or a syntax error.
import { existsSync } from 'fs';
import { nodeIsSupported, requiredMajor } from './require-node.js';

const quote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'");

if (nodeIsSupported(['npx', '-y', 'node@' + requiredMajor].concat(process.argv.slice(1)).map(quote).join(' '))) {
  // A checkout runs its TypeScript sources as they are (Node strips the types). The published
  // package ships only the build: Node refuses to strip types under node_modules.
  const source = new URL('./tessera.ts', import.meta.url);
  const entry =
    existsSync(source) && !source.pathname.includes('/node_modules/')
      ? source
      : new URL('../dist/bin/tessera.js', import.meta.url);
  import(entry.href).catch((err) => {
    process.stderr.write(String((err && err.stack) || err) + '\n');
    process.exitCode = 1;
  });
}
