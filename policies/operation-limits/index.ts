import { tesseraError } from '../../gateway/errors/tessera-error.ts';
import { expandedFieldsError, finite, type PolicyModule } from '../policy.ts';
import { operationLimitsConfigSchema, type OperationLimitsConfig } from './config.ts';

/**
 * Refuses operations whose shape is abusive before any other operation policy runs: too deep, too
 * many aliases, root fields, directives or fields once fragments are expanded. Every number is read
 * from the shared operation analysis, which computed it without expanding anything, so a refusal
 * costs time linear in the document's tokens. The token limit (`maxTokens` of this policy's config) is
 * not here: gateway/features/token-limit.ts applies it in onRequest, before anything is parsed.
 */
export const operationLimitsPolicy: PolicyModule<OperationLimitsConfig> = {
  key: 'operationLimits',
  configSchema: operationLimitsConfigSchema,
  create(config) {
    return {
      name: 'operation-limits',
      onOperation({ analysis: shape }) {
        if (shape.depth > config.maxDepth) {
          throw tesseraError(
            'MAX_DEPTH_EXCEEDED',
            `Operation depth ${shape.depth} exceeds the maximum of ${config.maxDepth}.`,
            { extensions: { depth: shape.depth, max: config.maxDepth } },
          );
        }
        if (shape.aliases > config.maxAliases) {
          const aliases = finite(shape.aliases);
          throw tesseraError(
            'MAX_ALIASES_EXCEEDED',
            `Operation uses ${aliases} aliases; the maximum is ${config.maxAliases}.`,
            { extensions: { aliases, max: config.maxAliases } },
          );
        }
        if (shape.rootFields > config.maxRootFields) {
          const rootFields = finite(shape.rootFields);
          throw tesseraError(
            'MAX_ROOT_FIELDS_EXCEEDED',
            `Operation selects ${rootFields} root fields; the maximum is ${config.maxRootFields}.`,
            { extensions: { rootFields, max: config.maxRootFields } },
          );
        }
        if (shape.maxDirectivesPerField > config.maxDirectivesPerField) {
          throw tesseraError(
            'MAX_DIRECTIVES_EXCEEDED',
            `A field carries ${shape.maxDirectivesPerField} directives; the maximum is ${config.maxDirectivesPerField}.`,
            { extensions: { directives: shape.maxDirectivesPerField, max: config.maxDirectivesPerField } },
          );
        }
        if (shape.expandedFields > config.maxExpandedFields)
          throw expandedFieldsError(shape.expandedFields, config.maxExpandedFields);
      },
    };
  },
};
