import { z } from 'zod';

/**
 * The configuration reference, read off a zod schema: every key path with its type, default and
 * the description declared on the schema with `.describe()`. docs/configuration.md is rendered
 * from it (`npm run docs`), so a key cannot exist without being documented.
 */
export interface ConfigKey {
  /** Dotted path; `<name>` stands for a key of a map, `[]` for the items of a list. */
  readonly path: string;
  readonly type: string;
  /** Rendered default: a value, `–` (optional, unset) or `required`. */
  readonly default: string;
  readonly description: string | undefined;
  /** True for a key whose value is a section of further keys (an object, a map or a list of objects). */
  readonly section: boolean;
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; defaultValue?: unknown; [k: string]: unknown };
const defOf = (schema: z.ZodType) => schema._zod.def as unknown as Def;

interface Unwrapped {
  readonly core: z.ZodType;
  readonly description: string | undefined;
  readonly optional: boolean;
  readonly nullable: boolean;
  /** `{ value }` when the key has a default; a prefault (`{}` filled in by the object's own defaults) counts. */
  readonly fallback: { value: unknown } | undefined;
}

/** Peels optional/default/prefault/nullable/pipe wrappers, collecting what they say about the key. */
function unwrap(schema: z.ZodType): Unwrapped {
  let node = schema;
  let description: string | undefined;
  let optional = false;
  let nullable = false;
  let fallback: { value: unknown } | undefined;
  for (;;) {
    const meta = z.globalRegistry.get(node);
    description ??= meta?.description;
    if (!fallback && meta && 'default' in meta) fallback = { value: meta['default'] };
    const def = defOf(node);
    if (def.type === 'optional' || def.type === 'nonoptional' || def.type === 'readonly' || def.type === 'catch') {
      if (def.type === 'optional') optional = true;
      node = def.innerType!;
    } else if (def.type === 'default' || def.type === 'prefault') {
      fallback ??= { value: def.defaultValue };
      node = def.innerType!;
    } else if (def.type === 'nullable') {
      nullable = true;
      node = def.innerType!;
    } else if (def.type === 'pipe') {
      // A transform: the key is written as its input.
      node = def.in!;
    } else {
      return { core: node, description, optional, nullable, fallback };
    }
  }
}

/** The type as a reader writes it in YAML. `shape` spells objects out (inside lists and unions). */
function typeOf(schema: z.ZodType, shape = false): string {
  const { core, nullable } = unwrap(schema);
  const def = defOf(core);
  let type: string;
  switch (def.type) {
    case 'string':
      type = def['format'] === 'url' ? 'URL' : 'string';
      break;
    case 'number':
      type = def['format'] === 'safeint' || def['format'] === 'int32' ? 'integer' : 'number';
      break;
    case 'enum':
      type = Object.values(def['entries'] as Record<string, string>).join(' | ');
      break;
    case 'literal':
      type = (def['values'] as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' | ');
      break;
    case 'array': {
      const item = typeOf(def['element'] as z.ZodType, true);
      type = item.includes(' | ') ? `(${item})[]` : `${item}[]`;
      break;
    }
    case 'record':
      type = `map of ${typeOf(def['valueType'] as z.ZodType, shape)}`;
      break;
    case 'object':
      type = shape ? `{ ${objectKeys(core).join(', ')} }` : 'object';
      break;
    case 'union':
      type = [...new Set((def['options'] as z.ZodType[]).map((o) => typeOf(o, true)))].join(' | ');
      break;
    default:
      type = def.type;
  }
  return nullable ? `${type} | null` : type;
}

function objectKeys(object: z.ZodType): string[] {
  return Object.entries((object as z.ZodObject).shape).map(([k, v]) =>
    unwrap(v as z.ZodType).optional || unwrap(v as z.ZodType).fallback ? `${k}?` : k,
  );
}

