import {
  getDirectiveValues,
  getNamedType,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLError,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { tesseraError } from '../errors/tessera-error.ts';

/**
 * The one analysis of an operation that every policy reads (part of the policy contract, with
 * policy.ts). It is built once per (document, operation, supergraph generation) and cached by the
 * gateway; a request gets a cheap per-request view (`OperationAnalysis`) holding its variables and
 * its work counter.
 *
 * Bounded work, stated once: the document is never expanded. Each fragment definition becomes one
 * shared `SelectionSetInfo`, built once; every measure of a selection set (expanded field count,
 * depth, aliases, fields per level, directives) is computed from its selections' own measures, and
 * a spread adds its fragment's memoized measures. So building the analysis visits every selection
 * of the operation and of the fragments it reaches exactly once: time and memory are linear in the
 * document's token count, whatever the expansion would be (a 2^20 fragment chain of ~220 tokens
 * costs ~60 visits, and its expanded field count, 2^20 + 1, is computed, not walked). Counts are
 * plain doubles: they grow to 1e308 and then to Infinity, which is still "over the limit", so no
 * document can wrap a count into something small.
 *
 * A policy that needs per-position facts (authorization: response paths, where a null lands) must
 * call `assertExpandable()` first: it refuses with MAX_EXPANDED_FIELDS_EXCEEDED above
 * `policies.operationLimits.maxExpandedFields`, whatever order the policies run in. Everything
 * else (the limits, cost) is folded over the shared selection sets with per-set memos.
 */

/** A field selection, resolved against the schema once. */
export interface FieldSelection {
  readonly kind: 'field';
  readonly node: FieldNode;
  readonly name: string;
  /** Alias or name: the key in the response. */
  readonly responseKey: string;
  /** The type it is selected on (a fragment's type condition inside a fragment). */
  readonly parentType: GraphQLCompositeType;
  /** The schema field; the meta fields (`__typename`, `__schema`, `__type`) included. Null only for a field the schema lacks. */
  readonly def: GraphQLField<unknown, unknown> | null;
  /** Carries `@skip` or `@include`: ask `OperationAnalysis.included`. */
  readonly conditional: boolean;
  readonly selectionSet: SelectionSetInfo | null;
}

/** An inline fragment or a fragment spread; a spread's `selectionSet` is its definition's, shared by every spread of it. */
export interface FragmentSelection {
  readonly kind: 'fragment';
  readonly node: InlineFragmentNode | FragmentSpreadNode;
  /** The spread fragment's name; null for an inline fragment. */
  readonly fragmentName: string | null;
  /** Null for an inline fragment without a type condition. */
  readonly typeCondition: GraphQLCompositeType | null;
  readonly conditional: boolean;
  readonly selectionSet: SelectionSetInfo;
}

export type Selection = FieldSelection | FragmentSelection;

/** One selection set of the document (the operation's, a field's, an inline fragment's, or a fragment definition's). */
export interface SelectionSetInfo {
  readonly node: SelectionSetNode;
  /** The type its selections are selected on. */
  readonly type: GraphQLCompositeType;
  readonly selections: readonly Selection[];
  /** Field selections once every fragment is expanded (nested ones included). */
  readonly expandedFields: number;
  /** Deepest field nesting below and including this level (a leaf field is 1). */
  readonly depth: number;
  /** Aliased fields, expanded. */
  readonly aliases: number;
  /** Most directives on one field, anywhere below. */
  readonly maxDirectivesPerField: number;
  /** Fields at this level, through fragments, expanded (the root fields, for the operation's set). */
  readonly levelFields: number;
  /** Selects `__schema` or `__type` at this level (through fragments). */
  readonly levelIntrospection: boolean;
}

/** What one supergraph generation contributes to every analysis: the schema and the `@requires` selections. */
export interface AnalysisGeneration {
  readonly schema: GraphQLSchema;
  /** `Type.field` → the selection its `@join__field(requires:)` needs on `Type`, resolved against the API schema. */
  readonly requires: ReadonlyMap<string, SelectionSetInfo>;
}

/** The per-request view every policy receives as `OperationPhase.analysis`. */
export interface OperationAnalysis {
  /** The same object for every request of this document, operation and generation: key per-document caches (WeakMap) with it. */
  readonly id: object;
  readonly schema: GraphQLSchema;
  readonly operation: OperationDefinitionNode;
  /** The document's fragment definitions by name. */
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly rootType: GraphQLObjectType;
  readonly root: SelectionSetInfo;
  readonly requires: ReadonlyMap<string, SelectionSetInfo>;
  /** Field selections after fragment expansion, counted without expanding. */
  readonly expandedFields: number;
  readonly depth: number;
  readonly aliases: number;
  readonly rootFields: number;
  readonly maxDirectivesPerField: number;
  /** Selects `__schema` or `__type` at the root. */
  readonly introspection: boolean;
  /** Variables coerced against the operation's definitions, defaults applied. Throws BAD_USER_INPUT when they do not coerce. */
  readonly variableValues: Readonly<Record<string, unknown>>;
  /** Whether `@skip`/`@include` on this selection keep it, for this request's variables (graphql-js's own evaluation). */
  included(selection: Selection): boolean;
  /** Response keys of a selection set in query order, through its fragments (computed once per set). */
  responseKeys(set: SelectionSetInfo): readonly string[];
  /** Throws MAX_EXPANDED_FIELDS_EXCEEDED when the expansion is over the limit: call it before any per-position walk. */
  assertExpandable(): void;
  /** Selection nodes visited for this request: building the analysis (0 when it was cached) plus what policies report. */
  readonly nodesVisited: number;
  /** Whether the analysis came from the cache. */
  readonly cached: boolean;
  /** A policy walking the analysis reports its visits here, so the work of a request is one number. */
  countVisits(n: number): void;
}

/** The shared part, cached per generation. */
export interface AnalysisCore {
  readonly generation: AnalysisGeneration;
  readonly operation: OperationDefinitionNode;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly rootType: GraphQLObjectType;
  readonly root: SelectionSetInfo;
  /** Selection nodes visited to build it. */
  readonly buildNodes: number;
  readonly keys: Map<SelectionSetInfo, readonly string[]>;
}

/** Caps a count for messages and JSON (Infinity would serialize as null). */
export const finite = (n: number): number => (Number.isFinite(n) ? n : Number.MAX_VALUE);

export function expandedFieldsError(count: number, max: number): GraphQLError {
  return tesseraError(
    'MAX_EXPANDED_FIELDS_EXCEEDED',
    `Operation selects ${finite(count)} fields once its fragments are expanded; the maximum is ${max}.`,
    {
      extensions: { expandedFields: finite(count), max },
    },
  );
}

const EMPTY: readonly Selection[] = [];

class Builder {
  nodes = 0;
  private readonly schema: GraphQLSchema;
  private readonly definitions: ReadonlyMap<string, FragmentDefinitionNode>;
  private readonly fragments = new Map<string, SelectionSetInfo | null>();
  constructor(schema: GraphQLSchema, definitions: ReadonlyMap<string, FragmentDefinitionNode>) {
    this.schema = schema;
    this.definitions = definitions;
  }

  set(node: SelectionSetNode, type: GraphQLCompositeType): SelectionSetInfo {
    const selections: Selection[] = [];
    let expandedFields = 0;
    let depth = 0;
    let aliases = 0;
    let maxDirectivesPerField = 0;
    let levelFields = 0;
    let levelIntrospection = false;
    for (const sel of node.selections) {
      this.nodes++;
      const conditional = sel.directives?.some((d) => d.name.value === 'skip' || d.name.value === 'include') ?? false;
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        const def = fieldDef(this.schema, type, name);
        const named = def ? getNamedType(def.type) : null;
        // A field the schema lacks (validation refuses those; a `@requires` may name one the API schema hides) is left out.
        if (!def || !named) continue;
        const child = sel.selectionSet && isCompositeType(named) ? this.set(sel.selectionSet, named) : null;
        selections.push({
          kind: 'field',
          node: sel,
          name,
          responseKey: sel.alias?.value ?? name,
          parentType: type,
          def,
          conditional,
          selectionSet: child,
        });
        expandedFields += 1 + (child?.expandedFields ?? 0);
        depth = Math.max(depth, 1 + (child?.depth ?? 0));
        aliases += (sel.alias ? 1 : 0) + (child?.aliases ?? 0);
        maxDirectivesPerField = Math.max(
          maxDirectivesPerField,
          sel.directives?.length ?? 0,
          child?.maxDirectivesPerField ?? 0,
        );
        levelFields += 1;
        // They resolve on the query type only (fieldDef), so this is the root level.
        if (name === '__schema' || name === '__type') levelIntrospection = true;
        continue;
      }
      let inner: SelectionSetInfo | null;
      let typeCondition: GraphQLCompositeType | null = null;
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        typeCondition = sel.typeCondition ? compositeType(this.schema, sel.typeCondition.name.value) : null;
        inner = this.set(sel.selectionSet, typeCondition ?? type);
      } else {
        inner = this.fragment(sel.name.value);
        typeCondition = inner?.type ?? null;
      }
      if (!inner) continue;
      selections.push({
        kind: 'fragment',
        node: sel,
        fragmentName: sel.kind === Kind.FRAGMENT_SPREAD ? sel.name.value : null,
        typeCondition,
        conditional,
        selectionSet: inner,
      });
      expandedFields += inner.expandedFields;
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
      maxDirectivesPerField = Math.max(maxDirectivesPerField, inner.maxDirectivesPerField);
      levelFields += inner.levelFields;
      levelIntrospection ||= inner.levelIntrospection;
    }
    return {
      node,
      type,
      selections: selections.length ? selections : EMPTY,
      expandedFields,
      depth,
      aliases,
      maxDirectivesPerField,
      levelFields,
      levelIntrospection,
    };
  }

  /** Built once per name, whatever the number of spreads. */
  private fragment(name: string): SelectionSetInfo | null {
    if (this.fragments.has(name)) return this.fragments.get(name)!;
    const def = this.definitions.get(name);
    // Validation refuses unknown fragments and cycles; this only keeps a bad document from recursing.
    this.fragments.set(name, null);
    const type = def ? compositeType(this.schema, def.typeCondition.name.value) : null;
    const built = def && type ? this.set(def.selectionSet, type) : null;
    this.fragments.set(name, built);
    return built;
  }
}

