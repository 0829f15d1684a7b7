import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';
import { composeSupergraph, type CompositionProblem, type SubgraphSdl } from './compose.ts';
import { validateOperations, type ManifestRecord } from './operations/manifest.ts';
import type { UsageEntry } from './registry/store.ts';

export type ChangeLevel = 'breaking' | 'dangerous' | 'safe';

export interface CheckedChange {
  readonly level: ChangeLevel;
  readonly type: string;
  /** Schema coordinate (`Type.field`, `Type.field.arg`, `Enum.VALUE`). */
  readonly coordinate: string | null;
  readonly message: string;
  /** With usage data: the recorded operations that use what changed. */
  readonly operations?: ReadonlyArray<{ name: string | null; hash: string; client: string | null; count: number }>;
  /** With usage data: a breaking change nothing used, so it does not fail the check. */
  readonly unused?: boolean;
}

export interface CheckReport {
  readonly graph: string;
  readonly variant: string;
  /** The variant version the proposal was compared with (0: empty variant). */
  readonly baseVersion: number;
  readonly subgraphs: readonly string[];
  readonly compositionErrors: readonly CompositionProblem[];
  readonly changes: readonly CheckedChange[];
  readonly usage: { readonly days: number; readonly operations: number } | null;
  /** Distinct published operations (trusted documents) validated against the proposed API schema. */
  readonly operationsChecked: number;
  /** Published operations that would no longer validate: each fails the check. */
  readonly brokenOperations: readonly BrokenOperation[];
  readonly result: 'pass' | 'fail';
}

export interface BrokenOperation {
  readonly id: string;
  readonly name: string | null;
  /** `client@version` of every manifest that holds it. */
  readonly clients: readonly string[];
  readonly errors: readonly string[];
}

/** Plain data only: a check runs in a composition worker, and this crosses to it by structured clone. */
export interface CheckInput {
  readonly graph: string;
  readonly variant: string;
  readonly baseVersion: number;
  readonly current: readonly SubgraphSdl[];
  readonly proposed: readonly SubgraphSdl[];
  readonly usage: { readonly days: number; readonly entries: readonly UsageEntry[] } | null;
  /** The variant's published manifests: each operation must still validate. */
  readonly manifests?: readonly ManifestRecord[];
}

/** Changes whose coordinate names a field: usage data (field coordinates) can tell if anyone relies on them. */
const fieldLevel = new Set([
  'FIELD_REMOVED',
  'FIELD_TYPE_CHANGED',
  'FIELD_ARGUMENT_ADDED',
  'FIELD_ARGUMENT_REMOVED',
  'FIELD_ARGUMENT_TYPE_CHANGED',
  'FIELD_ARGUMENT_DEFAULT_CHANGED',
]);

/**
 * Composes the variant's subgraphs with the proposed ones replacing theirs, then diffs the API
 * schema against the current one. With usage, a breaking field change that no recorded operation
 * touched in the window is reported but does not fail the check.
 */
export async function checkProposal(input: CheckInput): Promise<CheckReport> {
  const byName = new Map(input.current.map((s) => [s.name, s]));
  for (const p of input.proposed)
    byName.set(p.name, { ...p, url: p.url || byName.get(p.name)?.url || `http://${p.name}` });
  const next = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  const base = {
    graph: input.graph,
    variant: input.variant,
    baseVersion: input.baseVersion,
    subgraphs: input.proposed.map((p) => p.name),
  };
  const composed = composeSupergraph(next);
  if (!composed.ok)
    return {
      ...base,
      compositionErrors: composed.errors,
      changes: [],
      usage: null,
      operationsChecked: 0,
      brokenOperations: [],
      result: 'fail',
    };

  let changes: CheckedChange[] = [];
  if (input.current.length) {
    const before = composeSupergraph(input.current);
    if (before.ok) changes = (await diff(before.apiSchema(), composed.apiSchema())).map(classify);
  }
  let usage: CheckReport['usage'] = null;
  if (input.usage) {
    const byCoordinate = new Map<string, UsageEntry[]>();
    for (const e of input.usage.entries) {
      const list = byCoordinate.get(e.coordinate) ?? [];
      list.push(e);
      byCoordinate.set(e.coordinate, list);
    }
    usage = { days: input.usage.days, operations: new Set(input.usage.entries.map((e) => e.operationHash)).size };
    changes = changes.map((c) => {
      if (c.level !== 'breaking' || !fieldLevel.has(c.type) || !c.coordinate) return c;
      const field = c.coordinate.split('.').slice(0, 2).join('.');
      const used = byCoordinate.get(field) ?? [];
      if (!used.length) return { ...c, unused: true };
      return {
        ...c,
        operations: used.map((u) => ({
          name: u.operationName,
          hash: u.operationHash,
          client: u.client,
          count: u.count,
        })),
      };
    });
  }
  const { checked, broken } = checkOperations(composed.apiSchema(), input.manifests ?? []);
  const failing = changes.some((c) => c.level === 'breaking' && !c.unused) || broken.length > 0;
  return {
    ...base,
    compositionErrors: [],
    changes,
    usage,
    operationsChecked: checked,
    brokenOperations: broken,
    result: failing ? 'fail' : 'pass',
  };
}

/** Each distinct body once, whatever the number of client versions that ship it. */
function checkOperations(
  schema: GraphQLSchema,
  manifests: readonly ManifestRecord[],
): { checked: number; broken: BrokenOperation[] } {
  const byBody = new Map<string, { id: string; name: string | null; body: string; clients: string[] }>();
  for (const m of manifests)
    for (const op of m.operations) {
      let entry = byBody.get(op.body);
      if (!entry) byBody.set(op.body, (entry = { id: op.id, name: op.name, body: op.body, clients: [] }));
      entry.clients.push(`${m.client}@${m.version}`);
    }
  const entries = [...byBody.values()];
  const problems = validateOperations(schema, entries);
  const byId = new Map(entries.map((e) => [e.id, e]));
  return {
    checked: entries.length,
    broken: problems.map((p) => ({ id: p.id, name: p.name, clients: byId.get(p.id)?.clients ?? [], errors: p.errors })),
  };
}

function classify(c: Change): CheckedChange {
  const level: ChangeLevel =
    c.criticality.level === CriticalityLevel.Breaking
      ? 'breaking'
      : c.criticality.level === CriticalityLevel.Dangerous
        ? 'dangerous'
        : 'safe';
  return { level, type: c.type, coordinate: c.path ?? null, message: c.message };
}
