import { z } from 'zod';

export const costConfigSchema = z.strictObject({
  maxCost: z
    .int()
    .positive()
    .describe(
      'Operations estimated above this are refused (400 `COST_ESTIMATED_TOO_EXPENSIVE`) before any subgraph call.',
    )
    .default(5_000),
  defaultListSize: z
    .int()
    .min(0)
    .describe('List size assumed for a list field with no `@listSize` and no slicing argument value.')
    .default(10),
  mutationBaseCost: z
    .int()
    .min(0)
    .describe('Added for each root mutation field (mutations write; they cost more than they select).')
    .default(10),
  introspectionCost: z
    .int()
    .min(0)
    .describe(
      'Each `__schema` or `__type` selection, fragments expanded: introspection resolves in the gateway, but a full schema walk is real work, so it is not free to repeat through aliases.',
    )
    .default(10),
  exposeOnRequest: z
    .boolean()
    .describe('A request with `x-tessera-cost: true` gets `extensions.cost` in its response.')
    .default(true),
});

export type CostConfig = z.output<typeof costConfigSchema>;
