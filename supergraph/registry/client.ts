import type { CheckReport } from '../check.ts';
import type { ManifestRecord, PersistedOperation } from '../operations/manifest.ts';

/** A registry request that failed: `exit 2` territory (network, auth, usage). */
export class RegistryRequestError extends Error {
  readonly code: string;
  readonly status: number | null;
  readonly details: unknown;
  constructor(code: string, message: string, status: number | null, details?: unknown) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** One entry of a variant's history, as `GET …/versions` lists it. */
export interface VersionEntry {
  version: number;
  createdAt: string;
  actor: string;
  action: string;
  subgraph: string | null;
  summary: string;
}

/** The registry API as the CLI and the gateway use it. */
export class RegistryClient {
  private readonly url: string;
  private readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  constructor(opts: { url: string; graph: string; variant: string; token: string; timeoutMs?: number }) {
    this.url = opts.url.replace(/\/$/, '');
    this.base = `${this.url}/v1/graphs/${encodeURIComponent(opts.graph)}/variants/${encodeURIComponent(opts.variant)}`;
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** null when `etag` still matches (304). */
  async supergraph(
    etag?: string | null,
    version?: number,
  ): Promise<{ sdl: string; etag: string | null; version: number } | null> {
    const path = version === undefined ? '/supergraph' : `/versions/${version}/supergraph`;
    const res = await this.request('GET', path, undefined, etag ? { 'if-none-match': etag } : {});
    if (res.status === 304) return null;
    return {
      sdl: res.text,
      etag: res.headers.get('etag'),
      version: Number(res.headers.get('x-tessera-supergraph-version')),
    };
  }

  async publish(name: string, url: string, sdl: string): Promise<{ status: string; version: number }> {
    return JSON.parse((await this.request('POST', `/subgraphs/${encodeURIComponent(name)}`, { url, sdl })).text) as {
      status: string;
      version: number;
    };
  }

  async check(
    subgraphs: Array<{ name: string; sdl: string; url?: string }>,
    usageDays: number | null,
  ): Promise<CheckReport> {
    return JSON.parse((await this.request('POST', '/check', { subgraphs, usageDays })).text) as CheckReport;
  }

  /** Makes version `to` current again, as a new version (returned). */
  async rollback(to: number): Promise<{ status: string; version: number }> {
    return JSON.parse((await this.request('POST', '/rollback', { version: to })).text) as {
      status: string;
      version: number;
    };
  }

  /** Publishes a client version's operation manifest (validated against the current supergraph by the registry). */
  async publishOperations(
    client: string,
    version: string,
    operations: readonly PersistedOperation[],
  ): Promise<{ status: 'published' | 'unchanged'; operations: number; revision: number }> {
    const path = `/operations/${encodeURIComponent(client)}/${encodeURIComponent(version)}`;
    return JSON.parse((await this.request('POST', path, { operations })).text) as {
      status: 'published' | 'unchanged';
      operations: number;
      revision: number;
    };
  }

  /** Every published manifest of the variant; null when `etag` still matches (304). */
  async operations(etag?: string | null): Promise<{ manifests: ManifestRecord[]; etag: string | null } | null> {
    const res = await this.request('GET', '/operations', undefined, etag ? { 'if-none-match': etag } : {});
    if (res.status === 304) return null;
    return {
      manifests: (JSON.parse(res.text) as { manifests: ManifestRecord[] }).manifests,
      etag: res.headers.get('etag'),
    };
  }

  async history(limit = 100): Promise<VersionEntry[]> {
    return (JSON.parse((await this.request('GET', `/versions?limit=${limit}`)).text) as { versions: VersionEntry[] })
      .versions;
  }

  async reportUsage(
    operations: Array<{
      hash: string;
      name: string | null;
      client: string | null;
      coordinates: string[];
      count: number;
    }>,
  ): Promise<void> {
    await this.request('POST', '/usage', { operations });
  }

  /** The body is read inside the deadline too: a registry that stalls mid-answer is as unreachable as one that never answers. */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Headers; text: string }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new RegistryRequestError(
        'REGISTRY_UNAVAILABLE',
        `cannot reach the registry at ${this.url}: ${describeFetchFailure(err, this.url, this.timeoutMs)}`,
        null,
      );
    }
    if (res.ok || res.status === 304) return { status: res.status, headers: res.headers, text };
    const payload = errorPayload(text);
    throw new RegistryRequestError(
      payload?.error?.code ?? `HTTP_${res.status}`,
      payload?.error?.message ?? `registry answered ${res.status}`,
      res.status,
      payload?.error,
    );
  }
}

/** The registry's `{ error: { code, message } }`, or null for anything else (a proxy's HTML page: the status says enough). */
function errorPayload(text: string): { error?: { code?: string; message?: string } } | null {
  try {
    return JSON.parse(text) as { error?: { code?: string; message?: string } };
  } catch {
    return null;
  }
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * What went wrong under fetch's "fetch failed", in one line. undici puts the socket's error in
 * `err.cause` (an AggregateError when every address of a host failed); an expired deadline is a
 * TimeoutError of its own.
 */
export function describeFetchFailure(err: unknown, url: string, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms (timeout)`;
  let cause = e?.cause as
    | { code?: string; message?: string; errors?: Array<{ code?: string; message?: string }>; hostname?: string }
    | undefined;
  if (cause?.errors?.length) cause = cause.errors[0];
  const code = cause?.code;
  let host = url;
  try {
    host = new URL(url).hostname;
  } catch {
    // the URL was checked before; keep it whole if not
  }
  if (!code) {
    if (cause?.message === 'bad port')
      return `fetch refuses port ${new URL(url).port} (a "bad port" in the Fetch standard)`;
    return cause?.message ?? e?.message ?? String(err);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'ENOTFOUND':
      return `DNS lookup of ${host} failed (ENOTFOUND)`;
    case 'EAI_AGAIN':
      return `DNS lookup of ${host} got no answer (EAI_AGAIN)`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `the connection was closed before an answer (${code})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connecting timed out (${code})`;
  }
  if (TLS_CODE.test(code)) {
    // OpenSSL's own messages are `<id>:error:<n>:SSL routines:<function>:<reason>:<file>:<line>:`: the reason is what reads.
    const message = cause?.message?.split('\n')[0] ?? '';
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message;
    return `TLS handshake failed (${code}${reason ? `: ${reason}` : ''})`;
  }
  return `${cause?.message?.split('\n')[0] ?? 'fetch failed'} (${code})`;
}
