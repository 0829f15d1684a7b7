import type { GraphQLSchema } from 'graphql';
import { tesseraError } from '../../gateway/errors/tessera-error.ts';
import { finite, type PolicyModule } from '../policy.ts';
import { estimatedCost } from '../slots.ts';
import { costConfigSchema, type CostConfig } from './config.ts';
import { readCostWeights, type CostWeights } from './directives.ts';
import { estimateCost, InvalidSlicingArgumentError, SlicingArgumentError } from './estimate.ts';

/**
 * Static cost analysis: estimates each operation from the supergraph's `@cost`/`@listSize` and
 * refuses those above `maxCost` before planning. The estimate is handed to the rate limiter
 * through the `estimatedCost` slot (policies/slots.ts).
 */
export const costPolicy: PolicyModule<CostConfig> = {
  key: 'cost',
  configSchema: costConfigSchema,
  create(config, deps) {
    const bySchema = new WeakMap<GraphQLSchema, CostWeights>();
    let current: CostWeights = { cost: new Map(), listSize: new Map() };
    // Operations without variables always cost the same: computed once per analysis (document, operation, generation).
    const fixed = new WeakMap<object, number>();
    const histogram = deps.metrics.histogram(
      'tessera_operation_cost',
      'Estimated cost of operations that passed validation.',
      [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    );
    const refused = deps.metrics.counter('tessera_cost_refused_total', 'Operations refused as too expensive.');
    return {
      name: 'cost',
      onSchema(s) {
        current = readCostWeights(s.supergraphDocument);
        bySchema.set(s.apiSchema, current);
      },
      onOperation(op) {
        const analysis = op.analysis;
        const cacheable = !op.operation.variableDefinitions?.length;
        let estimated = cacheable ? fixed.get(analysis.id) : undefined;
        if (estimated === undefined) {
          const schema = op.schema.apiSchema;
          try {
            estimated = finite(estimateCost(analysis, bySchema.get(schema) ?? current, config));
          } catch (err) {
            if (err instanceof InvalidSlicingArgumentError) throw tesseraError('INVALID_SLICING_ARGUMENT', err.message);
            if (err instanceof SlicingArgumentError) throw tesseraError('BAD_USER_INPUT', err.message);
            throw err;
          }
          if (cacheable) fixed.set(analysis.id, estimated);
        }
        histogram.observe(estimated);
        op.set(estimatedCost, estimated);
        if (estimated > config.maxCost) {
          refused.inc();
          throw tesseraError(
            'COST_ESTIMATED_TOO_EXPENSIVE',
            `Operation estimated cost ${estimated} exceeds the maximum of ${config.maxCost}.`,
            { extensions: { cost: { estimated, max: config.maxCost } } },
          );
        }
        const header = op.headers['x-tessera-cost'];
        if (config.exposeOnRequest && header === 'true') {
          const cost = { estimated, max: config.maxCost };
          return (response) => {
            response.extensions = { ...response.extensions, cost };
          };
        }
        return undefined;
      },
    };
  },
};
