import { parseArgs } from 'node:util';

/**
 * The CLI's argument handling. Each command declares its options once, in a table (bin/cli-commands.ts);
 * parsing (node:util parseArgs, strict), validation, `--help` and the CLI table of docs/cli.md are all
 * derived from it, so what a command accepts and what its help says cannot drift apart.
 */

/** Bad command-line input: printed as one line, then the command's usage; exit 2. */
export class UsageError extends Error {}

/** Turns an option's text into the value a command uses; throws a UsageError saying what it must be. */
export interface ValueParser<T> {
  (raw: string): T;
  /** Shown in help as the option's value: `<text|json|markdown>`. */
  readonly placeholder?: string;
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly help: string;
  /** Help's name for the value when the parser does not give one: `--output <file>`. */
  readonly value?: string;
  readonly default?: string;
  readonly required?: boolean;
  /** Read when the flag is absent; for booleans, `1`, `true` or `yes` mean on. */
  readonly env?: string;
  readonly parse?: ValueParser<unknown>;
  /** Left out of the one-line synopsis (options every registry command shares); still in --help. */
  readonly synopsis?: false;
}

type OptionTable = Readonly<Record<string, OptionSpec>>;
type Parsed<S extends OptionSpec> = S extends { parse: (raw: string) => infer T }
  ? T
  : S extends { type: 'boolean' }
    ? boolean
    : string;
type Single<S extends OptionSpec> = S extends { multiple: true } ? Array<Parsed<S>> : Parsed<S>;
type AlwaysSet<S extends OptionSpec> = S extends
  { type: 'boolean' } | { multiple: true } | { required: true } | { default: string }
  ? true
  : false;
/** What a command's `run` receives: parsed, validated values, typed from its option table. */
export type Values<O extends OptionTable> = {
  -readonly [K in keyof O]: AlwaysSet<O[K]> extends true ? Single<O[K]> : Single<O[K]> | undefined;
};

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  readonly path: readonly string[];
  /** Other spellings that run the same command (`subgraph rollback` for `variant rollback`). */
  readonly aliases?: ReadonlyArray<readonly string[]>;
  /** One line, in the command list. */
  readonly summary: string;
  /** More detail, in --help and in the docs/cli.md table. */
  readonly description?: string;
  /** Replaces the generated synopsis where options depend on each other. */
  readonly synopsis?: string;
  readonly positional?: { readonly name: string; readonly help: string; readonly required?: boolean };
  readonly options: OptionTable;
  /** Environment variables the command reads besides its options' own. */
  readonly env?: Readonly<Record<string, string>>;
  readonly exitCodes: string;
  run(args: { values: Record<string, unknown>; positional: string | undefined }, io: CliIo): Promise<number>;
}

/** Typed at the definition site, erased in the table. */
export function defineCommand<const O extends OptionTable>(
  spec: Omit<Command, 'options' | 'run'> & {
    options: O;
    run(args: { values: Values<O>; positional: string | undefined }, io: CliIo): Promise<number>;
  },
): Command {
  return spec as unknown as Command;
}

/** Options every command accepts. */
export const globalOptions = {
  help: { type: 'boolean', short: 'h', help: 'Show this help.' },
  verbose: { type: 'boolean', help: 'On an unexpected error, print its stack trace (LOG_LEVEL=debug does too).' },
} as const satisfies OptionTable;

// ---- value parsers -------------------------------------------------------------------------------

export function integer(min: number, max?: number, unit = ''): ValueParser<number> {
  const what =
    max === undefined ? `a whole number${unit}, ${min} or more` : `a whole number${unit} from ${min} to ${max}`;
  return Object.assign(
    (raw: string) => {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < min || (max !== undefined && n > max)) throw new UsageError(`must be ${what}`);
      return n;
    },
    { placeholder: 'n' },
  );
}

export function oneOf<const T extends string>(choices: readonly T[]): ValueParser<T> {
  return Object.assign(
    (raw: string) => {
      if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`must be one of ${choices.join(', ')}`);
      return raw as T;
    },
    { placeholder: choices.join('|') },
  );
}

