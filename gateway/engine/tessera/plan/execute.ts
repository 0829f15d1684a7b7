import type { GraphQLFormattedError } from 'graphql';
import type { RequestContext } from '../../../pipeline/request-context.ts';
import type { SubgraphClient } from '../../../subgraph-client/client.ts';
import { subgraphRequest, type SubgraphResult } from '../../../subgraph-client/fetch.ts';
import type { CompiledFetch, EntityInput, ExecNode, PathSegment, RequireNode, Rewrite } from './compile.ts';
import type { SupergraphInfo } from './supergraph.ts';

type Obj = Record<string, unknown>;
type Path = Array<string | number>;

/** What one execution of a plan needs besides the plan. */
export interface ExecuteDeps {
  readonly info: SupergraphInfo;
  readonly client: (subgraph: { name: string; url: string }) => SubgraphClient;
  /** The schema generation the plan was made for: subgraph answers are checked against it. */
  readonly schema: object;
}

/**
 * One request's execution state: the merged data every fetch writes into, the client-visible
 * errors, and what the shaper needs to know to tell an explained null (a failed fetch) from one
 * nobody reported.
 */
export class PlanRun {
  readonly data: Obj = {};
  readonly errors: GraphQLFormattedError[] = [];
  /** Objects an `_entities` fetch failed for: a null below them already has its error. */
  failed: Set<object> | null = null;
  /** Root response keys whose fetch failed. */
  failedRootKeys: Set<string> | null = null;
  readonly variables: Readonly<Obj>;
  readonly context: RequestContext;
  private readonly deps: ExecuteDeps;

  constructor(deps: ExecuteDeps, variables: Readonly<Obj>, context: RequestContext) {
    this.deps = deps;
    this.variables = variables;
    this.context = context;
  }

  run(node: ExecNode): Promise<void> | undefined {
    switch (node.kind) {
      case 'sequence':
        return this.sequence(node.nodes);
      case 'parallel': {
        let pending: Array<Promise<void>> | null = null;
        for (const n of node.nodes) {
          const p = this.run(n);
          if (p) (pending ??= []).push(p);
        }
        return pending ? Promise.all(pending).then(noop) : undefined;
      }
      case 'condition': {
        const branch = this.variables[node.variable] === true ? node.then : node.otherwise;
        return branch ? this.run(branch) : undefined;
      }
      case 'root':
        return this.rootFetch(node.fetch);
      case 'entities':
        return this.entityFetch(node.fetch, node.inputs);
    }
  }

  private async sequence(nodes: readonly ExecNode[]): Promise<void> {
    for (const n of nodes) await this.run(n);
  }

  private async rootFetch(fetch: CompiledFetch): Promise<void> {
    const answer = await this.send(fetch, this.selectVariables(fetch));
    if (!answer.ok) {
      for (const k of fetch.rootKeys) (this.failedRootKeys ??= new Set()).add(k);
      for (const e of answer.errors) this.errors.push(subgraphError(e, fetch.serviceName, e.path));
      return;
    }
    const result = answer.result;
    if (result.errors) for (const e of result.errors) this.errors.push(subgraphError(e, fetch.serviceName, e.path));
    const data = result.data;
    if (isObj(data)) deepMerge(this.data, data);
    // `data: null` with errors: the errors explain every root field of the fetch.
    else for (const k of fetch.rootKeys) (this.failedRootKeys ??= new Set()).add(k);
  }

  private entityFetch(fetch: CompiledFetch, inputs: readonly EntityInput[]): Promise<void> | undefined {
    const batches: EntityBatch[] = [];
    let variables: Obj | null = null;
    for (const input of inputs) {
      const batch = collectBatch(input, this.data, this.deps.info);
      if (!batch) continue;
      batches.push(batch);
      variables ??= this.selectVariables(fetch);
      // Two aliases may share one variable (the planner's choice): their representations are one list.
      const existing = variables[input.variable] as unknown[] | undefined;
      if (existing) {
        batch.offset = existing.length;
        for (const r of batch.representations) existing.push(r);
      } else variables[input.variable] = batch.representations;
    }
    if (!variables) return undefined;
    return this.sendEntities(fetch, batches, variables);
  }

