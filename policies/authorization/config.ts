import { z } from 'zod';

/** A policy declared in config: allows when the claim equals one of the values (or contains one, for arrays). */
const claimPolicySchema = z.strictObject({ claim: z.string().min(1), oneOf: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) });

export const authorizationConfigSchema = z.strictObject({
  /** Enforce `@authenticated`, `@requiresScopes` and `@policy` from the supergraph. */
  enabled: z.boolean().default(true),
  /** filter: unauthorized fields are removed and come back null with an error each; reject: the whole operation is refused. */
  mode: z.enum(['filter', 'reject']).default('filter'),
  /** Named `@policy` functions declared here (claim matching); code can register more. */
  policies: z.record(z.string().min(1), claimPolicySchema).default({}),
  /** A module whose default export maps policy names to (async) functions; relative to the config file. */
  policyModule: z.string().min(1).optional(),
  /** `authenticated`: introspection (`__schema`, `__type`) needs a verified token. Off entirely with `server.introspection: false`. */
  introspection: z.enum(['public', 'authenticated']).default('public'),
});

export type AuthorizationConfig = z.output<typeof authorizationConfigSchema>;
