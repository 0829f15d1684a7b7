import { isAbsolute, resolve } from 'node:path';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
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

/** Verifies tokens against the configured issuers and turns verified claims into an Identity. */
export class TokenVerifier {
  private readonly issuers = new Map<string, Issuer>();
  private readonly allAlgorithms: ReadonlySet<string>;
  private readonly cache = new Map<string, { identity: Identity; until: number }>();

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
  }

  warmUp(): void {
    for (const i of this.issuers.values()) i.remote?.warmUp();
  }

  /** Fetch counts per JWKS URL (exposed for metrics and tests). */
  jwksFetches(): Record<string, number> {
    return Object.fromEntries([...this.issuers.values()].filter((i) => i.remote).map((i) => [i.config.jwksUrl!, i.remote!.fetches]));
  }

  async verify(token: string): Promise<Identity> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.until > now) return hit.identity;
      this.cache.delete(token);
    }
    const identity = await this.verifyUncached(token);
    if (this.config.cacheSize > 0) {
      const exp = typeof identity.claims['exp'] === 'number' ? (identity.claims['exp'] as number) * 1000 : Number.POSITIVE_INFINITY;
      if (this.cache.size >= this.config.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, { identity, until: Math.min(exp, now + 300_000) });
    }
    return identity;
  }

  private async verifyUncached(token: string): Promise<Identity> {
    if (Buffer.byteLength(token) > this.config.maxTokenBytes) throw new InvalidTokenError(`token is larger than ${this.config.maxTokenBytes} bytes`);
    if (token.split('.').length !== 3) throw new InvalidTokenError('malformed token: expected three dot-separated parts');
    let alg: string | undefined;
    let iss: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('malformed token: header or payload is not base64url-encoded JSON');
    }
    // Checked before any key lookup, so `alg: none` or an HMAC token never reaches the key set.
    if (!alg || !this.allAlgorithms.has(alg)) throw new InvalidTokenError(`algorithm ${JSON.stringify(alg ?? null)} is not allowed`);
    const issuer = iss === undefined ? undefined : this.issuers.get(iss);
    if (!issuer) throw new InvalidTokenError(iss === undefined ? 'token has no issuer (iss)' : `issuer ${JSON.stringify(iss)} is not accepted`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.getKey, {
        issuer: issuer.config.issuer,
        audience: issuer.config.audiences,
        algorithms: issuer.config.algorithms,
        clockTolerance: this.config.clockToleranceSec,
      }));
    } catch (err) {
      if (err instanceof JwksUnavailableError) throw err;
      throw new InvalidTokenError(describeJoseError(err));
    }
    return this.identityOf(payload);
  }

  private identityOf(claims: JWTPayload): Identity {
    const scopes = new Set<string>();
    for (const name of this.config.scopeClaims) {
      const v = claims[name];
      if (typeof v === 'string') for (const s of v.split(' ')) if (s) scopes.add(s);
      if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') scopes.add(s);
    }
    return Object.freeze({ subject: typeof claims.sub === 'string' ? claims.sub : null, authenticated: true, scopes, claims: Object.freeze({ ...claims }) });
  }
}

/** jose's error → a reason for the client: specific, and never echoing the token. */
function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf': return 'token is not yet valid (nbf)';
      case 'iat': return 'token issued in the future (iat)';
      case 'iss': return 'unexpected issuer (iss)';
      case 'aud': return 'audience not accepted (aud)';
      default: return `claim ${JSON.stringify(err.claim)} is invalid (${err.reason})`;
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm is not allowed for this issuer';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token (kid)';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'several keys of the issuer match the token; it needs a kid';
  if (err instanceof errors.JOSENotSupported) return 'token uses an unsupported feature (crit, alg or key type)';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed token';
  return 'token could not be verified';
}
