import { composeServices } from '@apollo/composition';
import { supergraphDescriptorLine } from '../gateway/stitched-sources/descriptor.ts';
import { getLocation, parse, type GraphQLError, type GraphQLSchema } from 'graphql';

export interface SubgraphSdl {
  name: string;
  url: string;
  sdl: string;
}

export interface CompositionProblem {
  code: string;
  message: string;
  /** Subgraph + position for each AST node the error points at. */
  locations: Array<{ subgraph: string | null; line: number; column: number }>;
}

export type ComposeResult =
  | { ok: true; supergraphSdl: string; hints: CompositionProblem[]; apiSchema(): GraphQLSchema }
  | { ok: false; errors: CompositionProblem[] };

/** Federation 2 composition of subgraph SDLs; never throws for bad input, it reports it. */
export function composeSupergraph(subgraphs: readonly SubgraphSdl[]): ComposeResult {
  const services = [];
  const syntaxErrors: CompositionProblem[] = [];
  for (const s of subgraphs) {
    try {
      services.push({ name: s.name, url: s.url, typeDefs: parse(s.sdl) });
    } catch (err) {
      const e = err as GraphQLError;
      const loc = e.locations?.[0];
      syntaxErrors.push({
        code: 'INVALID_GRAPHQL',
        message: `[${s.name}] ${e.message}`,
        locations: loc ? [{ subgraph: s.name, line: loc.line, column: loc.column }] : [],
      });
    }
  }
  if (syntaxErrors.length) return { ok: false, errors: syntaxErrors };

  const result = composeServices(services);
  if (result.errors)
    return { ok: false, errors: result.errors.map((e) => toProblem(e.extensions['code'], e.message, e.nodes)) };
  // Composition drops comments: a plain service's descriptor line is carried to the supergraph here.
  const stitched = subgraphs.flatMap((s) => supergraphDescriptorLine(s.name, s.sdl) ?? []);
  return {
    ok: true,
    supergraphSdl: stitched.length
      ? `${result.supergraphSdl.trimEnd()}\n\n${stitched.join('\n')}\n`
      : result.supergraphSdl,
    hints: result.hints.map((h) => toProblem(h.definition.code, h.message, h.nodes)),
    // What clients see (no join/link machinery, no @inaccessible): breaking changes are judged here.
    apiSchema: () => result.schema.toAPISchema().toGraphQLJSSchema(),
  };
}

type NodeWithSubgraph = { subgraph?: string; loc?: { start: number; source: import('graphql').Source } };

function toProblem(code: unknown, message: string, nodes: ReadonlyArray<unknown> | undefined): CompositionProblem {
  const locations = (nodes ?? []).flatMap((n) => {
    const node = n as NodeWithSubgraph;
    if (!node.loc) return [];
    const { line, column } = getLocation(node.loc.source, node.loc.start);
    return [{ subgraph: node.subgraph ?? null, line, column }];
  });
  return { code: typeof code === 'string' ? code : 'COMPOSITION_ERROR', message, locations };
}
