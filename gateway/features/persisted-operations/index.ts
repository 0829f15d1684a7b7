import type { Redis } from 'ioredis';
import type { Config } from '../../config/schema.ts';
import { tesseraError } from '../../errors/tessera-error.ts';
import type { Logger } from '../../observability/log.ts';
import {
  slot,
  type GatewayPlugin,
  type ParamsPhase,
  type RequestPhase,
  type RequestScope,
} from '../../pipeline/plugin.ts';
import { sha256Hex } from '../../../supergraph/operations/manifest.ts';
import { LruApqStore, RedisApqStore, type ApqStore } from './apq-store.ts';
import { RegistryManifestSource } from './manifest-source.ts';

/** How this request's document was given; set in onParams, read by the later phases. */
interface Resolved {
  /** `manifest`: a published document; `apq`: a registered query; `text`: the query as sent. */
  readonly source: 'manifest' | 'apq' | 'text';
  /** The client sent a hash or a documentId (GET responses to those may be cached). */
  readonly byHash: boolean;
  /** An APQ registration, stored once the operation has parsed and validated. */
  readonly register: { readonly hash: string; readonly query: string } | null;
  /** SHA-256 of the text the engine runs (the allow-list looks it up). */
  sha: string | null;
}

const resolvedSlot = slot<Resolved>('persisted-operations');

/** What the protocol asks of the two APQ answers that tell a client to resend: no CDN may keep them. */
const noCache = { 'cache-control': 'private, no-cache, must-revalidate' };
const hashPattern = /^[0-9a-fA-F]{64}$/;
const documentIdPattern = /^[A-Za-z0-9_.:-]{1,200}$/;

type PersistedConfig = Config['persistedOperations'];

/**
 * Persisted operations, before the engine (onParams): a `documentId` or an APQ hash becomes the
 * query text it stands for, so both engines run a plain request. Then, after the policies have
 * identified the caller (onRequest), the allow-list; on the way out (onResponse), the APQ
 * registration of an operation that ran, and CDN caching headers for GET queries by hash.
 *
 * Bounded work for any input: ids and hashes are checked by pattern before any lookup; a
 * registration hashes at most the body limit once; a registered query is at most
 * `apq.maxQueryBytes`, and the memory store at most `apq.maxEntries` of them.
 */