/** A comma-separated subset, returned deduplicated in the order of `choices`. */
export function listOf<const T extends string>(choices: readonly T[]): ValueParser<T[]> {
  return Object.assign(
    (raw: string) => {
      const items = raw.split(',').map((s) => s.trim());
      const bad = items.filter((i) => !(choices as readonly string[]).includes(i));
      if (bad.length || !raw.trim()) throw new UsageError(`must be a comma-separated list of ${choices.join(', ')}`);
      return choices.filter((c) => items.includes(c));
    },
    { placeholder: choices.join(',') },
  );
}

export function matching(re: RegExp, what: string, placeholder?: string): ValueParser<string> {
  return Object.assign(
    (raw: string) => {
      if (!re.test(raw)) throw new UsageError(`must be ${what}`);
      return raw;
    },
    placeholder ? { placeholder } : {},
  );
}

export const httpUrl: ValueParser<string> = Object.assign(
  (raw: string) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new UsageError('must be an http(s) URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError('must be an http(s) URL');
    return raw;
  },
  { placeholder: 'url' },
);

// ---- parsing ---------------------------------------------------------------------------------------

/** Whether `--help`/`-h` is among the arguments (before a `--`), whatever else is wrong with them. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

export function parseCommand(
  cmd: Command,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { values: Record<string, unknown>; positional: string | undefined } {
  const table: OptionTable = { ...cmd.options, ...globalOptions };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(
        Object.entries(table).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
    });
  } catch (err) {
    throw new UsageError(describeParseArgsError(err, Object.keys(cmd.options)));
  }
  const allowed = cmd.positional ? 1 : 0;
  if (parsed.positionals.length > allowed) throw new UsageError(`unexpected argument '${parsed.positionals[allowed]}'`);

  const given = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(cmd.options)) {
    let raw = given[name];
    let source = `--${name}`;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (raw === undefined && fromEnv !== undefined && fromEnv !== '') {
      raw = spec.type === 'boolean' ? /^(1|true|yes)$/i.test(fromEnv) : spec.multiple ? [fromEnv] : fromEnv;
      source = spec.env!;
    }
    raw ??= spec.multiple ? [] : spec.type === 'boolean' ? false : spec.default;
    const parse = spec.parse;
    const apply = (r: string) => {
      if (!parse) return r;
      try {
        return parse(r);
      } catch (err) {
        if (err instanceof UsageError) throw new UsageError(`${source} ${err.message} (got ${JSON.stringify(r)})`);
        throw err;
      }
    };
    values[name] = typeof raw === 'string' ? apply(raw) : Array.isArray(raw) ? raw.map(apply) : raw;
  }
  // After the values: a command run with one bad value hears about that value, not about what else is missing.
  for (const [name, spec] of Object.entries(cmd.options)) {
    const v = values[name];
    if (spec.required && (v === undefined || (Array.isArray(v) && !v.length)))
      throw new UsageError(`--${name}${spec.env ? ` (or ${spec.env})` : ''} is required`);
  }
  const positional = parsed.positionals[0];
  if (cmd.positional?.required && positional === undefined)
    throw new UsageError(`<${cmd.positional.name}> is required`);
  return { values, positional };
}

/** parseArgs' messages carry advice for a different audience ("place it after '--'"); one short line instead. */
function describeParseArgsError(err: unknown, known: string[]): string {
  const e = err as { code?: string; message?: string };
  const message = String(e.message ?? err);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
    const near = closest(flag.replace(/^-+/, '').split('=')[0]!, known);
    return `unknown option '${flag}'${near ? ` (did you mean --${near}?)` : ''}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /'(-[^' ]*(?:, --[^' ]+)?)/.exec(message)?.[1]?.split(', ').pop();
    if (/argument missing|ambiguous/.test(message) && flag) return `${flag} needs a value`;
    if (/does not take an argument/.test(message) && flag) return `${flag} takes no value`;
  }
  return message.split(/\.\s/)[0]!.replace(/\.$/, '');
}

function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

// ---- help ------------------------------------------------------------------------------------------

function flag(name: string, spec: OptionSpec): string {
  if (spec.type === 'boolean') return `--${name}`;
  return `--${name} <${spec.parse?.placeholder ?? spec.value ?? 'value'}>`;
}

/** `tessera subgraph check --graph <name> [--variant <name>] …`: required options bare, others bracketed. */
export function synopsis(cmd: Command): string {
  if (cmd.synopsis) return `tessera ${cmd.path.join(' ')} ${cmd.synopsis}`;
  const parts = ['tessera', ...cmd.path];
  if (cmd.positional) parts.push(cmd.positional.required ? `<${cmd.positional.name}>` : `[<${cmd.positional.name}>]`);
  for (const [name, spec] of Object.entries(cmd.options)) {
    if (spec.synopsis === false) continue;
    const f = flag(name, spec) + (spec.multiple ? '…' : '');
    parts.push(spec.required && !spec.env ? f : `[${f}]`);
  }
  return parts.join(' ');
}

function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function columns(rows: Array<[string, string]>, width = 100): string {
  const left = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows
    .map(([l, r]) =>
      l.length + 2 > left
        ? `  ${l}\n${' '.repeat(left + 2)}${wrap(r, width, left + 2)}`
        : `  ${l.padEnd(left)}${wrap(r, width, left + 2)}`,
    )
    .join('\n');
}

export function commandHelp(cmd: Command, children: ReadonlyArray<[string, string]> = []): string {
  const out = [
    `Usage: ${synopsis(cmd)}`,
    '',
    wrap(cmd.summary + (cmd.description ? ` ${cmd.description}` : ''), 100, 0),
  ];
  if (cmd.positional) out.push('', 'Arguments:', columns([[`<${cmd.positional.name}>`, cmd.positional.help]]));
  const optionRows: Array<[string, string]> = Object.entries(cmd.options).map(([name, spec]) => {
    const notes = [
      spec.env ? `env ${spec.env}` : '',
      spec.default !== undefined ? `default ${spec.default}` : '',
      spec.required ? 'required' : '',
      spec.multiple ? 'repeatable' : '',
    ].filter(Boolean);
    return [
      `${spec.short ? `-${spec.short}, ` : ''}${flag(name, spec)}`,
      `${spec.help}${notes.length ? ` (${notes.join('; ')})` : ''}`,
    ];
  });
  optionRows.push(
    ...Object.entries(globalOptions as OptionTable).map(([name, spec]): [string, string] => [
      `${spec.short ? `-${spec.short}, ` : ''}--${name}`,
      spec.help,
    ]),
  );
  out.push('', 'Options:', columns(optionRows));
  if (cmd.env && Object.keys(cmd.env).length) out.push('', 'Environment:', columns(Object.entries(cmd.env)));
  if (children.length) out.push('', 'Subcommands:', columns([...children]));
  if (cmd.aliases?.length) out.push('', `Also spelled: ${cmd.aliases.map((a) => `tessera ${a.join(' ')}`).join(', ')}`);
  out.push('', `Exit codes: ${cmd.exitCodes}`);
  return `${out.join('\n')}\n`;
}

/** `tessera <group> --help` where the group itself runs nothing (`tessera supergraph`). */
export function groupHelp(group: readonly string[], children: ReadonlyArray<[string, string]>): string {
  return `Usage: tessera ${group.join(' ')} <command> [options]\n\nCommands:\n${columns([...children])}\n\n\`tessera ${group.join(' ')} <command> --help\` shows a command's options.\n`;
}

