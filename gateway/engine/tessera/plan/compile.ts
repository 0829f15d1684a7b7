import { Kind, parse, print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type {
  FetchNodePathSegment,
  FetchRewrite,
  FlattenNodePathSegment,
  PlanNode,
  QueryPlan,
  RequiresSelection,
} from '@graphql-hive/router-query-planner';
import { TesseraError } from '../../../errors/tessera-error.ts';
import { failurePath } from '../../../subgraph-client/error-path.ts';
import type { OperationType } from '../../../subgraph-client/fetch.ts';
import type { SupergraphInfo } from './supergraph.ts';

/**
 * A query plan from the planner, compiled once per cached plan: every fetch's operation parsed
 * once, paths and `requires` turned into small trees the executor walks without string tests, and
 * what a failure reports precomputed. The executor (execute.ts) runs these per request.
 */
export type ExecNode =
  | { readonly kind: 'sequence'; readonly nodes: readonly ExecNode[] }
  | { readonly kind: 'parallel'; readonly nodes: readonly ExecNode[] }
  | {
      readonly kind: 'condition';
      readonly variable: string;
      readonly then: ExecNode | null;
      readonly otherwise: ExecNode | null;
    }
  /** A fetch whose answer merges at the root of the response (root fields of a query or mutation). */
  | { readonly kind: 'root'; readonly fetch: CompiledFetch }
  /** An `_entities` fetch (Flatten + Fetch with `requires`, or BatchFetch): each input is one aliased `_entities`. */
  | { readonly kind: 'entities'; readonly fetch: CompiledFetch; readonly inputs: readonly EntityInput[] };

export interface CompiledFetch {
  readonly serviceName: string;
  readonly url: string;
  readonly query: string;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly operationType: OperationType;
  readonly variableUsages: readonly string[];
  /** Where a whole-fetch failure is reported, in the subgraph's own response shape. */
  readonly failurePath: ReadonlyArray<string | number> | undefined;
  /** A root fetch's response keys: a failure of the fetch explains a null in any of them. */
  readonly rootKeys: readonly string[];
}

/** One `_entities` selection of a fetch: where its entities are, and how each becomes a representation. */
export interface EntityInput {
  /** The response key of `_entities` in the fetch (`_entities`, or a BatchFetch alias). */
  readonly responseKey: string;
  readonly variable: string;
  readonly paths: ReadonlyArray<readonly PathSegment[]>;
  readonly requires: readonly RequireNode[];
  readonly inputRewrites: readonly Rewrite[];
  readonly outputRewrites: readonly Rewrite[];
}

export type PathSegment =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'list' }
  | { readonly kind: 'types'; readonly types: readonly string[] };

export type RequireNode =
  | {
      readonly kind: 'field';
      /** Where the value is in the merged data (the planner's alias when it aliased the fetch). */
      readonly from: string;
      /** The key in the representation: the field's name as the subgraph knows it. */
      readonly key: string;
      readonly children: readonly RequireNode[] | null;
    }
  | { readonly kind: 'fragment'; readonly typeCondition: string; readonly children: readonly RequireNode[] };

export type RewriteStep =
  { readonly kind: 'key'; readonly key: string } | { readonly kind: 'typename'; readonly types: readonly string[] };
export type Rewrite =
  | { readonly kind: 'set'; readonly path: readonly RewriteStep[]; readonly value: string }
  | { readonly kind: 'rename'; readonly path: readonly RewriteStep[]; readonly to: string };

export interface CompiledPlan {
  readonly root: ExecNode | null;
}

/**
 * `operationName`: the client operation's name. The planner's fetches are anonymous; each one is
 * named `<operationName>__<subgraph>__<n>` (n: its position in the plan), as `@apollo/gateway`
 * names them, so a subgraph's logs, traces and metrics say which client operation a request
 * served. Without a client name the fetches stay anonymous.
 */
export function compilePlan(plan: QueryPlan, info: SupergraphInfo, operationName: string | null = null): CompiledPlan {
  const cx: Cx = { info, operationName, fetches: 0 };
  return { root: plan.node ? compileNode(plan.node, cx) : null };
}

interface Cx {
  readonly info: SupergraphInfo;
  readonly operationName: string | null;
  /** Fetches compiled so far: the next one's `n`. */
  fetches: number;
}

function compileNode(node: PlanNode, cx: Cx): ExecNode {
  switch (node.kind) {
    case 'Sequence':
      return { kind: 'sequence', nodes: node.nodes.map((n) => compileNode(n, cx)) };
    case 'Parallel':
      return { kind: 'parallel', nodes: node.nodes.map((n) => compileNode(n, cx)) };
    case 'Condition':
      return {
        kind: 'condition',
        variable: node.condition,
        then: node.ifClause ? compileNode(node.ifClause, cx) : null,
        otherwise: node.elseClause ? compileNode(node.elseClause, cx) : null,
      };
    case 'Fetch': {
      const fetch = compileFetch(node, cx, false);
      if (node.requires?.length)
        // A Fetch with `requires` outside a Flatten reads its entities at the root.
        return { kind: 'entities', fetch, inputs: [entityInput('_entities', 'representations', [[]], node)] };
      return { kind: 'root', fetch };
    }
    case 'Flatten': {
      const inner = node.node;
      if (inner.kind !== 'Fetch' || !inner.requires?.length)
        throw new Error(`unsupported plan: Flatten over ${inner.kind} without requires`);
      const fetch = compileFetch(inner, cx, true);
      return {
        kind: 'entities',
        fetch,
        inputs: [entityInput('_entities', 'representations', [compilePath(node.path)], inner)],
      };
    }
    case 'BatchFetch': {
      let fetch = compileFetch(node, cx, true);
      // failurePath names `_entities` by field name; in a batch it is answered under the first alias.
      const first = node.entityBatch.aliases[0]?.alias;
      if (first && fetch.failurePath?.[0] === '_entities')
        fetch = { ...fetch, failurePath: [first, ...fetch.failurePath.slice(1)] };
      return {
        kind: 'entities',
        fetch,
        inputs: node.entityBatch.aliases.map((a) =>
          entityInput(a.alias, a.representationsVariableName, a.paths.map(compilePath), a),
        ),
      };
    }
    case 'Defer':
      throw new TesseraError('BAD_REQUEST', '@defer is not supported by this engine');
    case 'Subscription':
      throw new TesseraError('SUBSCRIPTIONS_NOT_SUPPORTED', 'Subscriptions are not supported');
  }
}