/** A default as it would be written in YAML flow style. */
function yamlish(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value === '' ? "''" : value;
  if (Array.isArray(value)) return `[${value.map(yamlish).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length ? `{ ${entries.map(([k, v]) => `${k}: ${yamlish(v)}`).join(', ')} }` : '{}';
  }
  return String(value);
}

/** `30000` → ` (30 s)` on a `…Ms` key, `1048576` → ` (1 MiB)` on a `…Bytes` key: what the number means. */
function unitHint(path: string, value: unknown): string {
  if (typeof value !== 'number' || value === 0) return '';
  if (/Ms$/.test(path) && value >= 1000) {
    return value % 60_000 === 0 ? ` (${value / 60_000} min)` : value % 1000 === 0 ? ` (${value / 1000} s)` : '';
  }
  if (/Bytes$/.test(path) && value >= 1024) {
    for (const [unit, size] of [
      ['MiB', 1024 * 1024],
      ['KiB', 1024],
    ] as const)
      if (value % size === 0) return ` (${value / size} ${unit})`;
  }
  return '';
}

export interface ReferenceOptions {
  /** Defaults kept outside the schema, by key path (segments as in `ConfigKey.path`). */
  readonly defaultOf?: (path: readonly string[]) => { value: unknown } | undefined;
  /** Environment variables that set keys (the loader's own list), named in those keys' rows. */
  readonly env?: ReadonlyArray<{ readonly env: string; readonly path: readonly string[] }>;
}

/** Every key of `schema`, depth first, in declaration order. */
export function configKeys(schema: z.ZodType, opts: ReferenceOptions = {}): ConfigKey[] {
  const keys: ConfigKey[] = [];
  const visit = (node: z.ZodType, path: string[]) => {
    const u = unwrap(node);
    const def = defOf(u.core);
    const children: Array<[string, z.ZodType]> =
      def.type === 'object'
        ? Object.entries((u.core as z.ZodObject).shape).map(([k, v]) => [k, v as z.ZodType])
        : def.type === 'record' && isSection(def['valueType'] as z.ZodType)
          ? [['<name>', def['valueType'] as z.ZodType]]
          : def.type === 'array' && isSection(def['element'] as z.ZodType)
            ? [['[]', def['element'] as z.ZodType]]
            : [];
    if (path.length) {
      const fallback = u.fallback ?? opts.defaultOf?.(path);
      // A section's default is spelled out by its keys' rows: `{}` says it is there when unset.
      const value = fallback && children.length && isPlainObject(fallback.value) ? {} : fallback?.value;
      const env = opts.env?.filter((e) => e.path.join('.') === path.join('.')).map((e) => `\`${e.env}\``);
      keys.push({
        path: joinPath(path),
        type: typeOf(node),
        default: fallback ? `\`${yamlish(value)}\`${unitHint(path.at(-1)!, value)}` : u.optional ? '–' : 'required',
        description: u.description && env?.length ? `${u.description} Environment: ${env.join(', ')}.` : u.description,
        section: children.length > 0,
      });
    }
    for (const [key, child] of children) {
      // A list's items and a map's entries are described by the list or map itself.
      if (key === '[]' || key === '<name>') {
        for (const [k, v] of Object.entries((unwrap(child).core as z.ZodObject).shape))
          visit(v as z.ZodType, [...path, key, k]);
      } else {
        visit(child, [...path, key]);
      }
    }
  };
  visit(schema, []);
  return keys;
}

const isPlainObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSection = (schema: z.ZodType) => defOf(unwrap(schema).core).type === 'object';
const joinPath = (path: readonly string[]) => path.join('.').replaceAll('.[]', '[]');

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * Markdown for a config file: a heading and a table per top-level key, or, for a top-level key
 * whose every child is a section (`policies`), a heading for it and one per child.
 */
export function renderConfigReference(
  schema: z.ZodType,
  opts: ReferenceOptions & { heading: string; headingSuffix?: string },
): string {
  const keys = configKeys(schema, opts);
  const under = (k: ConfigKey) =>
    keys.filter((m) => m.path === k.path || m.path.startsWith(`${k.path}.`) || m.path.startsWith(`${k.path}[]`));
  const out: string[] = [];
  const section = (heading: string, k: ConfigKey, rows: readonly ConfigKey[]) => {
    out.push(`${heading} \`${k.path}\`${opts.headingSuffix ?? ''}`, '');
    out.push('| key | type | default | description |', '| --- | --- | --- | --- |');
    for (const m of rows)
      out.push(`| \`${cell(m.path)}\` | \`${cell(m.type)}\` | ${cell(m.default)} | ${cell(m.description ?? '')} |`);
    out.push('');
  };
  for (const top of keys.filter((k) => !/[.[]/.test(k.path))) {
    const children = keys.filter((k) => k.path.startsWith(`${top.path}.`) && k.path.split('.').length === 2);
    if (children.length && children.every((c) => c.section)) {
      section(opts.heading, top, [top]);
      for (const c of children) section(`${opts.heading}#`, c, under(c));
    } else {
      section(opts.heading, top, under(top));
    }
  }
  return out.join('\n').trimEnd();
}
