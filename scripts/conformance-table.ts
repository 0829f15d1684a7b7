import { engines } from '../harness/conformance.ts';
import { cases } from '../test/conformance/cases.ts';

/**
 * The conformance table of docs/conformance.md: one row per check, one column per engine. It is rendered from the
 * case files, whose `apolloFails` marks test/conformance/conformance.test.ts asserts (a marked check must fail on
 * the Apollo engine, every other check must pass on both), so the table says what the suite proves.
 */
export function renderConformanceTable(): string {
  const rows = cases.flatMap((c) =>
    c.checks.map((check, i) => {
      const result = (engine: (typeof engines)[number]) =>
        engine === 'apollo' && check.apolloFails ? `✗ expected failure: ${check.apolloFails}` : '✓ pass';
      const label = i === 0 ? `[\`${c.id}\`](../test/conformance/cases/${c.id}.ts): ${c.title}` : '';
      return `| ${escape(label)} | ${escape(check.name)} | ${engines.map((e) => escape(result(e))).join(' | ')} |`;
    }),
  );
  const failing = cases.flatMap((c) => c.checks).filter((c) => c.apolloFails).length;
  const total = cases.reduce((n, c) => n + c.checks.length, 0);
  return [
    `${cases.length} cases, ${total} checks. The Apollo engine fails ${failing} of them, as marked.`,
    '',
    `| case | check | ${engines.map((e) => `\`${e}\``).join(' | ')} |`,
    `| --- | --- | ${engines.map(() => '---').join(' | ')} |`,
    ...rows,
  ].join('\n');
}

function escape(text: string): string {
  return text.replaceAll('|', '\\|');
}
