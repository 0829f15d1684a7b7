import { readFile } from 'node:fs/promises';
import { introspectSdl, stitchedSubgraphSdl } from './stitched-source.ts';
import type { SubgraphSource } from './supergraph-config.ts';

/**
 * Reads one subgraph's SDL from its file, inline text, or its running service's `_service { sdl }`.
 * A plain service's (`kind: graphql`) is read from its file, inline text or introspection and
 * made into a federation subgraph SDL (throws a StitchedSourceError for a bad merge config).
 */
export async function readSubgraphSdl(source: SubgraphSource, timeoutMs = 10_000): Promise<string> {
  if (source.stitch) {
    const own =
      'subgraphUrl' in source.schema
        ? await introspectSdl(source.name, source.schema.subgraphUrl, timeoutMs)
        : 'file' in source.schema
          ? await readFile(source.schema.file, 'utf8')
          : source.schema.sdl;
    return stitchedSubgraphSdl(source.name, own, source.stitch);
  }
  if ('file' in source.schema) return readFile(source.schema.file, 'utf8');
  if ('sdl' in source.schema) return source.schema.sdl;
  const url = source.schema.subgraphUrl;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new Error(`subgraph "${source.name}": cannot fetch SDL from ${url} (${cause})`);
  }
  const body = (await res.json().catch(() => null)) as { data?: { _service?: { sdl?: unknown } } } | null;
  const sdl = body?.data?._service?.sdl;
  if (!res.ok || typeof sdl !== 'string') {
    throw new Error(`subgraph "${source.name}": ${url} answered ${res.status} without \`_service { sdl }\``);
  }
  return sdl;
}
