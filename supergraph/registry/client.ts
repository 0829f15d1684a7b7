import type { CheckReport } from '../check.ts';

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

/** The registry API as the CLI and the gateway use it. */
export class RegistryClient {
  private readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  constructor(opts: { url: string; graph: string; variant: string; token: string; timeoutMs?: number }) {
    this.base = `${opts.url.replace(/\/$/, '')}/v1/graphs/${encodeURIComponent(opts.graph)}/variants/${encodeURIComponent(opts.variant)}`;
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** null when `etag` still matches (304). */
  async supergraph(etag?: string | null, version?: number): Promise<{ sdl: string; etag: string | null; version: number } | null> {
    const path = version === undefined ? '/supergraph' : `/versions/${version}/supergraph`;
    const res = await this.request('GET', path, undefined, etag ? { 'if-none-match': etag } : {});
    if (res.status === 304) return null;
    return { sdl: await res.text(), etag: res.headers.get('etag'), version: Number(res.headers.get('x-tessera-supergraph-version')) };
  }

  async publish(name: string, url: string, sdl: string): Promise<{ status: string; version: number }> {
    return (await this.request('POST', `/subgraphs/${encodeURIComponent(name)}`, { url, sdl })).json() as Promise<{ status: string; version: number }>;
  }

  async check(subgraphs: Array<{ name: string; sdl: string; url?: string }>, usageDays: number | null): Promise<CheckReport> {
    return (await this.request('POST', '/check', { subgraphs, usageDays })).json() as Promise<CheckReport>;
  }

  async reportUsage(operations: Array<{ hash: string; name: string | null; client: string | null; coordinates: string[]; count: number }>): Promise<void> {
    await (await this.request('POST', '/usage', { operations })).text();
  }

  private async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new RegistryRequestError('REGISTRY_UNAVAILABLE', `cannot reach the registry at ${this.base} (${cause})`, null);
    }
    if (res.ok || res.status === 304) return res;
    const payload = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new RegistryRequestError(payload?.error?.code ?? `HTTP_${res.status}`, payload?.error?.message ?? `registry answered ${res.status}`, res.status, payload?.error);
  }
}
