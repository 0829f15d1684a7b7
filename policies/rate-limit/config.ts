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
  costPerWindow: z.int().positive().describe("The plan's cost units per identity per window."),
  requestsPerWindow: z
    .int()
    .positive()
    .describe("The plan's plain request count per identity per window, checked in the same atomic step.")
    .optional(),
});

const apiKeySchema = z.strictObject({
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits (the SHA-256 of the key)')
    .describe('Hex SHA-256 of the key (`printf %s "$KEY" | sha256sum`): the config never holds the key itself.')
    .transform((h) => h.toLowerCase()),
  name: z
    .string()
    .min(1)
    .describe(
      "The identity the key's requests are billed to (and logged as); several keys may share one, e.g. during a rotation.",
    ),
  tier: z.string().min(1).describe('A plan of `tiers.plans`; without it the key gets the top-level budget.').optional(),
});

export const rateLimitConfigSchema = z
  .strictObject({
    windowMs: z
      .int()
      .min(1_000)
      .describe('The budget window (GCRA: the budget refills continuously over it).')
      .default(60_000), // 1 min
    costPerWindow: z
      .int()
      .positive()
      .describe('Cost units one identity may spend per window; each operation spends `max(1, estimated cost)`.')
      .default(10_000),
    requestsPerWindow: z
      .int()
      .positive()
      .describe('A plain request count per identity per window, checked in the same atomic step as the cost.')
      .optional(),
    identifyBy: z
      .array(identitySource)
      .min(1)
      .describe(
        'Who a request belongs to, the first source that yields a value wins: `{ claim }` (of a verified token), `{ header }` (an API key, verified against `apiKeys`; without them the caller is billed by IP), `ip`.',
      )
      .default([{ claim: 'sub' }, 'ip']),
    trustedProxies: z
      .array(ipOrCidr)
      .describe('Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed; from anyone else it is ignored.')
      .default([]),
    ipv6PrefixLength: z
      .int()
      .min(1)
      .max(128)
      .describe('IPv6 clients share one budget per prefix of this length: one host usually holds a whole /64.')
      .default(64),
    apiKeys: z
      .array(apiKeySchema)
      .describe(
        'The API keys a `{ header }` source of `identifyBy` accepts; a key not listed is refused with 401 `UNAUTHENTICATED`.',
      )
      .optional(),
    tiers: z
      .strictObject({
        claim: z.string().min(1).describe('The verified claim whose value picks the plan (e.g. `plan`).'),
        plans: z.record(z.string().min(1), budgetSchema).describe('Budgets per plan name.'),
      })
      .describe("Budgets by a verified claim's value; callers without a matching plan get the top-level budget.")
      .optional(),
    refusedCost: z
      .int()
      .min(0)
      .describe(
        'Cost spent by an operation an earlier policy refused (too deep, too expensive, forbidden), so refused documents are not free to repeat; `0` turns it off.',
      )
      .default(1),
    store: z
      .enum(['auto', 'memory', 'redis'])
      .describe('`auto`: Redis when `redis` is configured, else in memory (one replica only); `memory`; `redis`.')
      .default('auto'),
    failureMode: z
      .enum(['open', 'closed'])
      .describe(
        'When Redis is unreachable: `open` admits (one warning per outage, counted as `store_error`), `closed` answers 503 `RATE_LIMIT_UNAVAILABLE`.',
      )
      .default('open'),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.apiKeys?.forEach((k, i) => {
      if (seen.has(k.sha256))
        ctx.addIssue({ code: 'custom', path: ['apiKeys', i, 'sha256'], message: 'the same key is listed twice' });
      seen.add(k.sha256);
      if (k.tier !== undefined && !c.tiers?.plans[k.tier])
        ctx.addIssue({
          code: 'custom',
          path: ['apiKeys', i, 'tier'],
          message: `no plan ${JSON.stringify(k.tier)} in \`tiers.plans\``,
        });
    });
    if (c.apiKeys && !c.identifyBy.some((s) => typeof s === 'object' && 'header' in s)) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKeys'],
        message: '`apiKeys` needs a `{ header }` source in `identifyBy` to read them from',
      });
    }
  });

export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
export type IdentitySource = z.output<typeof identitySource>;
export type ApiKey = NonNullable<RateLimitConfig['apiKeys']>[number];
