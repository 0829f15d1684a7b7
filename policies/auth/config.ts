import { z } from 'zod';
import { headerName } from '../config-values.ts';

/** Asymmetric JWS algorithms: the default allow-list, so a public key can never be used as an HMAC secret. */
export const asymmetricAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
const algorithm = z.enum([...asymmetricAlgorithms, 'HS256', 'HS384', 'HS512']);

const issuerSchema = z
  .strictObject({
    issuer: z.string().min(1).describe('Expected `iss`; also how a token is matched to its issuer.'),
    jwksUrl: z
      .url({ protocol: /^https?$/ })
      .describe("The issuer's JWKS URL (cached; refetched on rotation). Exactly one of `jwksUrl` and `jwksFile`.")
      .optional(),
    jwksFile: z
      .string()
      .min(1)
      .describe('A local JWKS file, read at start-up; relative to the config file.')
      .optional(),
    audiences: z.array(z.string().min(1)).min(1).describe('Accepted `aud` values; a token must name at least one.'),
    algorithms: z
      .array(algorithm)
      .min(1)
      .describe(
        'Accepted signature algorithms; by default every asymmetric one, so a public key can never be used as an HMAC secret.',
      )
      .default([...asymmetricAlgorithms]),
  })
  .refine((i) => (i.jwksUrl === undefined) !== (i.jwksFile === undefined), {
    message: 'set exactly one of `jwksUrl` and `jwksFile`',
  });

export const authConfigSchema = z.strictObject({
  issuers: z
    .array(issuerSchema)
    .min(1)
    .superRefine((list, ctx) => {
      // A token is matched to its issuer by `iss`: a second entry for the same one would never be used.
      list.forEach((i, n) => {
        const first = list.findIndex((o) => o.issuer === i.issuer);
        if (first !== n)
          ctx.addIssue({ code: 'custom', path: [n, 'issuer'], message: `the same issuer as issuers.${first}` });
      });
    })
    .describe('Accepted token issuers, each with its keys, audiences and algorithms.'),
  required: z
    .boolean()
    .describe('Refuse requests without a token (401); when false, they run as anonymous.')
    .default(false),
  token: z
    .union([
      z.strictObject({
        header: headerName.default('authorization'),
        scheme: z.string().regex(/^\S*$/, 'one word, e.g. `Bearer` (or empty for a bare token)').default('Bearer'),
      }),
      z.strictObject({
        cookie: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'a cookie name (no spaces, `=` or `;`)'),
      }),
    ])
    .describe("Where the token is read: a header with a scheme (`scheme: ''` for a bare token), or `{ cookie: name }`.")
    .default({ header: 'authorization', scheme: 'Bearer' }),
  clockToleranceSec: z
    .int()
    .min(0)
    .max(300)
    .describe('Accepted clock skew for `exp`, `nbf` and `iat` (an `iat` further in the future is refused).')
    .default(30),
  requireExp: z
    .boolean()
    .describe(
      'Refuse tokens without `exp` (401 `token has no expiry (exp)`): one that never expires stays valid forever once leaked.',
    )
    .default(true),
  allowedTypes: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      'Accepted `typ` header values, e.g. `[JWT, at+jwt]` (RFC 8725 explicit typing: another kind of token of the same issuer, `refresh+jwt` or an ID token, is refused); case-insensitive, `application/` optional. Unset: `typ` is not checked.',
    )
    .optional(),
  maxTokenBytes: z.int().positive().describe('Longer tokens are refused before any parsing.').default(8_192),
  scopeClaims: z
    .array(z.string().min(1))
    .min(1)
    .describe('Claims holding scopes: a space-separated string or an array.')
    .default(['scope', 'scp']),
  jwks: z
    .strictObject({
      cooldownMs: z
        .int()
        .min(0)
        .describe(
          'After an unknown `kid` or a failed fetch, no refetch for this long: a flood of random `kid`s costs one fetch.',
        )
        .default(30_000),
      maxAgeMs: z
        .int()
        .min(1_000)
        .describe(
          'Keys older than this are refreshed in the background on the next token seen, cached or not (stale keys serve while the IdP is down); a key the IdP removed stops verifying after that refresh.',
        )
        .default(600_000),
      timeoutMs: z.int().min(100).describe('JWKS fetch timeout.').default(3_000),
    })
    .describe('Fetching and caching the `jwksUrl` key sets.')
    .prefault({}),
  cacheSize: z
    .int()
    .min(0)
    .describe(
      "Verified tokens remembered (until `exp`, at most 5 min, and only while the issuer's key set is unchanged), so repeat callers skip signature checks.",
    )
    .default(10_000),
  forwardClaims: z
    .array(
      z.strictObject({
        claim: z.string().min(1).describe('A claim of the verified token.'),
        header: headerName.describe('The header it is sent to subgraphs in.'),
      }),
    )
    .describe('Verified claims sent to subgraphs as headers; client headers of those names are dropped.')
    .default([]),
  forwardClaimsAsJson: headerName
    .describe('A header that carries all verified claims as JSON to subgraphs.')
    .optional(),
});

export type AuthConfig = z.output<typeof authConfigSchema>;
export type IssuerConfig = AuthConfig['issuers'][number];
