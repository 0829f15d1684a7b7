import { z } from 'zod';
import { authPolicy } from './auth/index.ts';
import { authorizationPolicy } from './authorization/index.ts';
import type { PolicyModule } from './policy.ts';

/**
 * Every policy module, in execution order: who is calling, what they may see, how big the
 * operation may be, what it costs, whether the budget allows it. An unauthenticated or oversized
 * request therefore never spends rate-limit budget.
 */
export const policyModules: ReadonlyArray<PolicyModule<any>> = [authPolicy, authorizationPolicy];

/** `policies:` in the gateway config: each module's own schema under its key. */
export const policiesConfigSchema = z
  .strictObject({
    /** JWT authentication; absent = every caller is anonymous. */
    auth: authPolicy.configSchema.optional(),
    authorization: authorizationPolicy.configSchema.prefault({}),
  })
  .prefault({});
