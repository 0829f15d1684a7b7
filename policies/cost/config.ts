import { z } from 'zod';

export const costConfigSchema = z.strictObject({
  /** Operations estimated above this are refused (COST_ESTIMATED_TOO_EXPENSIVE) before any subgraph call. */
  maxCost: z.int().positive().default(5_000),
  /** List size assumed for a list field with no `@listSize` and no slicing argument value. */
  defaultListSize: z.int().min(0).default(10),
  /** Added for each root mutation field (mutations write; they cost more than they select). */
  mutationBaseCost: z.int().min(0).default(10),
  /**
   * Each `__schema` or `__type` selection (after fragment expansion): introspection resolves in the
   * gateway, but a full schema walk is real work, so it is not free to repeat through aliases.
   */
  introspectionCost: z.int().min(0).default(10),
  /** Clients may send `x-tessera-cost: true` to get `extensions.cost` in the response. */
  exposeOnRequest: z.boolean().default(true),
});

export type CostConfig = z.output<typeof costConfigSchema>;