  private async sendEntities(fetch: CompiledFetch, batches: EntityBatch[], variables: Obj): Promise<void> {
    const answer = await this.send(fetch, variables);
    if (!answer.ok) {
      for (const b of batches) this.markFailed(b.targets);
      for (const e of answer.errors)
        this.errors.push(subgraphError(e, fetch.serviceName, this.entityErrorPath(e.path, batches)));
      return;
    }
    const { data, errors } = answer.result;
    const byKey = isObj(data) ? data : null;
    for (const b of batches) {
      const list = byKey?.[b.input.responseKey];
      const entities = Array.isArray(list) ? (list as unknown[]) : null;
      if (entities && b.input.outputRewrites.length)
        for (const e of entities)
          if (isObj(e)) for (const r of b.input.outputRewrites) applyRewrite(e, r, 0, this.deps.info);
      for (let i = 0; i < b.targets.length; i++) {
        const entity = entities?.[b.indexes[i]! + b.offset];
        if (isObj(entity)) mergeEntity(b.targets[i]!, entity, this.deps.info);
        else if (errors?.length || !entities) (this.failed ??= new Set()).add(b.targets[i]!);
      }
    }
    if (errors)
      for (const e of errors)
        this.errors.push(subgraphError(e, fetch.serviceName, this.entityErrorPath(e.path, batches)));
  }

  /** `_entities.N.rest` (or `alias.N.rest`) in the subgraph's answer → the path of the entity it answered + rest. */
  private entityErrorPath(path: GraphQLFormattedError['path'], batches: readonly EntityBatch[]): Path | undefined {
    if (!path || path.length < 2 || typeof path[1] !== 'number') return undefined;
    for (const b of batches) {
      if (b.input.responseKey !== path[0]) continue;
      const n = path[1] - b.offset;
      const i = b.indexes.indexOf(n);
      if (i < 0) continue;
      const at = pathOf(this.data, b.input.paths, b.targets[i]!);
      if (at) return [...at, ...path.slice(2)];
    }
    return undefined;
  }

  private markFailed(targets: readonly Obj[]): void {
    const failed = (this.failed ??= new Set());
    for (const t of targets) failed.add(t);
  }

  private selectVariables(fetch: CompiledFetch): Obj {
    const out: Obj = {};
    for (const name of fetch.variableUsages) {
      const v = this.variables[name];
      if (v !== undefined) out[name] = v;
    }
    return out;
  }

  /**
   * One fetch through Tessera's subgraph client. A failure becomes one error in the subgraph's own
   * response shape (the caller maps its path), followed by the subgraph's own errors that came with
   * an answer refused whole, as the Apollo engine's data source reports it.
   */
  private async send(fetch: CompiledFetch, variables: Obj): Promise<SendResult> {
    const client = this.deps.client({ name: fetch.serviceName, url: fetch.url });
    const ctx = this.context;
    const req = subgraphRequest({
      operationType: fetch.operationType,
      query: fetch.query,
      operationName: fetch.operationName,
      variables,
      document: fetch.document,
      schema: this.deps.schema,
      requestId: ctx.requestId,
      log: ctx.log,
      incomingHeaders: ctx.headers,
      context: ctx,
    });
    const answer = await client.exchange(req);
    if (answer.ok) return answer;
    const { failure } = answer;
    const error: GraphQLFormattedError = {
      message: failure.message,
      ...(fetch.failurePath ? { path: fetch.failurePath } : {}),
      extensions: { code: failure.code, ...(failure.status ? { status: failure.status } : {}) },
    };
    return { ok: false, errors: answer.errors?.length ? [error, ...answer.errors] : [error] };
  }
}

type SendResult = { ok: true; result: SubgraphResult } | { ok: false; errors: readonly GraphQLFormattedError[] };

function noop(): void {}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A subgraph's (already redacted) error as the client gets it: `serviceName` added, the path in the client's shape. */
function subgraphError(
  e: GraphQLFormattedError,
  serviceName: string,
  path: GraphQLFormattedError['path'],
): GraphQLFormattedError {
  const ext = e.extensions ?? {};
  return {
    message: e.message,
    ...(path ? { path } : {}),
    extensions: {
      ...ext,
      code: typeof ext['code'] === 'string' ? ext['code'] : 'DOWNSTREAM_SERVICE_ERROR',
      serviceName,
    },
  };
}

/** The entities one `_entities` input fetches: targets in the merged data and their deduplicated representations. */
interface EntityBatch {
  readonly input: EntityInput;
  readonly targets: Obj[];
  /** Per target, the index of its representation. */
  readonly indexes: number[];
  readonly representations: Obj[];
  /** Where this batch's representations start in the variable's list (aliases may share one). */
  offset: number;
}

