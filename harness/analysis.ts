import { parse, type OperationDefinitionNode } from 'graphql';
import { analyzeOperation, RequestAnalysis, type AnalysisGeneration } from '../gateway/pipeline/operation-analysis.ts';

/** The per-request analysis the gateway would hand the policies, for unit tests. */
export function analysisOf(
  generation: AnalysisGeneration,
  query: string,
  variables: Record<string, unknown> = {},
  opts: { operationName?: string; maxExpandedFields?: number } = {},
): RequestAnalysis {
  const document = parse(query);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === 'OperationDefinition' && (opts.operationName === undefined || d.name?.value === opts.operationName),
  );
  if (!operation) throw new Error('no such operation');
  const core = analyzeOperation(generation, document, operation);
  if (!core) throw new Error('the schema has no root type for this operation');
  return new RequestAnalysis(core, {
    variables,
    cached: false,
    maxExpandedFields: opts.maxExpandedFields ?? Number.POSITIVE_INFINITY,
  });
}
