import { isAbsolute, resolve } from 'node:path';
import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Logger } from 'pino';
import type { Identity } from '../policy.ts';
import type { AuthConfig, IssuerConfig } from './config.ts';
import { JwksUnavailableError, RemoteKeySet, localKeySet } from './jwks.ts';

/** A token was presented and is not acceptable. `reason` is safe to show: it never contains the token. */
export class InvalidTokenError extends Error {}

interface Issuer {
  readonly config: IssuerConfig;
  readonly getKey: JWTVerifyGetKey;
  readonly remote: RemoteKeySet | null;
}

interface Verified {
  readonly identity: Identity;
  readonly issuer: Issuer;
  /** The issuer's key set version the token was verified with. */
  readonly keysVersion: number;
}

/** Verifies tokens against the configured issuers and turns verified claims into an Identity. */
export class TokenVerifier {
  private readonly issuers = new Map<string, Issuer>();
  private readonly allAlgorithms: ReadonlySet<string>;
  private readonly cache = new Map<string, Verified & { until: number }>();
  /** `allowedTypes`, normalized as jose does (RFC 7515 §4.1.9: `application/` may be left out). */
  private readonly allowedTypes: ReadonlySet<string> | null;

  private readonly config: AuthConfig;

  constructor(config: AuthConfig, deps: { log: Logger; baseDir: string }) {
    this.config = config;
    for (const c of config.issuers) {
      let remote: RemoteKeySet | null = null;
      let getKey: JWTVerifyGetKey;
      if (c.jwksUrl) {
        remote = new RemoteKeySet(c.jwksUrl, { ...config.jwks, log: deps.log });
        getKey = remote.getKey as JWTVerifyGetKey;
      } else {
        const file = isAbsolute(c.jwksFile!) ? c.jwksFile! : resolve(deps.baseDir, c.jwksFile!);
        getKey = localKeySet(file).getKey as JWTVerifyGetKey;
      }
      this.issuers.set(c.issuer, { config: c, getKey, remote });
    }
    this.allAlgorithms = new Set(config.issuers.flatMap((i) => i.algorithms));
    this.allowedTypes = config.allowedTypes ? new Set(config.allowedTypes.map(normalizeTyp)) : null;
  }

  warmUp(): void {
    for (const i of this.issuers.values()) i.remote?.warmUp();
  }

  /** Fetch counts per JWKS URL (exposed for metrics and tests). */
  jwksFetches(): Record<string, number> {
    return Object.fromEntries(
      [...this.issuers.values()].filter((i) => i.remote).map((i) => [i.config.jwksUrl!, i.remote!.fetches]),
    );
  }

  async verify(token: string): Promise<Identity> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit) {
      hit.issuer.remote?.refreshIfStale();
      // A changed key set may have dropped the key this token was verified with.
      if (hit.until > now && hit.keysVersion === (hit.issuer.remote?.version ?? 0)) return hit.identity;
      this.cache.delete(token);
    }
    const verified = await this.verifyUncached(token, new Date(now));
    if (this.config.cacheSize > 0) {
      const exp = verified.identity.claims['exp'];
      const until = Math.min(typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY, now + 300_000);
      if (this.cache.size >= this.config.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, { ...verified, until });
    }
    return verified.identity;
  }

  private async verifyUncached(token: string, now: Date): Promise<Verified> {
    if (Buffer.byteLength(token) > this.config.maxTokenBytes)
      throw new InvalidTokenError(`token is larger than ${this.config.maxTokenBytes} bytes`);
    if (token.split('.').length !== 3)
      throw new InvalidTokenError('malformed token: expected three dot-separated parts');
    let header: JWSHeaderParameters;
    let iss: string | undefined;
    try {
      header = decodeProtectedHeader(token);
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('malformed token: header or payload is not base64url-encoded JSON');
    }
    const { alg, typ } = header;
    // Checked before any key lookup, so `alg: none` or an HMAC token never reaches the key set.
    if (!alg || !this.allAlgorithms.has(alg))
      throw new InvalidTokenError(`algorithm ${JSON.stringify(alg ?? null)} is not allowed`);
    // jose's `typ` option takes one value; several are allowed here, so the check is ours (same normalization).
    if (this.allowedTypes && (typeof typ !== 'string' || !this.allowedTypes.has(normalizeTyp(typ)))) {
      throw new InvalidTokenError(
        typ === undefined ? 'token has no type (typ)' : `token type (typ) ${JSON.stringify(typ)} is not accepted`,
      );
    }
    const issuer = iss === undefined ? undefined : this.issuers.get(iss);
    if (!issuer)
      throw new InvalidTokenError(
        iss === undefined ? 'token has no issuer (iss)' : `issuer ${JSON.stringify(iss)} is not accepted`,
      );
    const keysVersion = issuer.remote?.version ?? 0;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.getKey, {
        issuer: issuer.config.issuer,
        audience: issuer.config.audiences,
        algorithms: issuer.config.algorithms,
        clockTolerance: this.config.clockToleranceSec,
        requiredClaims: this.config.requireExp ? ['exp'] : [],
        currentDate: now,
      }));
    } catch (err) {
      if (err instanceof JwksUnavailableError) throw err;
      throw new InvalidTokenError(describeJoseError(err));
    }
    // jose compares `iat` with the clock only together with `maxTokenAge`: a token from the future is refused here.
    if (
      typeof payload.iat === 'number' &&
      payload.iat > Math.floor(now.getTime() / 1000) + this.config.clockToleranceSec
    ) {
      throw new InvalidTokenError('token issued in the future (iat)');
    }
    return { identity: this.identityOf(payload), issuer, keysVersion };
  }

  private identityOf(claims: JWTPayload): Identity {
    const scopes = new Set<string>();
    for (const name of this.config.scopeClaims) {
      const v = claims[name];
      if (typeof v === 'string') for (const s of v.split(' ')) if (s) scopes.add(s);
      if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') scopes.add(s);
    }
    return Object.freeze({
      subject: typeof claims.sub === 'string' ? claims.sub : null,
      authenticated: true,
      scopes,
      claims: Object.freeze({ ...claims }),
    });
  }
}

/** As jose normalizes `typ`: media types compare case-insensitively, `application/` implied without a `/`. */
function normalizeTyp(typ: string): string {
  const t = typ.toLowerCase();
  return t.includes('/') ? t : `application/${t}`;
}

/** jose's error → a reason for the client: specific, and never echoing the token. */
function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing')
      return err.claim === 'exp' ? 'token has no expiry (exp)' : `token has no ${JSON.stringify(err.claim)} claim`;
    if (err.reason === 'invalid') return `claim ${JSON.stringify(err.claim)} is not a number`;
    switch (err.claim) {
      case 'nbf':
        return 'token is not yet valid (nbf)';
      case 'iat':
        return 'token issued in the future (iat)';
      case 'iss':
        return 'unexpected issuer (iss)';
      case 'aud':
        return 'audience not accepted (aud)';
      default:
        return `claim ${JSON.stringify(err.claim)} is invalid (${err.reason})`;
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm is not allowed for this issuer';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token (kid)';
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return 'several keys of the issuer match the token; it needs a kid';
  if (err instanceof errors.JOSENotSupported) return 'token uses an unsupported feature (crit, alg or key type)';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed token';
  return 'token could not be verified';
}