export function persistedOperations(
  config: PersistedConfig,
  deps: {
    log: Logger;
    redis: Redis | null;
    registry: { url: string; graph: string; variant: string; token: string } | null;
  },
): GatewayPlugin {
  const { apq, mode, bypass } = config;
  const store: ApqStore = deps.redis
    ? new RedisApqStore(deps.redis, { maxEntries: apq.maxEntries, ttlSec: apq.ttlSec, log: deps.log })
    : new LruApqStore(apq.maxEntries);
  const m = config.manifests;
  const url = m?.url ?? deps.registry?.url;
  const graph = m?.graph ?? deps.registry?.graph;
  const token = m?.token ?? deps.registry?.token;
  const manifests =
    m && url && graph && token
      ? new RegistryManifestSource(
          {
            url,
            graph,
            token,
            variant: m.variant ?? deps.registry?.variant ?? 'production',
            pollIntervalMs: m.pollIntervalMs,
            timeoutMs: m.timeoutMs,
            cacheFile: m.cacheFile,
          },
          deps.log,
        )
      : null;
  const started = manifests?.start() ?? Promise.resolve();

  const unlisted = new RecentlySeen(10_000, 600_000);

  const bypassed = (scope: RequestScope): boolean => {
    if (!bypass || !scope.identity.authenticated) return false;
    const v = scope.identity.claims[bypass.claim];
    return bypass.equals === undefined ? v !== undefined && v !== null && v !== false && v !== '' : v === bypass.equals;
  };

  async function resolve(req: ParamsPhase): Promise<Resolved | null> {
    const { params } = req;
    const query = params.query;
    if (params.documentId !== undefined) {
      const id = params.documentId;
      if (typeof id !== 'string' || !documentIdPattern.test(id))
        throw tesseraError('BAD_REQUEST', '`documentId` must be a string of 1–200 letters, digits or _ . : -.');
      if (query !== undefined && query !== null && query !== '')
        throw tesseraError('BAD_REQUEST', 'Send either `documentId` or `query`, not both.');
      const body = manifests?.index.byDocumentId(id) ?? null;
      if (body === null)
        throw tesseraError('PERSISTED_DOCUMENT_NOT_FOUND', `No published operation has the id ${JSON.stringify(id)}.`);
      req.substitute(body);
      return { source: 'manifest', byHash: true, register: null, sha: null };
    }
    const ext = params.extensions;
    if (typeof ext !== 'object' || ext === null || Array.isArray(ext) || !('persistedQuery' in ext)) return null;
    const pq = (ext as Record<string, unknown>)['persistedQuery'];
    if (typeof pq !== 'object' || pq === null || Array.isArray(pq))
      throw tesseraError('BAD_REQUEST', '`extensions.persistedQuery` must be an object.');
    const { version, sha256Hash } = pq as Record<string, unknown>;
    if (version !== 1) throw tesseraError('BAD_REQUEST', 'Unsupported persisted query version: only 1 is known.');
    if (typeof sha256Hash !== 'string' || !hashPattern.test(sha256Hash))
      throw tesseraError(
        'BAD_REQUEST',
        '`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the query: 64 hexadecimal characters.',
      );
    const hash = sha256Hash.toLowerCase();
    if (typeof query === 'string') {
      // A registration: the hash must be the query's, or a client could plant any text under any hash.
      const sha = sha256Hex(query);
      if (sha !== hash)
        throw tesseraError('PERSISTED_QUERY_HASH_MISMATCH', 'The provided sha256Hash does not match the query.');
      req.substitute(query);
      const register = apq.enabled && Buffer.byteLength(query) <= apq.maxQueryBytes ? { hash, query } : null;
      return { source: 'text', byHash: true, register, sha };
    }
    if (query !== undefined && query !== null) throw tesseraError('BAD_REQUEST', 'GraphQL queries must be strings.');
    const published = manifests?.index.byHash(hash) ?? null;
    if (published !== null) {
      req.substitute(published);
      return { source: 'manifest', byHash: true, register: null, sha: null };
    }
    if (!apq.enabled)
      throw tesseraError('PERSISTED_QUERY_NOT_SUPPORTED', 'PersistedQueryNotSupported', { headers: noCache });
    const registered = await store.get(hash);
    if (registered === null)
      throw tesseraError('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound', { headers: noCache });
    req.substitute(registered);
    return { source: 'apq', byHash: true, register: null, sha: hash };
  }

  /** The allow-list, after the policies' onRequest: the caller is identified, so the bypass claim is verified. */
  const allowList = (req: RequestPhase): void => {
    const resolved = req.get(resolvedSlot);
    if (resolved?.source === 'manifest') return;
    const query = req.params.query;
    if (typeof query !== 'string') return; // the engine answers a missing or malformed query
    const sha = resolved?.sha ?? sha256Hex(query);
    if (manifests?.index.hasBodyHash(sha)) return;
    if (bypassed(req)) return;
    if (mode === 'logOnly') {
      // Once per distinct text per 10 minutes: enough to find what apps send, not a log line per request.
      if (!unlisted.first(sha)) return;
      const operationName =
        typeof req.params.operationName === 'string' ? req.params.operationName.slice(0, 128) : null;
      req.log.warn(
        { requestId: req.requestId, operationName, sha256: sha, client: clientName(req) },
        'operation not in any published manifest',
      );
      return;
    }
    throw tesseraError(
      'PERSISTED_QUERY_NOT_ALLOWED',
      'This gateway runs only published operations: send a `documentId` from your client manifest.',
    );
  };

  return {
    name: 'persisted-operations',
    // Awaited before the port opens (the first generation's onSchema): the first requests already see the manifests.
    onSchema: () => started,
    async onParams(req) {
      const resolved = await resolve(req);
      if (resolved) req.set(resolvedSlot, resolved);
    },
    // Only where there is an allow-list to apply: `open` adds no hook (and no span) to a request.
    ...(mode === 'open' ? {} : { onRequest: allowList }),
    async onResponse(res) {
      const resolved = res.get(resolvedSlot);
      if (!resolved) return;
      // Registered once the operation has parsed, validated and passed every policy (a refusal is
      // not a 200), before the answer is written: the client's next hash-only request, on any
      // replica, finds it.
      if (resolved.register && res.operation !== null && res.status === 200)
        await store.set(resolved.register.hash, resolved.register.query);
      if (!resolved.byHash || res.method !== 'GET') return;
      const cacheable =
        res.status === 200 &&
        res.operationType === 'query' &&
        res.result !== null &&
        !res.result.errors?.length &&
        config.getMaxAgeSec > 0;
      if (!cacheable) {
        res.setResponseHeader('cache-control', 'no-store');
        return;
      }
      const credentials =
        res.identity.authenticated || res.headers.authorization !== undefined || res.headers.cookie !== undefined;
      res.setResponseHeader('cache-control', `${credentials ? 'private' : 'public'}, max-age=${config.getMaxAgeSec}`);
    },
    async close() {
      manifests?.stop();
    },
  };
}

function clientName(scope: RequestScope): string | null {
  const v = scope.headers['apollographql-client-name'];
  return typeof v === 'string' ? v.slice(0, 64) : null;
}

/** Which keys were seen within `windowMs`; at most `max` remembered, the oldest forgotten first. */
class RecentlySeen {
  private readonly seen = new Map<string, number>();
  private readonly max: number;
  private readonly windowMs: number;
  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }
  /** True the first time `key` is seen in the window. */
  first(key: string): boolean {
    const now = Date.now();
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.windowMs) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    while (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }
}
