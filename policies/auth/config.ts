import { z } from 'zod';
import { headerName } from '../config-values.ts';

/** Asymmetric JWS algorithms: the default allow-list, so a public key can never be used as an HMAC secret. */
export const asymmetricAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const algorithm = z.enum([...asymmetricAlgorithms, 'HS256', 'HS384', 'HS512']);

const issuerSchema = z
  .strictObject({
    /** Expected `iss`; also how a token is matched to its issuer. */
    issuer: z.string().min(1),
    /** Remote JWKS (cached; refetched on rotation). */
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Local JWKS file, read at start-up; relative to the config file. */
    jwksFile: z.string().min(1).optional(),
    /** Accepted `aud` values; a token must name at least one. */
    audiences: z.array(z.string().min(1)).min(1),
    algorithms: z.array(algorithm).min(1).default([...asymmetricAlgorithms]),
  })
  .refine((i) => (i.jwksUrl === undefined) !== (i.jwksFile === undefined), { message: 'set exactly one of `jwksUrl` and `jwksFile`' });

export const authConfigSchema = z.strictObject({
  issuers: z
    .array(issuerSchema)
    .min(1)
    .superRefine((list, ctx) => {
      // A token is matched to its issuer by `iss`: a second entry for the same one would never be used.
      list.forEach((i, n) => {
        const first = list.findIndex((o) => o.issuer === i.issuer);
        if (first !== n) ctx.addIssue({ code: 'custom', path: [n, 'issuer'], message: `the same issuer as issuers.${first}` });
      });
    }),
  /** Refuse requests without a token (401). When false, they run as anonymous. */
  required: z.boolean().default(false),
  /** Where the token is read: a header with a scheme (default `Authorization: Bearer`) or a cookie. */
  token: z
    .union([
      z.strictObject({ header: headerName.default('authorization'), scheme: z.string().regex(/^\S*$/, 'one word, e.g. `Bearer` (or empty for a bare token)').default('Bearer') }),
      z.strictObject({ cookie: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'a cookie name (no spaces, `=` or `;`)') }),
    ])
    .default({ header: 'authorization', scheme: 'Bearer' }),
  /** Accepted clock skew for `exp`/`nbf`/`iat`. */
  clockToleranceSec: z.int().min(0).max(300).default(30),
  /** Refuse tokens without `exp`: one that never expires stays valid forever once leaked. */
  requireExp: z.boolean().default(true),
  /**
   * Accepted `typ` header values (RFC 8725 explicit typing, e.g. `[JWT, at+jwt]`), so another kind
   * of token of the same issuer (`refresh+jwt`, an ID token) is refused. Compared case-insensitively,
   * `application/` optional. Unset: `typ` is not checked.
   */
  allowedTypes: z.array(z.string().min(1)).min(1).optional(),
  /** Longer tokens are refused before any parsing. */
  maxTokenBytes: z.int().positive().default(8_192),
  /** Claims holding scopes: a space-separated string or an array. */
  scopeClaims: z.array(z.string().min(1)).min(1).default(['scope', 'scp']),
  jwks: z
    .strictObject({
      /** After an unknown `kid` or a failed fetch, no refetch for this long (IdP flood protection). */
      cooldownMs: z.int().min(0).default(30_000),
      /**
       * Keys older than this are refreshed in the background (on the next token seen); stale keys keep
       * serving if the IdP is down. A key removed by the IdP stops verifying after that refresh.
       */
      maxAgeMs: z.int().min(1_000).default(600_000),
      timeoutMs: z.int().min(100).default(3_000),
    })
    .prefault({}),
  /** Verified tokens remembered (until `exp`, at most 5 min, until the issuer's key set changes) so repeat callers skip signature checks. */
  cacheSize: z.int().min(0).default(10_000),
  /** Verified claims sent to subgraphs: `{ claim: sub, header: x-user-id }`. Client headers of these names are dropped. */
  forwardClaims: z.array(z.strictObject({ claim: z.string().min(1), header: headerName })).default([]),
  /** When set, all verified claims are sent as JSON in this header. */
  forwardClaimsAsJson: headerName.optional(),
});

export type AuthConfig = z.output<typeof authConfigSchema>;
export type IssuerConfig = AuthConfig['issuers'][number];
