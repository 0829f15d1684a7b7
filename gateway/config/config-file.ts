import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

/**
 * The one way Tessera reads a YAML config (gateway `tessera.yaml`, registry `registry.yaml`, compose
 * `supergraph.yaml`): read the file → parse the YAML → environment overrides → zod → checks that
 * need the file system → a frozen value. Every problem is reported at once, each as
 * `key.path: message`, so an operator fixes the file in one pass.
 */

/** Start-up refusal: every problem, each with the key path it concerns. */
/** A listen address, as the gateway's and the registry's `server.host` accept it. */
export const listenHost = z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'an IP address or a host name' });

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  /** The file (or `config` for a value built in code). */
  readonly source: string;
  readonly problems: readonly string[];
  /** `tessera.yaml has 2 problems`: the first line, under whatever prefix the CLI prints. */
  readonly summary: string;
  constructor(source: string, problems: readonly string[]) {
    const summary = `${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    super(`CONFIG_INVALID: ${summary}\n${indent(problems)}`);
    this.source = source;
    this.problems = problems;
    this.summary = summary;
  }
}

/** The problems one per line, as every CLI prints them under its own first line. */
export function indent(problems: readonly string[]): string {
  return problems.map((p) => `  ${p}`).join('\n');
}

/** An environment variable that sets a key; applied before validation so a bad value names its key. */
export interface EnvOverride {
  readonly env: string;
  readonly path: readonly string[];
  readonly parse: (value: string) => unknown;
}

export interface ConfigSpec<S extends z.ZodType> {
  readonly schema: S;
  readonly env?: readonly EnvOverride[];
  /**
   * After validation: what needs the file system (paths made absolute against `baseDir`, files read
   * or checked). May rewrite the value in place; returns its problems, each naming its key.
   */
  readonly resolveFiles?: (value: z.output<S>, baseDir: string) => string[];
}

export interface ValidateOptions {
  /** Named in every problem report: the file name, or `config`. */
  readonly source?: string;
  /** Relative paths in the config are relative to this (the config file's folder). */
  readonly baseDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export type DeepReadonly<T> = T extends (infer U)[]
  ? ReadonlyArray<DeepReadonly<U>>
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export function readConfigFile<S extends z.ZodType>(
  file: string,
  spec: ConfigSpec<S>,
  env: NodeJS.ProcessEnv = process.env,
): DeepReadonly<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  // Duplicate keys are errors (the YAML spec's rule, and `yaml`'s default): a second `server:` would
  // otherwise silently replace the first.
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `line ${line}, column ${col}: not valid YAML: ${e.message}`;
      }),
    );
  }
  let raw: unknown;
  try {
    // An empty file is an empty mapping: every key takes its default (or is reported missing).
    raw = doc.toJS() ?? {};
  } catch (err) {
    // Aliases are resolved here: one that names no anchor, or an alias bomb (yaml caps their count).
    throw new ConfigError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  return validateConfig(raw, spec, { source: file, baseDir: dirname(resolve(file)), env });
}

/** Validates a config value (from YAML or from code), applies env overrides and freezes it. */
export function validateConfig<S extends z.ZodType>(
  raw: unknown,
  spec: ConfigSpec<S>,
  opts: ValidateOptions = {},
): DeepReadonly<z.output<S>> {
  const source = opts.source ?? 'config';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(source, ['(root): expected a mapping of keys']);
  }
  const input = structuredClone(raw) as Record<string, unknown>;
  for (const o of spec.env ?? []) {
    const value = opts.env?.[o.env];
    if (value !== undefined && value !== '') setPath(input, o.path, o.parse(value));
  }
  const result = spec.schema.safeParse(input);
  if (!result.success) throw new ConfigError(source, result.error.issues.flatMap(describeIssue));
  const problems = spec.resolveFiles?.(result.data, opts.baseDir ?? process.cwd()) ?? [];
  if (problems.length) throw new ConfigError(source, problems);
  return deepFreeze(result.data) as DeepReadonly<z.output<S>>;
}

/** One zod issue as `key.path: message` lines. */
export function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${[...at, key].join('.')}: unknown key`);
  }
  // A bad record key: its own check's message says what a key must be, the wrapper's does not.
  if (issue.code === 'invalid_key')
    return [`${at.join('.')}: not allowed as a name here: ${issue.issues.map((i) => i.message).join('; ')}`];
  return [`${at.length ? at.join('.') : '(root)'}: ${issue.message}`];
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
