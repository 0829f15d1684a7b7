import { readFileSync } from 'node:fs';
import { createLocalJWKSet, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import { errors } from 'jose';
import type { Logger } from 'pino';

/** The issuer's keys cannot be fetched and none are cached: the token cannot be checked either way. */
export class JwksUnavailableError extends Error {}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/**
 * An issuer's key set. jose's `createRemoteJWKSet` refetches on every request while the IdP is
 * down and drops its keys once they are older than `cacheMaxAge`; a gateway needs the opposite:
 * stale keys keep serving while a refresh fails, and failed fetches are rate limited like unknown
 * `kid`s (one fetch per cooldown), so neither an IdP outage nor a flood of random `kid`s turns
 * into a flood of JWKS requests. jose still does all key selection and import.
 */
export class RemoteKeySet {
  private local: LocalSet | null = null;
  private fetchedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | null = null;
  private lastError: string | null = null;
  private fingerprint: string | null = null;
  fetches = 0;
  /** Bumped whenever a fetch brings a different key set, so what the old set verified is verified again. */
  version = 0;

  private readonly url: string;
  private readonly opts: { cooldownMs: number; maxAgeMs: number; timeoutMs: number; log: Logger };

  constructor(url: string, opts: { cooldownMs: number; maxAgeMs: number; timeoutMs: number; log: Logger }) {
    this.url = url;
    this.opts = opts;
  }

  /** Fetch once at start-up so the first request does not wait; a failure is only logged. */
  warmUp(): void {
    this.refresh('start-up').catch(() => {});
  }

  /**
   * Starts a background refresh when the keys are older than `maxAgeMs` (and no fetch was tried
   * within the cooldown). Called for every token, cached or not: a key the IdP removed must stop
   * verifying even for callers whose tokens never miss the cache.
   */
  refreshIfStale(): void {
    const now = Date.now();
    if (this.local && now - this.fetchedAt > this.opts.maxAgeMs && now - this.lastAttemptAt >= this.opts.cooldownMs) {
      this.refresh('keys expired').catch(() => {});
    }
  }

  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const now = Date.now();
    if (!this.local) {
      if (now - this.lastAttemptAt < this.opts.cooldownMs && !this.pending) {
        throw new JwksUnavailableError(
          `the issuer's JWKS could not be fetched (${this.lastError ?? 'cooling down'}); retrying after the cooldown`,
        );
      }
      await this.refresh('no keys yet').catch(() => {});
      if (!this.local) throw new JwksUnavailableError(`the issuer's JWKS could not be fetched (${this.lastError})`);
    } else {
      this.refreshIfStale();
    }
    try {
      return await this.local(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - this.lastAttemptAt < this.opts.cooldownMs)
        throw err;
      await this.refresh('unknown kid').catch(() => {});
      return this.local(header, token);
    }
  };

  private refresh(reason: string): Promise<void> {
    if (this.pending) return this.pending;
    this.lastAttemptAt = Date.now();
    this.fetches++;
    const p = (async () => {
      try {
        const res = await fetch(this.url, {
          headers: { accept: 'application/json, application/jwk-set+json' },
          signal: AbortSignal.timeout(this.opts.timeoutMs),
          redirect: 'manual',
        });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        const jwks = (await res.json()) as JSONWebKeySet;
        const local = createLocalJWKSet(jwks); // throws on a malformed set: the old keys stay
        const fingerprint = fingerprintOf(jwks);
        const changed = fingerprint !== this.fingerprint;
        if (changed) {
          // An unchanged set keeps the old one, with the keys jose has already imported.
          this.local = local;
          this.fingerprint = fingerprint;
          this.version++;
        }
        this.fetchedAt = Date.now();
        const recovered = this.lastError !== null;
        this.lastError = null;
        this.opts.log.info({ jwksUrl: this.url, reason, keys: jwks.keys.length, changed, recovered }, 'JWKS fetched');
      } catch (err) {
        this.lastError =
          (err as Error).name === 'TimeoutError' ? `timed out after ${this.opts.timeoutMs} ms` : (err as Error).message;
        this.opts.log.warn(
          { jwksUrl: this.url, reason, err: this.lastError, servingStaleKeys: this.local !== null },
          'JWKS fetch failed',
        );
        throw err;
      } finally {
        this.pending = null;
      }
    })();
    this.pending = p;
    return p;
  }
}

/** The same keys give the same fingerprint, whatever the order of the keys or of their members. */
function fingerprintOf(jwks: JSONWebKeySet): string {
  return JSON.stringify(jwks.keys.map((k) => JSON.stringify(k, Object.keys(k).sort())).sort());
}

/** A JWKS file read at start-up. */
export function localKeySet(file: string): { getKey: LocalSet } {
  return { getKey: createLocalJWKSet(JSON.parse(readFileSync(file, 'utf8')) as JSONWebKeySet) };
}
