import { ConfigError, indent } from '../gateway/config/config-file.ts';
import { composeSupergraph, type CompositionProblem } from './compose.ts';
import { readSubgraphSdl } from './fetch-sdl.ts';
import { formatStitchedSourceError, StitchedSourceError } from './stitched-source.ts';
import { loadSupergraphConfig } from './supergraph-config.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

export const EXIT = { ok: 0, compositionFailed: 1, usage: 2 } as const;

export interface ComposeCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/**
 * `tessera compose`: supergraph.yaml → supergraph SDL. Writes atomically (temp file + rename), so
 * a watching gateway never reads a half-written file, and writes nothing when composition fails.
 */
export async function composeCommand(opts: { config: string; output?: string }, io: ComposeCommandIo): Promise<number> {
  let sources;
  try {
    sources = loadSupergraphConfig(opts.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`error[CONFIG_INVALID]: ${err.summary}\n${indent(err.problems)}\n`);
    return EXIT.usage;
  }
  let subgraphs;
  try {
    subgraphs = await Promise.all(
      sources.map(async (s) => ({ name: s.name, url: s.routingUrl, sdl: await readSubgraphSdl(s) })),
    );
  } catch (err) {
    // A plain service's merge config is checked like composition: every problem, the source named.
    if (err instanceof StitchedSourceError) {
      io.stderr(formatStitchedSourceError(err));
      io.stderr(`composition failed: subgraph "${err.source}" (kind graphql) is not valid; nothing was written.\n`);
      return EXIT.compositionFailed;
    }
    io.stderr(`error: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const result = composeSupergraph(subgraphs);
  if (!result.ok) {
    io.stderr(
      `error[COMPOSITION_FAILED]: composition of ${subgraphs.length} subgraphs failed with ${result.errors.length} error${result.errors.length === 1 ? '' : 's'}; nothing was written.\n`,
    );
    for (const e of result.errors) io.stderr(formatProblem('error', e));
    return EXIT.compositionFailed;
  }
  for (const h of result.hints) io.stderr(formatProblem('hint', h));
  if (opts.output) {
    writeFileAtomic(opts.output, result.supergraphSdl);
    io.stderr(
      `composed ${subgraphs.length} subgraphs (${subgraphs.map((s) => s.name).join(', ')}) into ${opts.output}\n`,
    );
  } else {
    io.stdout(result.supergraphSdl);
  }
  return EXIT.ok;
}

export function formatProblem(kind: 'error' | 'hint', p: CompositionProblem): string {
  const where = p.locations.map((l) => `    at ${l.subgraph ?? '?'}:${l.line}:${l.column}`).join('\n');
  return `${kind}[${p.code}]: ${p.message}\n${where ? `${where}\n` : ''}`;
}