function compileFetch(
  node: {
    serviceName: string;
    operation: string;
    operationName?: string;
    operationKind?: string;
    variableUsages?: string[];
  },
  cx: Cx,
  isEntityFetch: boolean,
): CompiledFetch {
  let document = parse(node.operation, { noLocation: true });
  let query = node.operation;
  let operationName = node.operationName ?? undefined;
  const n = cx.fetches++;
  let op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (op && !op.name && cx.operationName !== null) {
    operationName = `${cx.operationName}__${node.serviceName.replace(/[^_0-9A-Za-z]/g, '_')}__${n}`;
    op = { ...op, name: { kind: Kind.NAME, value: operationName } };
    document = {
      ...document,
      definitions: document.definitions.map((d) => (d.kind === Kind.OPERATION_DEFINITION ? op! : d)),
    };
    query = named(node.operation, operationName) ?? print(document);
  }
  const rootKeys: string[] = [];
  if (op)
    for (const s of op.selectionSet.selections)
      if (s.kind === Kind.FIELD && s.name.value !== '__typename') rootKeys.push(s.alias?.value ?? s.name.value);
  return {
    serviceName: node.serviceName,
    url: cx.info.subgraphs.get(node.serviceName) ?? '',
    query,
    document,
    operationName,
    operationType: node.operationKind === 'mutation' ? 'mutation' : 'query',
    variableUsages: node.variableUsages ?? [],
    failurePath: failurePath(query, document, isEntityFetch),
    rootKeys,
  };
}

/**
 * The planner's compact text with `name` given to its (anonymous, first) operation, or null when
 * the text does not start with it. Textual, so what is sent stays the planner's compact text.
 */
function named(text: string, name: string): string | null {
  const m = /^\s*(query|mutation)?\s*(?=[({])/.exec(text);
  if (!m) return null;
  return `${m[1] ?? 'query'} ${name}${text.slice(m[0].length)}`;
}

function entityInput(
  responseKey: string,
  variable: string,
  paths: PathSegment[][],
  node: { requires?: RequiresSelection[]; inputRewrites?: FetchRewrite[]; outputRewrites?: FetchRewrite[] },
): EntityInput {
  return {
    responseKey,
    variable,
    paths,
    requires: compileRequires(node.requires ?? []),
    inputRewrites: (node.inputRewrites ?? []).map(compileRewrite),
    outputRewrites: (node.outputRewrites ?? []).map(compileRewrite),
  };
}

export function compilePath(path: readonly FlattenNodePathSegment[]): PathSegment[] {
  return path.map((s): PathSegment => {
    if (s === '@') return { kind: 'list' };
    if ('Field' in s) return { kind: 'field', name: s.Field };
    if ('TypeCondition' in s) return { kind: 'types', types: s.TypeCondition };
    throw new Error(`unsupported flatten path segment ${JSON.stringify(s)}`);
  });
}

export function compileRequires(sels: readonly RequiresSelection[]): RequireNode[] {
  const out: RequireNode[] = [];
  for (const s of sels) {
    if (s.kind === 'Field') {
      // `name` is where the value is in the merged data (the planner's internal alias when it had to alias the
      // field in an earlier fetch), `alias` the key the subgraph expects in the representation: the field's name.
      out.push({
        kind: 'field',
        from: s.name,
        key: s.alias ?? s.name,
        children: s.selections?.length ? compileRequires(s.selections) : null,
      });
    } else if (s.kind === 'InlineFragment') {
      out.push({ kind: 'fragment', typeCondition: s.typeCondition, children: compileRequires(s.selections) });
    } else {
      throw new Error('unsupported fragment spread in requires');
    }
  }
  return out;
}

function compileRewrite(r: FetchRewrite): Rewrite {
  if ('ValueSetter' in r) return { kind: 'set', path: r.ValueSetter.path.map(step), value: r.ValueSetter.setValueTo };
  if ('KeyRenamer' in r) return { kind: 'rename', path: r.KeyRenamer.path.map(step), to: r.KeyRenamer.renameKeyTo };
  if ('kind' in r && r.kind === 'ValueSetter') return { kind: 'set', path: r.path.map(step), value: r.setValueTo };
  throw new Error(`unsupported rewrite ${JSON.stringify(r)}`);
}

function step(s: FetchNodePathSegment): RewriteStep {
  if ('Key' in s) return { kind: 'key', key: s.Key };
  return { kind: 'typename', types: s.TypenameEquals };
}