function collectBatch(input: EntityInput, data: Obj, info: SupergraphInfo): EntityBatch | null {
  const found: Obj[] = [];
  for (const path of input.paths) collect(data, path, 0, found, info);
  if (found.length === 0) return null;
  const targets: Obj[] = [];
  const indexes: number[] = [];
  const representations: Obj[] = [];
  let seen: Map<string, number> | null = null;
  for (const entity of found) {
    let rep = represent(entity, input.requires, info);
    if (rep === null) continue;
    for (const r of input.inputRewrites) rep = applyRewrite(rep, r, 0, info) as Obj;
    // Identical representations (the same author of many reviews) are sent once.
    const key = representationKey(rep);
    seen ??= new Map();
    let index = seen.get(key);
    if (index === undefined) {
      index = representations.length;
      seen.set(key, index);
      representations.push(rep);
    }
    targets.push(entity);
    indexes.push(index);
  }
  if (representations.length === 0) return null;
  return { input, targets, indexes, representations, offset: 0 };
}

/**
 * A key equal for equal representations. Those of one input share their key order (one projector
 * made them), so the values in order identify them: strings length-prefixed (no separator can be
 * forged), other scalars as JSON; a nested value (a compound key's object) falls back to JSON.
 */
function representationKey(rep: Obj): string {
  let key = '';
  for (const k in rep) {
    const v = rep[k];
    if (typeof v === 'string') key += `${v.length}:${v}`;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) key += `|${String(v)}`;
    else return `{${JSON.stringify(rep)}`;
  }
  return key;
}

/** The objects at `path` in the merged data; a list at the end contributes its items. */
function collect(value: unknown, path: readonly PathSegment[], i: number, out: Obj[], info: SupergraphInfo): void {
  if (value === null || value === undefined || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    // `@` steps into the list; a list met elsewhere (at the end, or where the path names a field) is walked through.
    const next = path[i]?.kind === 'list' ? i + 1 : i;
    for (const item of value) collect(item, path, next, out, info);
    return;
  }
  const obj = value as Obj;
  if (i === path.length) {
    out.push(obj);
    return;
  }
  const seg = path[i]!;
  switch (seg.kind) {
    case 'field':
      collect(obj[seg.name], path, i + 1, out, info);
      return;
    case 'list':
      // The value here is an object, not a list: nothing to flatten.
      return;
    case 'types':
      if (matchesTypes(obj, seg.types, info)) collect(obj, path, i + 1, out, info);
      return;
  }
}

function matchesTypes(obj: Obj, types: readonly string[], info: SupergraphInfo): boolean {
  const typename = obj['__typename'];
  if (typeof typename !== 'string') return true;
  for (const t of types) if (info.typeSatisfies(typename, t)) return true;
  return false;
}

/** Where `target` is in the merged data along one of `paths` (error paths only: the slow path). */
export function pathOf(data: Obj, paths: ReadonlyArray<readonly PathSegment[]>, target: Obj): Path | null {
  const at: Path = [];
  for (const p of paths) if (find(data, p, 0, target, at)) return at;
  return null;
}

function find(value: unknown, path: readonly PathSegment[], i: number, target: Obj, at: Path): boolean {
  if (value === null || value === undefined || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    const next = path[i]?.kind === 'list' ? i + 1 : i;
    for (let k = 0; k < value.length; k++) {
      at.push(k);
      if (find(value[k], path, next, target, at)) return true;
      at.pop();
    }
    return false;
  }
  if (i === path.length) return value === target;
  const seg = path[i]!;
  if (seg.kind === 'field') {
    at.push(seg.name);
    if (find((value as Obj)[seg.name], path, i + 1, target, at)) return true;
    at.pop();
    return false;
  }
  return seg.kind === 'types' ? find(value, path, i + 1, target, at) : false;
}

const SKIP = null;

/**
 * The representation of `entity` for `requires`: only entities of a type the selection names, with
 * their `__typename`; none when a key field is missing, or null where the supergraph says it cannot
 * be (the entity is not resolvable through that key).
 */
function represent(entity: Obj, requires: readonly RequireNode[], info: SupergraphInfo): Obj | null {
  const typename = entity['__typename'];
  if (typeof typename !== 'string') return SKIP;
  const out: Obj = {};
  let matched = false;
  for (const r of requires) {
    if (r.kind === 'fragment') {
      if (!info.typeSatisfies(typename, r.typeCondition)) continue;
      matched = true;
      if (!project(entity, r.children, typename, out, info)) return SKIP;
    } else {
      matched = true;
      if (!projectField(entity, r, typename, out, info)) return SKIP;
    }
  }
  if (!matched) return SKIP;
  if (out['__typename'] === undefined) out['__typename'] = typename;
  return out;
}