function compositeType(schema: GraphQLSchema, name: string): GraphQLCompositeType | null {
  const t = schema.getType(name);
  return t && isCompositeType(t) ? t : null;
}

/** As graphql-js's TypeInfo resolves it, meta fields included. */
function fieldDef(
  schema: GraphQLSchema,
  parent: GraphQLCompositeType,
  name: string,
): GraphQLField<unknown, unknown> | null {
  if (name === '__typename') return TypeNameMetaFieldDef;
  if ((name === '__schema' || name === '__type') && schema.getQueryType() === parent)
    return name === '__schema' ? SchemaMetaFieldDef : TypeMetaFieldDef;
  if (isObjectType(parent) || isInterfaceType(parent)) return parent.getFields()[name] ?? null;
  return null;
}

/**
 * Reads `@join__field(requires: "…")` from the supergraph (once per generation): the fields the
 * query plan fetches from another subgraph before it can resolve the field. The `join` spec may be
 * renamed with `@link(as:)`.
 */
export function analysisGeneration(schema: GraphQLSchema, supergraph: DocumentNode | null): AnalysisGeneration {
  const requires = new Map<string, SelectionSetInfo>();
  if (!supergraph) return { schema, requires };
  let join = 'join';
  for (const def of supergraph.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      const url = d.arguments?.find((a) => a.name.value === 'url')?.value;
      const as = d.arguments?.find((a) => a.name.value === 'as')?.value;
      if (
        d.name.value === 'link' &&
        url?.kind === Kind.STRING &&
        url.value.startsWith('https://specs.apollo.dev/join/') &&
        as?.kind === Kind.STRING
      )
        join = as.value;
    }
  }
  const directive = `${join}__field`;
  const builder = new Builder(schema, new Map());
  for (const def of supergraph.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const owner = compositeType(schema, def.name.value);
    if (!owner) continue;
    for (const f of def.fields ?? []) {
      const fieldSets = (f.directives ?? []).flatMap((d) => {
        const v = d.name.value === directive ? d.arguments?.find((a) => a.name.value === 'requires')?.value : undefined;
        return v?.kind === Kind.STRING && v.value.trim() ? [v.value] : [];
      });
      if (!fieldSets.length) continue;
      try {
        const op = parse(`{ ${fieldSets.join(' ')} }`, { noLocation: true }).definitions[0] as OperationDefinitionNode;
        requires.set(`${owner.name}.${f.name.value}`, builder.set(op.selectionSet, owner));
      } catch {
        // Composition validated the field set; one this parser cannot read simply adds no cost.
      }
    }
  }
  return { schema, requires };
}

