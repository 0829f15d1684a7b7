import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSubgraphSdl } from './fetch-sdl.ts';
import { loadSupergraphConfig } from './supergraph-config.ts';
import { RegistryClient, RegistryRequestError } from './registry/client.ts';
import { exitCodeOf, renderReport, type ReportFormat } from './report.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

const registryOptions = {
  registry: { type: 'string' },
  graph: { type: 'string' },
  variant: { type: 'string', default: 'production' },
  token: { type: 'string' },
} as const;

type Io = { stdout: (s: string) => void; stderr: (s: string) => void; isTTY: boolean };

function clientFrom(values: { registry?: string; graph?: string; variant?: string; token?: string }, env: NodeJS.ProcessEnv): RegistryClient {
  const url = values.registry ?? env['TESSERA_REGISTRY_URL'];
  const token = values.token ?? env['TESSERA_REGISTRY_TOKEN'];
  if (!url || !values.graph || !token) throw new UsageError('--registry (or TESSERA_REGISTRY_URL), --graph and a token (--token or TESSERA_REGISTRY_TOKEN) are required');
  // Longer than the registry's default composition.timeoutMs (30 s), so a slow publish or check is
  // answered by the registry (published, or COMPOSITION_TIMEOUT) instead of looking unreachable.
  return new RegistryClient({ url, graph: values.graph, variant: values.variant ?? 'production', token, timeoutMs: 120_000 });
}

class UsageError extends Error {}

/** `tessera subgraph check|publish` and `tessera supergraph fetch`. Exit codes: 0 ok/pass, 1 breaking or composition failure, 2 usage/network/auth. */
export async function registryCli(command: 'check' | 'publish' | 'fetch', args: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    if (command === 'fetch') {
      const { values } = parseArgs({ args, options: { ...registryOptions, output: { type: 'string' }, version: { type: 'string' } } });
      const got = await clientFrom(values, env).supergraph(null, values.version ? Number(values.version) : undefined);
      if (values.output) {
        writeFileAtomic(values.output, got!.sdl);
        io.stderr(`wrote ${values.graph}@${values.variant} version ${got!.version} to ${values.output}\n`);
      } else io.stdout(got!.sdl);
      return 0;
    }
    const { values } = parseArgs({
      args,
      options: { ...registryOptions, name: { type: 'string' }, schema: { type: 'string' }, url: { type: 'string' }, config: { type: 'string' }, format: { type: 'string', default: 'text' }, 'usage-days': { type: 'string' } },
    });
    const client = clientFrom(values, env);
    let subgraphs: Array<{ name: string; sdl: string; url: string }>;
    if (values.config) {
      // Every local subgraph of a Rover-style supergraph.yaml at once.
      const sources = loadSupergraphConfig(values.config);
      subgraphs = await Promise.all(sources.map(async (s) => ({ name: s.name, sdl: await readSubgraphSdl(s), url: s.routingUrl })));
    } else {
      if (!values.name || !values.schema) throw new UsageError('--name and --schema (or --config supergraph.yaml) are required');
      subgraphs = [{ name: values.name, sdl: readFileSync(values.schema, 'utf8'), url: values.url ?? '' }];
    }
    if (command === 'publish') {
      let failed = false;
      for (const s of subgraphs) {
        if (!/^https?:\/\//.test(s.url)) throw new UsageError(`--url (the routing URL of ${s.name}) is required to publish`);
        try {
          const r = await client.publish(s.name, s.url, s.sdl);
          io.stdout(`${s.name}: ${r.status === 'unchanged' ? 'unchanged' : 'published'} (${values.graph}@${values.variant} version ${r.version})\n`);
        } catch (err) {
          if (!(err instanceof RegistryRequestError) || err.code !== 'COMPOSITION_FAILED') throw err;
          failed = true;
          io.stderr(`${s.name}: ${err.message}\n`);
          for (const e of (err.details as { errors?: Array<{ code: string; message: string }> }).errors ?? []) io.stderr(`  error[${e.code}]: ${e.message}\n`);
        }
      }
      return failed ? 1 : 0;
    }
    const format = values.format as ReportFormat;
    if (!['text', 'json', 'markdown'].includes(format)) throw new UsageError('--format is text, json or markdown');
    const report = await client.check(subgraphs, values['usage-days'] ? Number(values['usage-days']) : null);
    io.stdout(renderReport(report, format, format === 'text' && io.isTTY));
    return exitCodeOf(report);
  } catch (err) {
    if (err instanceof RegistryRequestError) {
      io.stderr(`error[${err.code}]: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`usage: ${(err as Error).message}\n`);
      return 2;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      io.stderr(`error: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
