import type { BrokenOperation, CheckReport, CheckedChange } from './check.ts';

export type ReportFormat = 'text' | 'json' | 'markdown';

/** 0 pass; 1 composition errors or breaking changes. (2 is for usage, network and auth errors.) */
export function exitCodeOf(report: CheckReport): 0 | 1 {
  return report.result === 'pass' ? 0 : 1;
}

export function renderReport(report: CheckReport, format: ReportFormat, color = false): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'markdown') return markdown(report);
  return text(report, color);
}

const icon = (c: CheckedChange) =>
  c.level === 'breaking' ? (c.unused ? '⚠️' : '❌') : c.level === 'dangerous' ? '⚠️' : '✅';
const label = (c: CheckedChange) => (c.unused ? 'breaking, unused' : c.level);

function text(r: CheckReport, color: boolean): string {
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines = [`Check of ${r.subgraphs.join(', ')} against ${r.graph}@${r.variant} (version ${r.baseVersion})`];
  if (r.compositionErrors.length) {
    lines.push(
      paint(
        31,
        `✗ composition failed with ${r.compositionErrors.length} error${r.compositionErrors.length === 1 ? '' : 's'}`,
      ),
    );
    for (const e of r.compositionErrors) {
      lines.push(`  error[${e.code}]: ${e.message}`);
      for (const l of e.locations) lines.push(`      at ${l.subgraph ?? '?'}:${l.line}:${l.column}`);
    }
  } else {
    lines.push(paint(32, '✓ composes'));
  }
  if (r.usage)
    lines.push(
      `  usage: ${r.usage.operations} operation${r.usage.operations === 1 ? '' : 's'} seen in the last ${r.usage.days} day${r.usage.days === 1 ? '' : 's'}`,
    );
  const counts = (['breaking', 'dangerous', 'safe'] as const)
    .map((l) => `${r.changes.filter((c) => c.level === l).length} ${l}`)
    .join(', ');
  if (!r.compositionErrors.length)
    lines.push(`  ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}: ${counts}`);
  for (const c of r.changes) {
    const tag =
      c.level === 'breaking' && !c.unused
        ? paint(31, 'BREAKING ')
        : c.level === 'safe'
          ? paint(32, 'safe     ')
          : paint(33, c.unused ? 'unused   ' : 'dangerous');
    lines.push(`  ${tag} ${c.message}${c.coordinate ? ` (${c.coordinate})` : ''}`);
    for (const o of c.operations ?? [])
      lines.push(
        `            used by ${o.name ?? '(anonymous)'} [${o.hash.slice(0, 12)}]${o.client ? ` from ${o.client}` : ''}: ${o.count} request${o.count === 1 ? '' : 's'}`,
      );
  }
  if (r.operationsChecked)
    lines.push(`  published operations: ${r.operationsChecked} checked, ${r.brokenOperations.length} broken`);
  for (const o of r.brokenOperations ?? []) {
    lines.push(`  ${paint(31, 'BROKEN   ')} operation ${opLabel(o)} (${o.clients.join(', ')})`);
    for (const e of o.errors) lines.push(`            ${e}`);
  }
  lines.push(r.result === 'pass' ? paint(32, 'PASS') : paint(31, 'FAIL'));
  return `${lines.join('\n')}\n`;
}

function markdown(r: CheckReport): string {
  const out = [
    `### ${r.result === 'pass' ? '✅ Schema check passed' : '❌ Schema check failed'}: ${r.subgraphs.map((s) => `\`${s}\``).join(', ')} → \`${r.graph}@${r.variant}\``,
    '',
  ];
  out.push(
    `Compared with version ${r.baseVersion}.${r.usage ? ` Usage: ${r.usage.operations} operation(s) in the last ${r.usage.days} day(s).` : ''}`,
    '',
  );
  if (r.compositionErrors.length) {
    out.push('**Composition errors**', '', '| code | message | location |', '| --- | --- | --- |');
    for (const e of r.compositionErrors)
      out.push(
        `| \`${e.code}\` | ${cell(e.message)} | ${e.locations.map((l) => `${l.subgraph ?? '?'}:${l.line}:${l.column}`).join(', ')} |`,
      );
    out.push('');
  }
  if (r.changes.length) {
    out.push('| | change | coordinate | used by |', '| --- | --- | --- | --- |');
    for (const c of r.changes) {
      const used =
        c.operations
          ?.map((o) => `\`${o.name ?? o.hash.slice(0, 12)}\`${o.client ? ` (${o.client})` : ''}`)
          .join(', ') ?? (c.unused ? 'unused' : '');
      out.push(
        `| ${icon(c)} ${label(c)} | ${cell(c.message)} | ${c.coordinate ? `\`${c.coordinate}\`` : ''} | ${used} |`,
      );
    }
  } else if (!r.compositionErrors.length) {
    out.push('No schema changes.');
  }
  if (r.brokenOperations?.length) {
    out.push(
      '',
      `**Published operations that would break** (${r.brokenOperations.length} of ${r.operationsChecked})`,
      '',
      '| operation | clients | errors |',
      '| --- | --- | --- |',
    );
    for (const o of r.brokenOperations)
      out.push(`| \`${opLabel(o)}\` | ${o.clients.join(', ')} | ${cell(o.errors.join('; '))} |`);
  }
  return `${out.join('\n')}\n`;
}

/** `ProductCard [9a1f3c…]`: the name when the operation has one, and the start of its id. */
function opLabel(o: BrokenOperation): string {
  const id = o.id.length > 16 ? `${o.id.slice(0, 12)}…` : o.id;
  return o.name ? `${o.name} [${id}]` : `[${id}]`;
}

function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