/** Builds the shared analysis of one operation of a validated document. Null when the schema has no root type for it. */
export function analyzeOperation(
  generation: AnalysisGeneration,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): AnalysisCore | null {
  const rootType = generation.schema.getRootType(operation.operation);
  if (!rootType) return null;
  const definitions = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION && !definitions.has(d.name.value)) definitions.set(d.name.value, d);
  const builder = new Builder(generation.schema, definitions);
  const root = builder.set(operation.selectionSet, rootType);
  return { generation, operation, fragments: definitions, rootType, root, buildNodes: builder.nodes, keys: new Map() };
}

/** The view of a shared analysis for one request. */
export class RequestAnalysis implements OperationAnalysis {
  readonly id: object;
  readonly schema: GraphQLSchema;
  readonly operation: OperationDefinitionNode;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly rootType: GraphQLObjectType;
  readonly root: SelectionSetInfo;
  readonly requires: ReadonlyMap<string, SelectionSetInfo>;
  readonly expandedFields: number;
  readonly depth: number;
  readonly aliases: number;
  readonly rootFields: number;
  readonly maxDirectivesPerField: number;
  readonly introspection: boolean;
  readonly cached: boolean;
  private visits: number;
  private readonly core: AnalysisCore;
  private readonly rawVariables: Readonly<Record<string, unknown>>;
  private readonly maxExpandedFields: number;
  private coerced: Readonly<Record<string, unknown>> | null = null;

