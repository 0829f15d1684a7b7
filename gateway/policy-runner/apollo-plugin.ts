import type { ApolloServerPlugin } from '@apollo/server';
import { parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { analysisGeneration, analyzeOperation, finite, RequestAnalysis, type AnalysisCore, type AnalysisGeneration } from '../../policies/operation-analysis.ts';
import type { OperationDone, OperationPhase, ResponseView, SchemaPhase } from '../../policies/policy.ts';
import type { GatewayContext } from '../context.ts';
import type { PolicyRunner } from './runner.ts';

/**
 * The one Apollo plugin that runs policies. Apollo runs each hook of separate plugins in parallel,
 * which would break the fixed policy order, so every policy goes through this plugin:
 * `schemaDidLoadOrUpdate` → onSchema, `didResolveOperation` → onOperation (before planning),
 * `willSendResponse` → the after-callbacks. onRequest runs in the context function (http/server.ts).
 *
 * Before the policies run, the operation is analysed once (policies/operation-analysis.ts): the
 * analysis is cached per supergraph generation in a WeakMap keyed by the DocumentNode, which
 * Apollo's document store hands back as the same object for the same query text, so a repeated
 * query costs a map lookup. `maxExpandedFields` bounds any per-position walk a policy makes.
 */
export function policyPlugin(runner: PolicyRunner, limits: { maxExpandedFields: number }): ApolloServerPlugin<GatewayContext> {
  const schemas = new WeakMap<object, { phase: SchemaPhase; generation: AnalysisGeneration; analyses: WeakMap<DocumentNode, Map<OperationDefinitionNode, AnalysisCore | null>> }>();
  let current: SchemaPhase | null = null;
  let currentEntry: ReturnType<typeof schemas.get> = undefined;
  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ apiSchema, coreSupergraphSdl }) {
          if (coreSupergraphSdl === undefined) return;
          current = { apiSchema, supergraphSdl: coreSupergraphSdl, supergraphDocument: parse(coreSupergraphSdl, { noLocation: true }) };
          currentEntry = { phase: current, generation: analysisGeneration(apiSchema, current.supergraphDocument), analyses: new WeakMap() };
          schemas.set(apiSchema, currentEntry);
          runner.onSchema(current);
        },
      };
    },
    async requestDidStart() {
      if (!runner.hasOperationHooks) return;
      let done: OperationDone[] | null = null;
      return {
        async didResolveOperation(rc) {
          // No single operation: Apollo answers OPERATION_RESOLUTION_FAILURE itself and executes nothing.
          if (!rc.operation) return;
          const state = rc.contextValue.policy;
          const writable = rc as { document: DocumentNode; queryHash: string };
          const gen = schemas.get(rc.schema) ?? currentEntry!;
          let byOperation = gen.analyses.get(rc.document);
          if (!byOperation) gen.analyses.set(rc.document, (byOperation = new Map()));
          const cached = byOperation.has(rc.operation);
          let core = byOperation.get(rc.operation);
          if (core === undefined) byOperation.set(rc.operation, (core = analyzeOperation(gen.generation, rc.document, rc.operation)));
          // The schema has no root type for this operation kind: nothing can execute it.
          if (!core) return;
          const analysis = new RequestAnalysis(core, { variables: rc.request.variables ?? {}, cached, maxExpandedFields: limits.maxExpandedFields });
          const phase: OperationPhase = {
            requestId: state.requestId,
            headers: state.headers,
            remoteAddress: state.remoteAddress,
            log: state.log,
            get identity() {
              return state.identity;
            },
            set identity(v) {
              state.identity = v;
            },
            setResponseHeader: (n, v) => state.setResponseHeader(n, v),
            schema: gen.phase,
            document: rc.document,
            operation: rc.operation,
            operationName: rc.operationName,
            variables: rc.request.variables ?? {},
            analysis,
            estimatedCost: null,
            replaceDocument(document, planKey) {
              // @apollo/gateway plans `document` and caches plans by `queryHash`; both must change.
              writable.document = document;
              writable.queryHash = `${rc.queryHash}:${planKey}`;
            },
          };
          try {
            done = await runner.onOperation(phase);
          } finally {
            // The work this request cost, refused or not: what test/e2e/hostile-documents.test.ts reads.
            state.log.debug({ requestId: state.requestId, nodesVisited: analysis.nodesVisited, cached, expandedFields: finite(analysis.expandedFields) }, 'operation analysed');
          }
        },
        async willSendResponse(rc) {
          if (!done || rc.response.body.kind !== 'single') return;
          const view = rc.response.body.singleResult as ResponseView;
          for (const d of done) await d(view);
        },
      };
    },
  };
}