export function topHelp(commands: readonly Command[], footer: string): string {
  return `Usage: tessera <command> [options]\n\nCommands:\n${columns(commands.map((c) => [c.path.join(' ') + (c.positional ? ` <${c.positional.name}>` : ''), c.summary]))}\n\n${footer}\n`;
}

// ---- dispatch --------------------------------------------------------------------------------------

type Resolved =
  | { kind: 'command'; command: Command; path: readonly string[]; rest: string[] }
  | { kind: 'group'; path: readonly string[]; rest: string[] }
  | { kind: 'top'; rest: string[] };

/** The longest leading run of words that names a command (or an alias), else a group of commands. */
export function resolve(commands: readonly Command[], argv: readonly string[]): Resolved {
  const byPath = new Map<string, Command>();
  for (const c of commands) for (const p of [c.path, ...(c.aliases ?? [])]) byPath.set(p.join(' '), c);
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let i = words.length; i > 0; i--) {
    const prefix = words.slice(0, i).join(' ');
    const c = byPath.get(prefix);
    if (c) return { kind: 'command', command: c, path: words.slice(0, i), rest: argv.slice(i) };
    // `registry token` runs nothing itself: it lists `registry token create` rather than being `registry` with an argument.
    if ([...byPath.keys()].some((k) => k.startsWith(`${prefix} `)))
      return { kind: 'group', path: words.slice(0, i), rest: argv.slice(i) };
  }
  return { kind: 'top', rest: [...argv] };
}

