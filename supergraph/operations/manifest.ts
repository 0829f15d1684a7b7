import { createHash } from 'node:crypto';
import { GraphQLError, Kind, parse, validate, type GraphQLSchema } from 'graphql';

/**
 * Trusted documents: the operations a client ships, published to the registry per client name and
 * version, validated against the supergraph there, served by id at the gateway and re-validated by
 * `tessera subgraph check`. One module for the three, so the registry, the CLI and the gateway read
 * manifests the same way.
 */

/** One operation of a manifest, normalized. */
export interface PersistedOperation {
  /** What a client sends as `documentId` (or as the APQ hash when it is a SHA-256). */
  readonly id: string;
  readonly name: string | null;
  readonly type: 'query' | 'mutation' | 'subscription' | null;
  readonly body: string;
}

/** A manifest as the registry stores it and gateways load it. */
export interface ManifestRecord {
  readonly client: string;
  readonly version: string;
  readonly createdAt: string;
  readonly operations: readonly PersistedOperation[];
}

/** Bounds on what one manifest may hold: the registry refuses more before any validation work. */
export const manifestLimits = {
  operations: 20_000,
  bodyBytes: 256 * 1024,
  /** Parser token budget per operation: a hostile body costs at most this much to reject. */
  tokens: 20_000,
} as const;

/** Ids as Apollo (SHA-256 hex), Relay (MD5 hex or custom) and the GraphQL-over-HTTP `sha256:` prefix write them. */
const idPattern = /^[A-Za-z0-9_.:-]{1,200}$/;
/** Client names and versions, as they appear in registry URLs. */
export const clientNamePattern = /^[A-Za-z0-9_.-]{1,64}$/;
export const clientVersionPattern = /^[A-Za-z0-9_.+-]{1,64}$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Reads a manifest in any of the formats client tooling emits:
 * - Apollo's `persisted-query-manifest.json` (`@apollo/generate-persisted-query-manifest`):
 *   `{ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ id, name, type, body }] }`;
 * - Relay's persisted queries file (`relay-compiler` with `persistConfig.file`): `{ "<id>": "<text>" }`;
 * - the same `{ "operations": [...] }` without `format` (what the registry stores).
 * Never throws: the problems, at most 20, say which entry and why.
 */
export function parseManifest(
  json: unknown,
): { ok: true; operations: PersistedOperation[] } | { ok: false; errors: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return {
      ok: false,
      errors: ['a manifest is a JSON object (Apollo persisted-query manifest or Relay persisted queries)'],
    };
  const obj = json as Record<string, unknown>;
  const errors: string[] = [];
  const out: PersistedOperation[] = [];
  const add = (raw: { id: unknown; name?: unknown; type?: unknown; body: unknown }, where: string) => {
    if (errors.length >= 20) return;
    if (typeof raw.id !== 'string' || !idPattern.test(raw.id))
      return void errors.push(`${where}: "id" must be 1–200 letters, digits or _ . : -`);
    if (typeof raw.body !== 'string' || !raw.body.trim())
      return void errors.push(`${where}: "body" must be GraphQL text`);
    if (Buffer.byteLength(raw.body) > manifestLimits.bodyBytes)
      return void errors.push(`${where}: "body" is over ${manifestLimits.bodyBytes} bytes`);
    if (raw.name !== undefined && raw.name !== null && typeof raw.name !== 'string')
      return void errors.push(`${where}: "name" must be a string`);
    const type = raw.type ?? null;
    if (type !== null && type !== 'query' && type !== 'mutation' && type !== 'subscription')
      return void errors.push(`${where}: "type" must be query, mutation or subscription`);
    out.push({ id: raw.id, name: (raw.name as string | undefined) ?? null, type, body: raw.body });
  };
  if ('operations' in obj || 'format' in obj) {
    if (obj['format'] !== undefined && obj['format'] !== 'apollo-persisted-query-manifest')
      return {
        ok: false,
        errors: [`"format" ${JSON.stringify(obj['format'])} is not "apollo-persisted-query-manifest"`],
      };
    if (obj['format'] !== undefined && obj['version'] !== 1)
      return { ok: false, errors: ['only version 1 of the Apollo persisted-query manifest is known'] };
    const ops = obj['operations'];
    if (!Array.isArray(ops)) return { ok: false, errors: ['"operations" must be an array'] };
    if (ops.length > manifestLimits.operations)
      return { ok: false, errors: [`${ops.length} operations; at most ${manifestLimits.operations} per manifest`] };
    ops.forEach((o: unknown, i) => {
      if (typeof o !== 'object' || o === null) return void errors.push(`operations[${i}]: must be an object`);
      const op = o as Record<string, unknown>;
      add({ id: op['id'], name: op['name'], type: op['type'], body: op['body'] }, `operations[${i}]`);
    });
  } else {
    const entries = Object.entries(obj);
    if (entries.length > manifestLimits.operations)
      return { ok: false, errors: [`${entries.length} operations; at most ${manifestLimits.operations} per manifest`] };
    for (const [id, body] of entries) add({ id, body }, JSON.stringify(id).slice(0, 80));
  }
  if (!errors.length && !out.length) errors.push('the manifest has no operations');
  const seen = new Map<string, string>();
  for (const op of out) {
    const body = seen.get(op.id);
    if (body !== undefined && body !== op.body && errors.length < 20)
      errors.push(`id ${op.id} is given twice, with different bodies`);
    seen.set(op.id, op.body);
  }
  return errors.length ? { ok: false, errors } : { ok: true, operations: dedupe(out) };
}

function dedupe(ops: PersistedOperation[]): PersistedOperation[] {
  const byId = new Map<string, PersistedOperation>();
  for (const op of ops) if (!byId.has(op.id)) byId.set(op.id, op);
  return [...byId.values()];
}

/** The id as a gateway looks it up: the GraphQL-over-HTTP `sha256:<hex>` form and a bare hex hash are one id. */
export function normalizeId(id: string): string {
  return /^sha256:[0-9a-fA-F]{64}$/.test(id) ? id.slice(7).toLowerCase() : id;
}

export interface OperationProblem {
  readonly id: string;
  readonly name: string | null;
  readonly errors: readonly string[];
}

/**
 * Parses and validates each operation against an API schema: the registry's publish check and,
 * with the proposed schema, `tessera subgraph check`. Parsing is bounded by a token budget; each
 * body costs at most that much. An operation must hold exactly one operation definition, so its
 * id stands for one thing.
 */
export function validateOperations(
  schema: GraphQLSchema,
  operations: ReadonlyArray<Pick<PersistedOperation, 'id' | 'name' | 'body'>>,
): OperationProblem[] {
  const problems: OperationProblem[] = [];
  for (const op of operations) {
    let errors: string[];
    try {
      const doc = parse(op.body, { noLocation: false, maxTokens: manifestLimits.tokens });
      const defs = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      errors =
        defs.length !== 1
          ? [`holds ${defs.length} operations; a persisted document holds exactly one`]
          : validate(schema, doc, undefined, { maxErrors: 10 }).map(describe);
    } catch (err) {
      errors = [err instanceof GraphQLError ? describe(err) : String(err)];
    }
    if (errors.length) problems.push({ id: op.id, name: op.name, errors });
  }
  return problems;
}

function describe(e: GraphQLError): string {
  const loc = e.locations?.[0];
  return loc ? `${e.message} (${loc.line}:${loc.column})` : e.message;
}
