import type { DocumentNode } from 'graphql';
import { tesseraError } from '../../gateway/errors/tessera-error.ts';
import type { PolicyModule } from '../policy.ts';
import { operationLimitsConfigSchema, type OperationLimitsConfig } from './config.ts';
import { measure, type OperationShape } from './measure.ts';

/**
 * Refuses operations whose shape is abusive before any planning: too deep, too many aliases,
 * root fields or directives. The token limit is not here: the parser enforces it (Apollo's
 * `parseOptions.maxTokens`, set from this policy's config) so a huge document is never fully parsed.
 */
export const operationLimitsPolicy: PolicyModule<OperationLimitsConfig> = {
  key: 'operationLimits',
  configSchema: operationLimitsConfigSchema,
  create(config) {
    const shapes = new WeakMap<DocumentNode, Map<string, OperationShape>>();
    return {
      name: 'operation-limits',
      onOperation(op) {
        let byName = shapes.get(op.document);
        if (!byName) shapes.set(op.document, (byName = new Map()));
        const key = op.operationName ?? '';
        let shape = byName.get(key);
        if (!shape) byName.set(key, (shape = measure(op.document, op.operation)));
        if (shape.depth > config.maxDepth) {
          throw tesseraError('MAX_DEPTH_EXCEEDED', `Operation depth ${shape.depth} exceeds the maximum of ${config.maxDepth}.`, { extensions: { depth: shape.depth, max: config.maxDepth } });
        }
        if (shape.aliases > config.maxAliases) {
          throw tesseraError('MAX_ALIASES_EXCEEDED', `Operation uses ${shape.aliases} aliases; the maximum is ${config.maxAliases}.`, { extensions: { aliases: shape.aliases, max: config.maxAliases } });
        }
        if (shape.rootFields > config.maxRootFields) {
          throw tesseraError('MAX_ROOT_FIELDS_EXCEEDED', `Operation selects ${shape.rootFields} root fields; the maximum is ${config.maxRootFields}.`, { extensions: { rootFields: shape.rootFields, max: config.maxRootFields } });
        }
        if (shape.maxDirectivesOnAField > config.maxDirectivesPerField) {
          throw tesseraError('MAX_DIRECTIVES_EXCEEDED', `A field carries ${shape.maxDirectivesOnAField} directives; the maximum is ${config.maxDirectivesPerField}.`, { extensions: { directives: shape.maxDirectivesOnAField, max: config.maxDirectivesPerField } });
        }
      },
    };
  },
};
