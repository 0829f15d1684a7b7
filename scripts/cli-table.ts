import { fileURLToPath } from 'node:url';
import { commands } from '../bin/cli-commands.ts';
import { synopsis } from '../supergraph/cli-args.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** docs/cli.md's table, rendered from the command table that also parses and prints --help. */
export function renderCliTable(): string {
  const rows = commands.map((c) => {
    const also = c.aliases?.length ? ` Also \`${c.aliases.map((a) => `tessera ${a.join(' ')}`).join('`, `')}\`.` : '';
    return `| \`${cell(synopsis(c))}\` | ${cell(`${c.summary}${c.description ? ` ${c.description}` : ''}${also}`)} | ${cell(c.exitCodes)} |`;
  });
  return ['| command | what it does | exit codes |', '| --- | --- | --- |', ...rows].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Kept for the old `node scripts/cli-table.ts`: every generated doc is rendered by one script. Not
  // awaited: docs.ts imports this module, which has to finish evaluating first.
  void import('./docs.ts').then((docs) => docs.main());
}
