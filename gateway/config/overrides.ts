import { z } from 'zod';

/**
 * Settings declared once, with their defaults, and given in layers (`subgraphs.all`, then
 * `subgraphs.<name>`). A layer lists only what it changes, so it is validated by the same schema
 * with the defaults taken out (`overridesOf`); layers are merged (`mergeOverrides`) and the result
 * parsed by the full schema, which fills in what no layer set.
 */

/**
 * How a value merges when both layers set it. Objects merge key by key and anything else is
 * replaced, unless the schema says otherwise: `append` (lists add up, the base layer's first) or
 * `whole` (an object is replaced as a unit, because its fields only make sense together).
 */
export const mergeRule = z.registry<{ merge: 'append' | 'whole' }>();

/**
 * `schema` with every default removed, so that parsing a layer keeps only the keys it sets.
 * Defaults stay visible as JSON Schema `default`s (editors show them). Descends objects and the
 * wrappers around them; an object with refinements is refused, as they would judge a partial value.
 */
export function overridesOf<S extends z.ZodType>(schema: S): z.ZodType<z.input<S>, z.input<S>> {
  return strip(schema) as z.ZodType<z.input<S>, z.input<S>>;
}

function strip(schema: z.ZodType): z.ZodType {
  const def = schema._zod.def as z.core.$ZodTypeDef & { innerType?: z.ZodType; defaultValue?: unknown };
  switch (def.type) {
    case 'default':
      return strip(def.innerType!).optional().meta({ default: def.defaultValue });
    case 'prefault':
    case 'optional':
      return strip(def.innerType!).optional();
    case 'object': {
      const object = schema as z.ZodObject;
      if (def.checks?.length)
        throw new Error('overridesOf: an object with refinements cannot be overridden key by key');
      const stripped = object.extend(
        Object.fromEntries(Object.entries(object.shape).map(([key, field]) => [key, strip(field as z.ZodType)])),
      );
      // `extend` makes a new schema: its description (docs, editor tooltips) is carried over by hand.
      const meta = z.globalRegistry.get(object);
      return meta ? stripped.meta(meta) : stripped;
    }
    default:
      return schema;
  }
}

/** `over` laid on `base`, both layers parsed by `overridesOf(schema)`; neither is changed. */
export function mergeOverrides<T>(schema: z.ZodType, base: T, over: T): T {
  return merge(schema, base, over) as T;
}

function merge(schema: z.ZodType | undefined, base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base === undefined || base === null || over === null) return over;
  const { rule, core } = inspect(schema);
  if (rule === 'append' && Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  if (rule === 'whole' || !isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const merged = merge(childSchema(core, key), base[key], value);
    if (merged !== undefined) out[key] = merged;
  }
  return out;
}

/** The merge rule registered on `schema` or on what it wraps, and the innermost schema. */
function inspect(schema: z.ZodType | undefined): { rule: 'append' | 'whole' | undefined; core: z.ZodType | undefined } {
  let node = schema;
  while (node) {
    const rule = mergeRule.get(node)?.merge;
    if (rule) return { rule, core: node };
    const def = node._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    const inner = def.innerType ?? def.in;
    if (!inner) break;
    node = inner;
  }
  return { rule: undefined, core: node };
}

function childSchema(schema: z.ZodType | undefined, key: string): z.ZodType | undefined {
  if (schema instanceof z.ZodObject) return schema.shape[key] as z.ZodType | undefined;
  if (schema instanceof z.ZodRecord) return schema.valueType as z.ZodType;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