/** The commands under a path, by every spelling that starts there (aliases included), as listed in help. */
export function childrenOf(commands: readonly Command[], path: readonly string[]): Array<[string, string]> {
  const key = path.join(' ');
  return commands.flatMap((c) =>
    [c.path, ...(c.aliases ?? [])]
      .filter((p) => p.length > path.length && p.slice(0, path.length).join(' ') === key)
      .map((p): [string, string] => [p.join(' '), c.summary]),
  );
}

/**
 * Runs the command named by `argv`. Help goes to stdout with exit 0; every input problem is one
 * line plus the usage it concerns on stderr, exit 2. Anything else a command throws is for the caller.
 */
export async function dispatch(
  commands: readonly Command[],
  argv: readonly string[],
  io: CliIo,
  footer: string,
): Promise<number> {
  const r = resolve(commands, argv);
  const top = topHelp(commands, footer);
  if (r.kind === 'top') {
    const [first, ...more] = r.rest;
    if (first === '--help' || first === '-h' || (first === 'help' && !more.length)) {
      io.stdout(top);
      return 0;
    }
    if (first === 'help') {
      const inner = resolve(commands, more);
      if (inner.kind === 'command') io.stdout(commandHelp(inner.command, childrenOf(commands, inner.path)));
      else if (inner.kind === 'group') io.stdout(groupHelp(inner.path, childrenOf(commands, inner.path)));
      else {
        io.stderr(`tessera help: unknown command '${more.join(' ')}'\n\n${top}`);
        return 2;
      }
      return 0;
    }
    const problem =
      first === undefined
        ? 'missing command'
        : first.startsWith('-')
          ? `unknown option '${first}'`
          : `unknown command '${first}'${suggest(
              first,
              commands.map((c) => c.path[0]!),
            )}`;
    io.stderr(`tessera: ${problem}\n\n${top}`);
    return 2;
  }
  const name = `tessera ${r.path.join(' ')}`;
  if (r.kind === 'group') {
    const children = childrenOf(commands, r.path);
    if (wantsHelp(r.rest)) {
      io.stdout(groupHelp(r.path, children));
      return 0;
    }
    const next = r.rest[0];
    const problem =
      next === undefined
        ? 'missing command'
        : next.startsWith('-')
          ? `unknown option '${next}'`
          : `unknown command '${r.path.join(' ')} ${next}'${suggest(
              next,
              children.map(([p]) => p.split(' ')[r.path.length]!),
            )}`;
    io.stderr(`${name}: ${problem}\n\n${groupHelp(r.path, children)}`);
    return 2;
  }
  const help = () => commandHelp(r.command, childrenOf(commands, r.path));
  if (wantsHelp(r.rest)) {
    io.stdout(help());
    return 0;
  }
  try {
    return await r.command.run(parseCommand(r.command, r.rest, io.env), io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`${name}: ${err.message}\n\n${help()}`);
    return 2;
  }
}

function suggest(word: string, candidates: string[]): string {
  const near = closest(word, [...new Set(candidates)]);
  return near ? ` (did you mean '${near}'?)` : '';
}
