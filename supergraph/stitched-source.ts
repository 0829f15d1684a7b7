import {
  buildASTSchema,
  buildClientSchema,
  getIntrospectionQuery,
  Kind,
  parse,
  printSchema,
  type ASTNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { descriptorLine, resolveMerge, type MergedTypeSpec } from '../gateway/stitched-sources/descriptor.ts';

/** `kind: graphql` in supergraph.yaml: how a plain GraphQL service joins the graph. */
export interface StitchSpec {
  readonly merge: Readonly<Record<string, MergedTypeSpec>>;
  /** Schema coordinate (`Type` or `Type.field`) → directives to attach there (`@cost(weight: 5)`). */
  readonly directives: Readonly<Record<string, readonly string[]>>;
}

/** Problems of one stitched source, each a sentence naming the config key; `source` is the subgraph's name. */
export class StitchedSourceError extends Error {
  readonly source: string;
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`subgraph "${source}" (kind graphql): ${problems.join('; ')}`);
    this.source = source;
    this.problems = problems;
  }
}

/** How the CLI reports one: a line per problem, as composition errors are reported. */
export function formatStitchedSourceError(err: StitchedSourceError): string {
  return err.problems.map((p) => `error[STITCHED_SOURCE_INVALID]: [${err.source}] ${p}\n`).join('');
}

const FEDERATION = 'https://specs.apollo.dev/federation/v2.9';
/** Federation 2.9 directives config may attach (what a service would write if it spoke federation). */
const ATTACHABLE = new Set([
  'shareable',
  'inaccessible',
  'tag',
  'override',
  'authenticated',
  'requiresScopes',
  'policy',
  'cost',
  'listSize',
]);

/**
 * The federation subgraph SDL of a plain service: its own SDL with `@key` on each merged type
 * (`resolvable: false` where the service cannot be asked for it by key), the configured
 * directives, a federation `@link`, and the descriptor line the gateway serves it from.
 *
 * Edited as text, at the AST's offsets, so a composition error's line and column point into the
 * service's own schema file; the additions go at the end.
 */
export function stitchedSubgraphSdl(name: string, serviceSdl: string, spec: StitchSpec): string {
  let doc: DocumentNode;
  let schema: GraphQLSchema;
  try {
    doc = parse(serviceSdl);
    schema = buildASTSchema(doc);
  } catch (err) {
    throw new StitchedSourceError(name, [`its schema is not valid GraphQL SDL: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const root = schema.getQueryType()?.getFields();
  if (root?.['_entities'] || root?.['_service'])
    problems.push('the service has `_entities`/`_service`: it speaks federation, join it as a federation subgraph');
  const { merged, problems: mergeProblems } = resolveMerge(schema, spec.merge);
  problems.push(...mergeProblems);

  const edits: Array<{ at: number; text: string }> = [];
  const imports = new Set<string>(['@key']);
  for (const m of merged) {
    const def = typeDefinition(doc, m.typeName);
    if (!def) continue;
    edits.push({
      at: afterTypeHeader(def),
      text: ` @key(fields: "${m.fields}"${m.resolver ? '' : ', resolvable: false'})`,
    });
  }
  for (const [coordinate, directives] of Object.entries(spec.directives)) {
    const at = `directives.${coordinate}`;
    const m = /^([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?$/.exec(coordinate);
    const def = m ? typeDefinition(doc, m[1]!) : null;
    if (!m || !def) {
      problems.push(`${at}: the service has no type "${m?.[1] ?? coordinate}"`);
      continue;
    }
    let offset = afterTypeHeader(def);
    if (m[2]) {
      const fields = 'fields' in def ? (def.fields as ReadonlyArray<FieldLike> | undefined) : undefined;
      const field = fields?.find((f) => f.name.value === m[2]);
      if (!field) {
        problems.push(`${at}: the service has no field ${coordinate}`);
        continue;
      }
      offset = end(field.defaultValue ?? field.type);
    }
    const texts: string[] = [];
    for (const d of directives) {
      const names = directiveNames(d);
      if (!names) {
        problems.push(`${at}: "${d}" is not a directive`);
        continue;
      }
      const unknown = names.filter((n) => !ATTACHABLE.has(n));
      if (unknown.length) {
        problems.push(
          `${at}: @${unknown[0]} cannot be attached (one of ${[...ATTACHABLE].map((n) => `@${n}`).join(', ')})`,
        );
        continue;
      }
      for (const n of names) imports.add(`@${n}`);
      texts.push(d.trim());
    }
    if (texts.length) edits.push({ at: offset, text: ` ${texts.join(' ')}` });
  }
  if (problems.length) throw new StitchedSourceError(name, problems);

  let sdl = serviceSdl;
  for (const e of edits.sort((a, b) => b.at - a.at)) sdl = sdl.slice(0, e.at) + e.text + sdl.slice(e.at);
  return (
    `${sdl.trimEnd()}\n\n` +
    `extend schema @link(url: "${FEDERATION}", import: [${[...imports].map((i) => `"${i}"`).join(', ')}])\n` +
    `${descriptorLine({ v: 1, sdl: serviceSdl, merge: { ...spec.merge } })}\n`
  );
}

interface FieldLike {
  readonly name: { readonly value: string };
  readonly type: ASTNode;
  readonly defaultValue?: ASTNode;
}

function typeDefinition(doc: DocumentNode, name: string): DefinitionNode | null {
  return (
    doc.definitions.find(
      (d) =>
        'name' in d &&
        d.name?.value === name &&
        [
          Kind.OBJECT_TYPE_DEFINITION,
          Kind.INTERFACE_TYPE_DEFINITION,
          Kind.UNION_TYPE_DEFINITION,
          Kind.ENUM_TYPE_DEFINITION,
          Kind.INPUT_OBJECT_TYPE_DEFINITION,
          Kind.SCALAR_TYPE_DEFINITION,
        ].includes(d.kind),
    ) ?? null
  );
}

/** Where a type's directives go: after its name and `implements` list. */
function afterTypeHeader(def: DefinitionNode): number {
  const d = def as { name: ASTNode; interfaces?: readonly ASTNode[] };
  return end(d.interfaces?.at(-1) ?? d.name);
}

function end(node: ASTNode): number {
  return node.loc!.end;
}

/** The directive names of `@a(x: 1) @b`, or null when the text is anything else. */
function directiveNames(text: string): string[] | null {
  try {
    const def = parse(`scalar X ${text}`).definitions;
    if (def.length !== 1 || def[0]!.kind !== Kind.SCALAR_TYPE_DEFINITION) return null;
    const names = (def[0].directives ?? []).map((d) => d.name.value);
    return names.length ? names : null;
  } catch {
    return null;
  }
}

/** The SDL of a plain service from its introspection (it has no `_service { sdl }`). */
export async function introspectSdl(name: string, url: string, timeoutMs = 10_000): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true }) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new Error(`subgraph "${name}": cannot introspect ${url} (${cause})`);
  }
  const body = (await res.json().catch(() => null)) as { data?: IntrospectionQuery } | null;
  if (!res.ok || !body?.data?.__schema) {
    throw new Error(`subgraph "${name}": ${url} answered ${res.status} without an introspection result`);
  }
  try {
    return printSchema(buildClientSchema(body.data));
  } catch (err) {
    throw new Error(
      `subgraph "${name}": the introspection result of ${url} is not a schema: ${(err as Error).message}`,
    );
  }
}
