import { fileURLToPath } from 'node:url';
import { errorCodes, type ErrorKind } from '../gateway/errors/codes.ts';

/** One section per kind, in the order a reader meets them; each says how its codes travel. */
const sections: ReadonlyArray<{ kind: ErrorKind; title: string; intro: string; status: boolean }> = [
  {
    kind: 'request',
    title: 'Request errors',
    intro: 'The gateway refused or failed the whole request: the answer has this HTTP status and no `data`.',
    status: true,
  },
  {
    kind: 'field',
    title: 'Field errors',
    intro:
      'HTTP 200: the error is in `errors` next to partial `data`, at the path of the field it made null; the other fields are served.',
    status: false,
  },
  {
    kind: 'registry',
    title: 'Registry API errors',
    intro: 'Answers of the schema registry (`tessera registry`); the CLI prints them as `error[CODE]: …`.',
    status: true,
  },
  {
    kind: 'startup',
    title: 'Start-up errors',
    intro:
      'Not an HTTP answer: the process prints the code and what is wrong, and stops before it serves anything (the meaning gives the exit code).',
    status: false,
  },
  {
    kind: 'cli',
    title: 'CLI errors',
    intro: 'Not an HTTP answer: a CLI command reports it and exits with the exit code its meaning gives.',
    status: false,
  },
];

const cell = (s: string) => s.replaceAll('|', '\\|');

/** docs/errors.md's tables, rendered from the catalog so the two cannot drift. */
export function renderErrorTables(): string {
  const entries = Object.entries(errorCodes);
  const out: string[] = [];
  for (const s of sections) {
    const rows = entries.filter(([, d]) => d.kind === s.kind);
    out.push(`## ${s.title}`, '', s.intro, '');
    out.push(s.status ? '| code | HTTP status | meaning | what to do |' : '| code | meaning | what to do |');
    out.push(s.status ? '| --- | --- | --- | --- |' : '| --- | --- | --- |');
    for (const [code, d] of rows)
      out.push(`| \`${code}\` |${s.status ? ` ${d.status} |` : ''} ${cell(d.description)} | ${cell(d.fix)} |`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Kept for the old `node scripts/error-table.ts`: every generated doc is rendered by one script. Not
  // awaited: docs.ts imports this module, which has to finish evaluating first.
  void import('./docs.ts').then((docs) => docs.main());
}