function project(src: Obj, nodes: readonly RequireNode[], typename: string, out: Obj, info: SupergraphInfo): boolean {
  for (const r of nodes) {
    if (r.kind === 'fragment') {
      if (info.typeSatisfies(typename, r.typeCondition) && !project(src, r.children, typename, out, info)) return false;
    } else if (!projectField(src, r, typename, out, info)) return false;
  }
  return true;
}

function projectField(
  src: Obj,
  r: Extract<RequireNode, { kind: 'field' }>,
  typename: string,
  out: Obj,
  info: SupergraphInfo,
): boolean {
  if (r.from === '__typename') {
    out[r.key] = typename;
    return true;
  }
  const v = src[r.from];
  if (v === undefined) return false;
  if (v === null) {
    if (info.isNonNullField(typename, r.key)) return false;
    out[r.key] = null;
    return true;
  }
  out[r.key] = r.children ? projectValue(v, r.children, info) : v;
  return true;
}

function projectValue(v: unknown, children: readonly RequireNode[], info: SupergraphInfo): unknown {
  if (Array.isArray(v)) return v.map((item) => projectValue(item, children, info));
  if (!isObj(v)) return v;
  const out: Obj = {};
  const typename = typeof v['__typename'] === 'string' ? v['__typename'] : '';
  for (const r of children) {
    if (r.kind === 'fragment') {
      if (typename && info.typeSatisfies(typename, r.typeCondition))
        for (const c of r.children) projectInto(v, c, typename, out, info);
    } else projectInto(v, r, typename, out, info);
  }
  return out;
}

function projectInto(src: Obj, r: RequireNode, typename: string, out: Obj, info: SupergraphInfo): void {
  if (r.kind === 'fragment') {
    if (typename && info.typeSatisfies(typename, r.typeCondition))
      for (const c of r.children) projectInto(src, c, typename, out, info);
    return;
  }
  if (r.from === '__typename') {
    if (typename) out[r.key] = typename;
    return;
  }
  const v = src[r.from];
  if (v === undefined) return;
  out[r.key] = r.children && v !== null ? projectValue(v, r.children, info) : v;
}

/** A ValueSetter / KeyRenamer applied in place along its path (lists: to every item). Returns the value (for a whole-value set). */
function applyRewrite(value: unknown, r: Rewrite, i: number, info: SupergraphInfo): unknown {
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) value[k] = applyRewrite(value[k], r, i, info);
    return value;
  }
  if (!isObj(value)) return value;
  const step = r.path[i];
  if (!step) return r.kind === 'set' ? r.value : value;
  if (step.kind === 'typename') {
    // Like a type condition: an implementation of the interface the step names matches too.
    const t = value['__typename'];
    if (typeof t === 'string' && !step.types.some((c) => info.typeSatisfies(t, c))) return value;
    return applyRewrite(value, r, i + 1, info);
  }
  if (i === r.path.length - 1) {
    if (r.kind === 'set') value[step.key] = r.value;
    else if (step.key in value) {
      value[r.to] = value[step.key];
      delete value[step.key];
    }
    return value;
  }
  const next = value[step.key];
  if (next !== null && next !== undefined) value[step.key] = applyRewrite(next, r, i + 1, info);
  return value;
}

/**
 * An entity's answer merged into the object it was fetched for. Its `__typename` stays the object
 * type it is: an `@interfaceObject` subgraph answers with the interface's name.
 */
function mergeEntity(target: Obj, entity: Obj, info: SupergraphInfo): void {
  const typename = target['__typename'];
  deepMerge(target, entity);
  if (typeof typename === 'string' && target['__typename'] !== typename && !info.isObjectType(target['__typename']))
    target['__typename'] = typename;
}

/** Merges a fetch's answer into the data: objects key by key, lists item by item, anything else replaced. */
export function deepMerge(target: Obj, source: Obj): void {
  for (const key in source) {
    const s = source[key];
    const t = target[key];
    if (t !== null && typeof t === 'object' && s !== null && typeof s === 'object') {
      if (Array.isArray(t)) {
        if (Array.isArray(s) && s.length === t.length)
          for (let i = 0; i < s.length; i++) {
            const si: unknown = s[i];
            const ti: unknown = t[i];
            if (isObj(ti) && isObj(si)) deepMerge(ti, si);
            else if (ti === undefined || ti === null) t[i] = si;
          }
        continue;
      }
      if (!Array.isArray(s)) {
        deepMerge(t as Obj, s as Obj);
        continue;
      }
    }
    if (t === undefined || s !== undefined) target[key] = s;
  }
}
