import { z } from 'zod';
import { authPolicy } from './auth/index.ts';
import { authorizationPolicy } from './authorization/index.ts';
import { costPolicy } from './cost/index.ts';
import { operationLimitsPolicy } from './operation-limits/index.ts';
import type { PolicyModule } from './policy.ts';
import { rateLimitPolicy } from './rate-limit/index.ts';

/**
 * Every policy module, in execution order: who is calling, what they may see, how big the
 * operation may be, what it costs, whether the budget allows it. An unauthenticated or oversized
 * request therefore never spends rate-limit budget.
 */
export const policyModules: ReadonlyArray<PolicyModule<any>> = [authPolicy, authorizationPolicy, operationLimitsPolicy, costPolicy, rateLimitPolicy];

/** `policies:` in the gateway config: each module's own schema under its key. */
export const policiesConfigSchema = z
  .strictObject({
    /** JWT authentication; absent = every caller is anonymous. */
    auth: authPolicy.configSchema.optional(),
    authorization: authorizationPolicy.configSchema.prefault({}),
    /** On by default: depth, aliases, root fields, tokens, directives. */
    operationLimits: operationLimitsPolicy.configSchema.prefault({}),
    /** Static cost analysis; absent = no cost limit (rate limits then count 1 per request). */
    cost: costPolicy.configSchema.optional(),
    /** Cost-based rate limits per identity; absent = none. */
    rateLimit: rateLimitPolicy.configSchema.optional(),
  })
  .prefault({});