  constructor(
    core: AnalysisCore,
    opts: { variables: Readonly<Record<string, unknown>>; cached: boolean; maxExpandedFields: number },
  ) {
    this.core = core;
    this.id = core;
    this.schema = core.generation.schema;
    this.operation = core.operation;
    this.fragments = core.fragments;
    this.rootType = core.rootType;
    this.root = core.root;
    this.requires = core.generation.requires;
    this.expandedFields = core.root.expandedFields;
    this.depth = core.root.depth;
    this.aliases = core.root.aliases;
    this.rootFields = core.root.levelFields;
    this.maxDirectivesPerField = core.root.maxDirectivesPerField;
    this.introspection = core.root.levelIntrospection;
    this.cached = opts.cached;
    this.visits = opts.cached ? 0 : core.buildNodes;
    this.rawVariables = opts.variables;
    this.maxExpandedFields = opts.maxExpandedFields;
  }

  get nodesVisited(): number {
    return this.visits;
  }

  countVisits(n: number): void {
    this.visits += n;
  }

  get variableValues(): Readonly<Record<string, unknown>> {
    if (this.coerced) return this.coerced;
    const result = getVariableValues(
      this.schema,
      this.operation.variableDefinitions ?? [],
      this.rawVariables as Record<string, unknown>,
      { maxErrors: 1 },
    );
    if (result.errors) throw tesseraError('BAD_USER_INPUT', result.errors[0]!.message);
    return (this.coerced = result.coerced);
  }

  included(selection: Selection): boolean {
    if (!selection.conditional) return true;
    const vars = this.variableValues as Record<string, unknown>;
    if (getDirectiveValues(GraphQLSkipDirective, selection.node, vars)?.['if'] === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, selection.node, vars)?.['if'] !== false;
  }

  responseKeys(set: SelectionSetInfo): readonly string[] {
    const memo = this.core.keys;
    const known = memo.get(set);
    if (known) return known;
    const out = new Set<string>();
    for (const sel of set.selections) {
      this.visits++;
      if (sel.kind === 'field') out.add(sel.responseKey);
      else for (const k of this.responseKeys(sel.selectionSet)) out.add(k);
    }
    const keys = [...out];
    memo.set(set, keys);
    return keys;
  }

  assertExpandable(): void {
    if (this.expandedFields > this.maxExpandedFields)
      throw expandedFieldsError(this.expandedFields, this.maxExpandedFields);
  }
}
