// PLACEHOLDER on branch `shell` until `exec`'s runtime is merged (ENGINE-SPLIT.md): the interface
// is exec's; this body answers introspection and `__typename` only, so the shell's framing, parse,
// validation and introspection paths can be run. Merging `exec` replaces this file.
// eslint-disable-next-line no-restricted-imports -- placeholder only: exec's runtime builds the API schema itself
import { Supergraph } from '@apollo/federation-internals';
import {
  execute,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Logger } from '../../observability/log.ts';
import type { RequestContext } from '../../pipeline/request-context.ts';
import type { SubgraphClient } from '../../subgraph-client/client.ts';

export interface RuntimeDeps {
  /** Tessera's subgraph client for a subgraph (name + routing URL from the supergraph's join__Graph), looked up per fetch. */
  readonly client: (subgraph: { name: string; url: string }) => SubgraphClient;
  readonly log: Logger;
}

export interface RuntimeOperation {
  readonly document: DocumentNode;
  readonly source: string;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly context: RequestContext;
  readonly override?: { readonly labels: ReadonlySet<string>; readonly percentage: number };
}

export interface RuntimeResult {
  data: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
}

export interface GenerationRuntime {
  readonly apiSchema: GraphQLSchema;
  execute(op: RuntimeOperation): Promise<RuntimeResult>;
}

export function createGenerationRuntime(supergraphSdl: string, deps: RuntimeDeps): GenerationRuntime {
  void deps;
  const apiSchema = Supergraph.build(supergraphSdl, { supportedFeatures: null }).apiSchema().toGraphQLJSSchema();
  return {
    apiSchema,
    async execute(op) {
      const introspectionOnly = op.operation.selectionSet.selections.every(
        (s) => s.kind === 'Field' && s.name.value.startsWith('__'),
      );
      if (!introspectionOnly) return { data: null, errors: [{ message: 'placeholder runtime: not implemented' }] };
      const result = await execute({
        schema: apiSchema,
        document: op.document,
        operationName: op.operationName,
        variableValues: op.variables,
      });
      return {
        data: (result.data as Record<string, unknown> | null | undefined) ?? null,
        ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}),
      };
    },
  };
}
