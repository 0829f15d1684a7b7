import type { OperationTypeNode } from 'graphql';
import type { ResponseView } from '../../pipeline/plugin.ts';
import type { RequestContext } from '../../pipeline/request-context.ts';
import type { EnginePhases, EngineSpan } from '../engine.ts';

/** What the Apollo engine learns about one request on its way through Apollo Server. */
export interface Exchange {
  /** The result object Apollo serialises (after the done-callbacks patched it). */
  result: ResponseView | null;
  operationType: OperationTypeNode | null;
  /** Errors masked for the client, with their causes. */
  readonly internal: Error[];
  /** The open plan or execute span of a traced request (apollo-engine.ts opens and ends them). */
  step?: { plan: EngineSpan | null; execute: EngineSpan | null };
}

/** Apollo's per-request context value: Tessera's request context plus the engine's own state. */
export interface ApolloContext {
  readonly tessera: RequestContext;
  readonly phases: EnginePhases;
  readonly exchange: Exchange;
}
