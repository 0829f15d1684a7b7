import type { ApolloServerPlugin } from '@apollo/server';
import { parse, type DocumentNode } from 'graphql';
import type { OperationDone, OperationPhase, ResponseView, SchemaPhase } from '../../policies/policy.ts';
import type { GatewayContext } from '../context.ts';
import type { PolicyRunner } from './runner.ts';

/**
 * The one Apollo plugin that runs policies. Apollo runs each hook of separate plugins in parallel,
 * which would break the fixed policy order, so every policy goes through this plugin:
 * `schemaDidLoadOrUpdate` → onSchema, `didResolveOperation` → onOperation (before planning),
 * `willSendResponse` → the after-callbacks. onRequest runs in the context function (http/server.ts).
 */
export function policyPlugin(runner: PolicyRunner): ApolloServerPlugin<GatewayContext> {
  const schemas = new WeakMap<object, SchemaPhase>();
  let current: SchemaPhase | null = null;
  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ apiSchema, coreSupergraphSdl }) {
          if (coreSupergraphSdl === undefined) return;
          current = { apiSchema, supergraphSdl: coreSupergraphSdl, supergraphDocument: parse(coreSupergraphSdl, { noLocation: true }) };
          schemas.set(apiSchema, current);
          runner.onSchema(current);
        },
      };
    },
    async requestDidStart() {
      if (!runner.hasOperationHooks) return;
      let done: OperationDone[] | null = null;
      return {
        async didResolveOperation(rc) {
          const state = rc.contextValue.policy;
          const writable = rc as { document: DocumentNode; queryHash: string };
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
            schema: schemas.get(rc.schema) ?? current!,
            document: rc.document,
            operation: rc.operation!,
            operationName: rc.operationName,
            variables: rc.request.variables ?? {},
            estimatedCost: null,
            replaceDocument(document, planKey) {
              // @apollo/gateway plans `document` and caches plans by `queryHash`; both must change.
              writable.document = document;
              writable.queryHash = `${rc.queryHash}:${planKey}`;
            },
          };
          done = await runner.onOperation(phase);
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
