import { z } from 'zod';

export const operationLimitsConfigSchema = z.strictObject({
  maxDepth: z
    .int()
    .positive()
    .describe('Deepest field nesting (fragments expanded; the root fields are depth 1); beyond, `MAX_DEPTH_EXCEEDED`.')
    .default(15),
  maxAliases: z
    .int()
    .min(0)
    .describe('Aliased fields in the whole operation (fragments expanded); beyond, `MAX_ALIASES_EXCEEDED`.')
    .default(30),
  maxRootFields: z
    .int()
    .positive()
    .describe('Fields selected at the root (fragments expanded); beyond, `MAX_ROOT_FIELDS_EXCEEDED`.')
    .default(20),
  maxTokens: z
    .int()
    .positive()
    .describe(
      'Lexical tokens in the document; counting stops at the limit, so a huge document is not read to its end; beyond, `MAX_TOKENS_EXCEEDED`.',
    )
    .default(5_000),
  maxDirectivesPerField: z
    .int()
    .min(0)
    .describe('Directives on one field (directive flooding); beyond, `MAX_DIRECTIVES_EXCEEDED`.')
    .default(5),
  maxExpandedFields: z
    .int()
    .positive()
    .describe(
      'Field selections once every fragment spread is expanded, counted without expanding (a fragment spreading another twice doubles it, so 20 small fragments can select 2^20 fields); beyond, `MAX_EXPANDED_FIELDS_EXCEEDED`.',
    )
    .default(2_000),
});

export type OperationLimitsConfig = z.output<typeof operationLimitsConfigSchema>;
