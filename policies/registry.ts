import { z } from 'zod';
import { authPolicy } from './auth/index.ts';
import { authorizationPolicy } from './authorization/index.ts';
import { costPolicy } from './cost/index.ts';
import { operationLimitsPolicy } from './operation-limits/index.ts';
import type { PolicyModule } from './policy.ts';
import { rateLimitPolicy } from './rate-limit/index.ts';

/**
 * Every policy module, in execution order, cheapest checks first: who is calling (auth has only a
 * request hook: bounded token verification, before the document is even parsed), how big the
 * operation may be (numbers the shared analysis already holds), what the caller may see, what it
 * costs, whether the budget allows it. An oversized document is refused before authorization or
 * cost look at it, and an unauthenticated or oversized request never spends rate-limit budget.
 */
export const policyModules: ReadonlyArray<PolicyModule<any>> = [
  authPolicy,
  operationLimitsPolicy,
  authorizationPolicy,
  costPolicy,
  rateLimitPolicy,
];

/** `policies:` in the gateway config: each module's own schema under its key. */
export const policiesConfigSchema = z
  .strictObject({
    auth: authPolicy.configSchema.describe('JWT authentication; absent: every caller is anonymous.').optional(),
    authorization: authorizationPolicy.configSchema
      .describe("Enforces the supergraph's `@authenticated`, `@requiresScopes` and `@policy` before planning.")
      .prefault({}),
    operationLimits: operationLimitsPolicy.configSchema
      .describe('Limits checked before planning, each refused with its own code and HTTP 400. On by default.')
      .prefault({}),
    cost: costPolicy.configSchema
      .describe(
        'Static cost analysis (`@cost`, `@listSize`); absent: no estimate, and rate limits count 1 per request.',
      )
      .optional(),
    rateLimit: rateLimitPolicy.configSchema.describe('Cost-based rate limits per identity; absent: none.').optional(),
  })
  .describe(
    'Edge policies: each key configures one; `authorization` and `operationLimits` are on by default, the others when present.',
  )
  .prefault({});
