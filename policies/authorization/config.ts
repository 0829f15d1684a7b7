import { z } from 'zod';

/** A policy declared in config: allows when the claim equals one of the values (or contains one, for arrays). */
const claimPolicySchema = z.strictObject({
  claim: z.string().min(1).describe('A claim of the verified token.'),
  oneOf: z
    .array(z.union([z.string(), z.number(), z.boolean()]))
    .min(1)
    .describe('Allow when the claim equals one of these (or, for an array claim, contains one).'),
});

export const authorizationConfigSchema = z.strictObject({
  enabled: z
    .boolean()
    .describe('Enforce `@authenticated`, `@requiresScopes` and `@policy` from the supergraph.')
    .default(true),
  mode: z
    .enum(['filter', 'reject'])
    .describe(
      '`filter`: unauthorized fields are removed and come back null with an error each, the rest is served; `reject`: the whole operation is refused.',
    )
    .default('filter'),
  policies: z
    .record(z.string().min(1), claimPolicySchema)
    .describe(
      'Named `@policy` functions declared in config, by claim matching; code can register more (`createGateway(config, { policyFunctions })`).',
    )
    .default({}),
  policyModule: z
    .string()
    .min(1)
    .describe('A module whose default export maps policy names to (async) functions; relative to the config file.')
    .optional(),
  introspection: z
    .enum(['public', 'authenticated'])
    .describe(
      '`authenticated`: introspection (`__schema`, `__type`) needs a verified token. Off entirely with `server.introspection: false`.',
    )
    .default('public'),
});

export type AuthorizationConfig = z.output<typeof authorizationConfigSchema>;
