import { z } from 'zod';
import { headerName } from '../config-values.ts';

const ipOrCidr = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

const identitySource = z.union([
  /** A verified JWT claim (e.g. `sub`, `client_id`). */
  z.strictObject({ claim: z.string().min(1) }),
  /** A request header such as an API key (stored hashed). */
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

export const rateLimitConfigSchema = z.strictObject({
  windowMs: z.int().min(1_000).default(60_000), // 1 min
  costPerWindow: z.int().positive().default(10_000),
  requestsPerWindow: z.int().positive().optional(),
  /** Who a request belongs to: the first source that yields a value wins. */
  identifyBy: z.array(identitySource).min(1).default([{ claim: 'sub' }, 'ip']),
  /** Peers whose X-Forwarded-For is believed (IPs or CIDRs); from anyone else it is ignored. */
  trustedProxies: z.array(ipOrCidr).default([]),
  /** Budgets by a verified claim's value (e.g. `plan: free|pro`); other callers get the top-level budget. */
  tiers: z.strictObject({ claim: z.string().min(1), plans: z.record(z.string().min(1), budgetSchema) }).optional(),
  /** `auto`: Redis when `redis` is configured, else in memory (one replica only). */
  store: z.enum(['auto', 'memory', 'redis']).default('auto'),
  /** When Redis is unreachable: `open` admits (warning log, metric), `closed` answers 503 RATE_LIMIT_UNAVAILABLE. */
  failureMode: z.enum(['open', 'closed']).default('open'),
});

export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
export type IdentitySource = z.output<typeof identitySource>;
