import { z } from 'zod';
import { headerName } from '../config-values.ts';

const ipOrCidr = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

const identitySource = z.union([
  /** A verified JWT claim (e.g. `sub`, `client_id`). */
  z.strictObject({ claim: z.string().min(1) }),
  /** A request header holding an API key: verified against `apiKeys`; without them the caller is billed by IP. */
  z.strictObject({ header: headerName }),
  /** The client address (X-Forwarded-For only from `trustedProxies`). */
  z.literal('ip'),
]);

const budgetSchema = z.strictObject({
  /** Query cost one identity may spend per window. */
  costPerWindow: z.int().positive(),
  /** Optional plain request count per window, checked in the same atomic step. */
  requestsPerWindow: z.int().positive().optional(),
});

const apiKeySchema = z.strictObject({
  /** Hex SHA-256 of the key (`printf %s "$KEY" | sha256sum`): the config never holds the key itself. */
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits (the SHA-256 of the key)')
    .transform((h) => h.toLowerCase()),
  /** The identity the key's requests are billed to (and logged as). */
  name: z.string().min(1),
  /** A plan of `tiers.plans`; without it the key gets the top-level budget. */
  tier: z.string().min(1).optional(),
});

export const rateLimitConfigSchema = z
  .strictObject({
    windowMs: z.int().min(1_000).default(60_000), // 1 min
    costPerWindow: z.int().positive().default(10_000),
    requestsPerWindow: z.int().positive().optional(),
    /** Who a request belongs to: the first source that yields a value wins. */
    identifyBy: z.array(identitySource).min(1).default([{ claim: 'sub' }, 'ip']),
    /** Peers whose X-Forwarded-For is believed (IPs or CIDRs); from anyone else it is ignored. */
    trustedProxies: z.array(ipOrCidr).default([]),
    /** IPv6 clients share one budget per prefix of this length: one host usually holds a whole /64. */
    ipv6PrefixLength: z.int().min(1).max(128).default(64),
    /** The API keys an `identifyBy` header source accepts; an unknown key is refused (401). */
    apiKeys: z.array(apiKeySchema).optional(),
    /** Budgets by a verified claim's value (e.g. `plan: free|pro`); other callers get the top-level budget. */
    tiers: z.strictObject({ claim: z.string().min(1), plans: z.record(z.string().min(1), budgetSchema) }).optional(),
    /**
     * Cost spent by an operation that an earlier policy refused (too deep, too expensive, forbidden),
     * so refused documents are not free to repeat. 0 turns it off.
     */
    refusedCost: z.int().min(0).default(1),
    /** `auto`: Redis when `redis` is configured, else in memory (one replica only). */
    store: z.enum(['auto', 'memory', 'redis']).default('auto'),
    /** When Redis is unreachable: `open` admits (warning log, metric), `closed` answers 503 RATE_LIMIT_UNAVAILABLE. */
    failureMode: z.enum(['open', 'closed']).default('open'),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.apiKeys?.forEach((k, i) => {
      if (seen.has(k.sha256)) ctx.addIssue({ code: 'custom', path: ['apiKeys', i, 'sha256'], message: 'the same key is listed twice' });
      seen.add(k.sha256);
      if (k.tier !== undefined && !c.tiers?.plans[k.tier]) ctx.addIssue({ code: 'custom', path: ['apiKeys', i, 'tier'], message: `no plan ${JSON.stringify(k.tier)} in \`tiers.plans\`` });
    });
    if (c.apiKeys && !c.identifyBy.some((s) => typeof s === 'object' && 'header' in s)) {
      ctx.addIssue({ code: 'custom', path: ['apiKeys'], message: '`apiKeys` needs a `{ header }` source in `identifyBy` to read them from' });
    }
  });

export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
export type IdentitySource = z.output<typeof identitySource>;
export type ApiKey = NonNullable<RateLimitConfig['apiKeys']>[number];
