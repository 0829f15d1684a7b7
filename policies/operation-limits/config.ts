import { z } from 'zod';

export const operationLimitsConfigSchema = z.strictObject({
  /** Deepest field nesting (fragments expanded; the root fields are depth 1). */
  maxDepth: z.int().positive().default(15),
  /** Aliased fields in the whole operation (fragments expanded). */
  maxAliases: z.int().min(0).default(30),
  /** Fields selected at the root (fragments expanded). */
  maxRootFields: z.int().positive().default(20),
  /** Lexical tokens: enforced by the parser, which stops at the limit instead of parsing the rest. */
  maxTokens: z.int().positive().default(5_000),
  /** Directives on one field (directive-flooding attacks). */
  maxDirectivesPerField: z.int().min(0).default(5),
  /**
   * Field selections once every fragment spread is expanded, counted without expanding: a
   * fragment spreading another twice doubles it, so 20 small fragments can select 2^20 fields.
   */
  maxExpandedFields: z.int().positive().default(2_000),
});

export type OperationLimitsConfig = z.output<typeof operationLimitsConfigSchema>;
