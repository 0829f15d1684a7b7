import {
  getNamedType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { z } from 'zod';

/**
 * How a type of a plain GraphQL service is merged with the same type elsewhere in the graph: the
 * keys of `@graphql-tools/stitch`'s `MergedTypeConfig`, written as data instead of functions.
 */
export const mergedTypeSchema = z.strictObject({
  selectionSet: z
    .string()
    .min(2)
    .describe(
      'The key fields, as a selection set (`"{ upc }"`, `"{ sku variant }"`): they become `@key(fields: …)` in the composed subgraph.',
    ),
  fieldName: z
    .string()
    .min(1)
    .describe(
      'The Query field of the service that returns the type by its key (`productsByUpc`). Unset: the service only refers to the type, it cannot be asked for it (`@key(…, resolvable: false)`).',
    )
    .optional(),
  key: z
    .string()
    .min(1)
    .describe('With `argsFromKeys`: the key field whose values are passed (default: the one field of `selectionSet`).')
    .optional(),
  argsFromKeys: z
    .union([z.string().min(1), z.literal(true), z.null()])
    .describe(
      'Batched: one call for all keys, the list of keys passed in this argument of `fieldName` (`true` or no value: its only argument).',
    )
    .optional(),
  args: z
    .record(z.string(), z.string())
    .describe(
      'Not batched (one call per key, in one request): argument of `fieldName` → key field it gets (default: its only argument gets the one key field).',
    )
    .optional(),
});
export type MergedTypeSpec = z.output<typeof mergedTypeSchema>;

/** What the gateway needs to serve a plain service as a subgraph: its own SDL and the merge config. */
export const descriptorSchema = z.strictObject({
  v: z.literal(1),
  sdl: z.string(),
  merge: z.record(z.string(), mergedTypeSchema),
});
export type StitchedSourceDescriptor = z.output<typeof descriptorSchema>;

/** A merge config checked against the service's schema; functions of stitch's `MergedTypeConfig` are built from it. */
export interface ResolvedMerge {
  readonly typeName: string;
  /** Top-level key fields, in the order of `selectionSet`. */
  readonly keyFields: readonly string[];
  /** The selection set text without its braces (what `@key(fields:)` takes). */
  readonly fields: string;
  readonly selectionSet: string;
  readonly resolver:
    | { readonly kind: 'batched'; readonly fieldName: string; readonly keyField: string | null; readonly arg: string }
    | { readonly kind: 'single'; readonly fieldName: string; readonly args: Readonly<Record<string, string>> }
    | null;
}

/**
 * Checks each merged type against the service's schema. A problem is a sentence naming the config
 * key (`merge.Product.fieldName`); the caller names the source.
 */
export function resolveMerge(
  schema: GraphQLSchema,
  merge: Readonly<Record<string, MergedTypeSpec>>,
): { merged: ResolvedMerge[]; problems: string[] } {
  const problems: string[] = [];
  const merged: ResolvedMerge[] = [];
  for (const [typeName, spec] of Object.entries(merge)) {
    const at = `merge.${typeName}`;
    const type = schema.getType(typeName);
    if (!isObjectType(type)) {
      problems.push(`${at}: the service has no object type "${typeName}"`);
      continue;
    }
    const keyFields = keyFieldsOf(type, spec.selectionSet, `${at}.selectionSet`, problems);
    if (!keyFields) continue;
    const fields = keyFields.join(' ');
    let resolver: ResolvedMerge['resolver'] = null;
    if (spec.fieldName !== undefined) {
      const field = schema.getQueryType()?.getFields()[spec.fieldName];
      if (!field) {
        problems.push(`${at}.fieldName: the service has no field Query.${spec.fieldName}`);
        continue;
      }
      if (getNamedType(field.type) !== type) {
        problems.push(`${at}.fieldName: Query.${spec.fieldName} returns ${String(field.type)}, not ${typeName}`);
        continue;
      }
      resolver = resolverOf(spec, field, keyFields, at, problems);
      if (!resolver) continue;
    } else if (spec.argsFromKeys !== undefined || spec.args || spec.key) {
      problems.push(`${at}: argsFromKeys, args and key need fieldName`);
      continue;
    }
    merged.push({ typeName, keyFields, fields, selectionSet: spec.selectionSet, resolver });
  }
  return { merged, problems };
}

function keyFieldsOf(type: GraphQLObjectType, text: string, at: string, problems: string[]): string[] | null {
  let selection: SelectionSetNode;
  try {
    const doc = parse(text.trim().startsWith('{') ? text : `{ ${text} }`, { noLocation: true });
    const op = doc.definitions[0];
    if (doc.definitions.length !== 1 || op?.kind !== Kind.OPERATION_DEFINITION) throw new Error('one selection set');
    selection = op.selectionSet;
  } catch {
    problems.push(`${at}: "${text}" is not a selection set`);
    return null;
  }
  const names: string[] = [];
  for (const s of selection.selections) {
    // Key fields are what the gateway hands back in `_entities` representations: leaves of the type itself.
    const field = s.kind === Kind.FIELD ? type.getFields()[s.name.value] : undefined;
    if (s.kind !== Kind.FIELD || s.alias || s.arguments?.length || s.selectionSet || !field) {
      problems.push(`${at}: "${text}" must list fields of ${type.name} without aliases, arguments or sub-selections`);
      return null;
    }
    if (!isLeafType(getNamedType(field.type))) {
      problems.push(`${at}: key field ${type.name}.${field.name} must be a scalar or an enum`);
      return null;
    }
    names.push(field.name);
  }
  if (!names.length) problems.push(`${at}: no key field`);
  return names.length ? names : null;
}

function resolverOf(
  spec: MergedTypeSpec,
  field: GraphQLField<unknown, unknown>,
  keyFields: readonly string[],
  at: string,
  problems: string[],
): ResolvedMerge['resolver'] {
  const fieldName = field.name;
  const onlyArg = field.args.length === 1 ? field.args[0]!.name : null;
  if (spec.argsFromKeys !== undefined) {
    const arg = typeof spec.argsFromKeys === 'string' ? spec.argsFromKeys : onlyArg;
    const def = field.args.find((a) => a.name === arg);
    if (!arg || !def) {
      problems.push(
        `${at}.argsFromKeys: ${arg ? `Query.${fieldName} has no argument "${arg}"` : `Query.${fieldName} has ${field.args.length} arguments; name the one that takes the keys`}`,
      );
      return null;
    }
    const listType = isNonNullType(def.type) ? def.type.ofType : def.type;
    if (!isListType(listType)) {
      problems.push(`${at}.argsFromKeys: argument "${arg}" of Query.${fieldName} is ${String(def.type)}, not a list`);
      return null;
    }
    const listOut = isNonNullType(field.type) ? field.type.ofType : field.type;
    if (!isListType(listOut)) {
      problems.push(`${at}.fieldName: a batched Query.${fieldName} must return a list, not ${String(field.type)}`);
      return null;
    }
    const keyField = spec.key ?? (keyFields.length === 1 ? keyFields[0]! : null);
    if (keyField !== null && !keyFields.includes(keyField)) {
      problems.push(`${at}.key: "${keyField}" is not one of the key fields (${keyFields.join(', ')})`);
      return null;
    }
    return { kind: 'batched', fieldName, keyField, arg };
  }
  const args: Record<string, string> =
    spec.args ?? (onlyArg && keyFields.length === 1 ? { [onlyArg]: spec.key ?? keyFields[0]! } : {});
  if (!Object.keys(args).length) {
    problems.push(`${at}.args: Query.${fieldName} has ${field.args.length} arguments; say which key field each gets`);
    return null;
  }
  for (const [arg, keyField] of Object.entries(args)) {
    if (!field.args.some((a) => a.name === arg)) {
      problems.push(`${at}.args: Query.${fieldName} has no argument "${arg}"`);
      return null;
    }
    if (!keyFields.includes(keyField)) {
      problems.push(`${at}.args.${arg}: "${keyField}" is not one of the key fields (${keyFields.join(', ')})`);
      return null;
    }
  }
  return { kind: 'single', fieldName, args };
}

/**
 * The descriptor travels inside the SDLs as one comment line: composition drops comments, so
 * `composeSupergraph` carries the line from the subgraph SDL to the end of the supergraph SDL,
 * where the gateway reads it. Both engines parse the supergraph and ignore it; the file source,
 * the registry (which stores and composes subgraph SDLs as text) and `subgraph check` pass it on
 * unchanged.
 */
const SUBGRAPH_LINE = /^# tessera:stitched-source v1 ([A-Za-z0-9_-]+)$/m;
const SUPERGRAPH_LINES = /^# tessera:stitched-source ([A-Za-z_][\w-]*) v1 ([A-Za-z0-9_-]+)$/gm;

export function descriptorLine(d: StitchedSourceDescriptor): string {
  return `# tessera:stitched-source v1 ${Buffer.from(JSON.stringify(d)).toString('base64url')}`;
}

/** The descriptor line of a subgraph SDL, as the supergraph carries it (with the subgraph's name), or null. */
export function supergraphDescriptorLine(subgraph: string, subgraphSdl: string): string | null {
  const m = SUBGRAPH_LINE.exec(subgraphSdl);
  return m ? `# tessera:stitched-source ${subgraph} v1 ${m[1]}` : null;
}

/** Descriptors of the stitched sources of a supergraph, by subgraph name; a malformed one is an error (by name). */
export function stitchedSourcesOf(supergraphSdl: string): Map<string, StitchedSourceDescriptor | Error> {
  const out = new Map<string, StitchedSourceDescriptor | Error>();
  for (const m of supergraphSdl.matchAll(SUPERGRAPH_LINES)) {
    try {
      out.set(m[1]!, descriptorSchema.parse(JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8'))));
    } catch (err) {
      out.set(m[1]!, new Error(`malformed stitched-source descriptor: ${(err as Error).message.slice(0, 300)}`));
    }
  }
  return out;
}
