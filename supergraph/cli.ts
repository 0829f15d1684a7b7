import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Document, isMap, isSeq } from 'yaml';
import { ConfigError, indent } from '../gateway/config/config-file.ts';
import { UsageError, type CliIo } from './cli-args.ts';
import { readSubgraphSdl } from './fetch-sdl.ts';
import { parseManifest } from './operations/manifest.ts';
import { formatStitchedSourceError, StitchedSourceError } from './stitched-source.ts';
import { loadSupergraphConfig } from './supergraph-config.ts';
import { RegistryClient, RegistryRequestError } from './registry/client.ts';
import { hashToken } from './registry/server.ts';
import type { Permission } from './registry/names.ts';
import { exitCodeOf, renderReport, type ReportFormat } from './report.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

/** The options every registry command shares (validated by the command table). */
export interface RegistryTarget {
  registry: string;
  token: string;
  graph: string;
  variant: string;
  'timeout-ms': number;
}

const clientFor = (t: RegistryTarget) =>
  new RegistryClient({
    url: t.registry,
    graph: t.graph,
    variant: t.variant,
    token: t.token,
    timeoutMs: t['timeout-ms'],
  });

/**
 * A registry command's failures that are not the change's fault: one line and exit 2. Network
 * problems come as REGISTRY_UNAVAILABLE with their cause named (see describeFetchFailure).
 */
async function registryCommand(io: CliIo, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RegistryRequestError) {
      io.stderr(`error[${err.code}]: ${err.message}\n`);
      return 2;
    }
    // A bad --config supergraph.yaml: every problem, as `tessera compose` reports it.
    if (err instanceof ConfigError) {
      io.stderr(`error[CONFIG_INVALID]: ${err.summary}\n${indent(err.problems)}\n`);
      return 2;
    }
    // A plain service's (`kind: graphql`) merge config that does not fit it: a failed composition.
    if (err instanceof StitchedSourceError) {
      io.stderr(formatStitchedSourceError(err));
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EACCES') {
      io.stderr(`error: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

type SubgraphInput = {
  name?: string | undefined;
  schema?: string | undefined;
  url?: string | undefined;
  config?: string | undefined;
};

/** One subgraph from --name/--schema, or every local one of a Rover-style supergraph.yaml. */
async function subgraphsFrom(v: SubgraphInput): Promise<Array<{ name: string; sdl: string; url: string }>> {
  if (v.config) {
    if (v.name || v.schema) throw new UsageError('--config replaces --name and --schema: give one or the other');
    const sources = loadSupergraphConfig(v.config);
    return Promise.all(sources.map(async (s) => ({ name: s.name, sdl: await readSubgraphSdl(s), url: s.routingUrl })));
  }
  if (!v.name || !v.schema) throw new UsageError('--name and --schema (or --config supergraph.yaml) are required');
  return [{ name: v.name, sdl: readFileSync(v.schema, 'utf8'), url: v.url ?? '' }];
}

/** `tessera subgraph publish`: 0 published or unchanged, 1 composition failure (nothing changed), 2 error. */
export function publishCommand(v: RegistryTarget & SubgraphInput, io: CliIo): Promise<number> {
  return registryCommand(io, async () => {
    const subgraphs = await subgraphsFrom(v);
    for (const s of subgraphs)
      if (!/^https?:\/\//.test(s.url))
        throw new UsageError(`--url (the routing URL of ${s.name}) is required to publish`);
    const client = clientFor(v);
    let failed = false;
    for (const s of subgraphs) {
      try {
        const r = await client.publish(s.name, s.url, s.sdl);
        io.stdout(
          `${s.name}: ${r.status === 'unchanged' ? 'unchanged' : 'published'} (${v.graph}@${v.variant} version ${r.version})\n`,
        );
      } catch (err) {
        if (!(err instanceof RegistryRequestError) || err.code !== 'COMPOSITION_FAILED') throw err;
        failed = true;
        io.stderr(`${s.name}: ${err.message}\n`);
        for (const e of (err.details as { errors?: Array<{ code: string; message: string }> }).errors ?? [])
          io.stderr(`  error[${e.code}]: ${e.message}\n`);
      }
    }
    return failed ? 1 : 0;
  });
}

/** `tessera operations publish`: 0 published or unchanged, 1 the manifest's fault (nothing stored), 2 error. */
export function publishOperationsCommand(
  v: RegistryTarget & { client: string; version: string; manifest: string },
  io: CliIo,
): Promise<number> {
  return registryCommand(io, async () => {
    const label = `${v.client}@${v.version}`;
    const text = readFileSync(v.manifest, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      io.stderr(`${label}: ${v.manifest} is not JSON (${(err as Error).message}); nothing was published\n`);
      return 1;
    }
    const parsed = parseManifest(json);
    if (!parsed.ok) {
      io.stderr(`${label}: ${v.manifest} is not an operation manifest; nothing was published\n`);
      for (const e of parsed.errors) io.stderr(`  ${e}\n`);
      return 1;
    }
    try {
      const r = await clientFor(v).publishOperations(v.client, v.version, parsed.operations);
      io.stdout(
        `${label}: ${r.status} (${r.operations} operation${r.operations === 1 ? '' : 's'}; ${v.graph}@${v.variant} manifests revision ${r.revision})\n`,
      );
      return 0;
    } catch (err) {
      if (
        !(err instanceof RegistryRequestError) ||
        (err.code !== 'OPERATIONS_INVALID' && err.code !== 'OPERATIONS_CONFLICT')
      )
        throw err;
      io.stderr(`${label}: error[${err.code}]: ${err.message}\n`);
      const details = err.details as { errors?: Array<{ id: string | null; name: string | null; errors: string[] }> };
      for (const o of details.errors ?? []) {
        const what =
          o.id === null
            ? ''
            : `operation ${o.name ?? '(anonymous)'} [${o.id.length > 16 ? `${o.id.slice(0, 12)}…` : o.id}]: `;
        for (const e of o.errors) io.stderr(`  ${what}${e}\n`);
      }
      return 1;
    }
  });
}

/** `tessera subgraph check`: 0 pass, 1 breaking change or composition failure, 2 error. */
export function checkCommand(
  v: RegistryTarget & SubgraphInput & { format: ReportFormat; 'usage-days': number | undefined },
  io: CliIo,
): Promise<number> {
  return registryCommand(io, async () => {
    const subgraphs = await subgraphsFrom(v);
    const report = await clientFor(v).check(subgraphs, v['usage-days'] ?? null);
    io.stdout(renderReport(report, v.format, v.format === 'text' && io.isTTY));
    return exitCodeOf(report);
  });
}

/** `tessera supergraph fetch`: the current supergraph or a past version, to stdout or a file. */
export function fetchCommand(
  v: RegistryTarget & { version: number | undefined; output: string | undefined },
  io: CliIo,
): Promise<number> {
  return registryCommand(io, async () => {
    const got = (await clientFor(v).supergraph(null, v.version))!;
    if (v.output) {
      writeFileAtomic(v.output, got.sdl);
      io.stderr(`wrote ${v.graph}@${v.variant} version ${got.version} to ${v.output}\n`);
    } else io.stdout(got.sdl);
    return 0;
  });
}

/** `tessera variant rollback`: makes a past version current again, as a new version; gateways following the variant load it on their next poll. */
export function rollbackCommand(v: RegistryTarget & { to: number }, io: CliIo): Promise<number> {
  return registryCommand(io, async () => {
    const r = await clientFor(v).rollback(v.to);
    io.stdout(`${v.graph}@${v.variant}: rolled back to version ${v.to} (now version ${r.version})\n`);
    return 0;
  });
}

/** `tessera variant history`: newest first, to pick a version to fetch or roll back to. */
export function historyCommand(v: RegistryTarget & { limit: number }, io: CliIo): Promise<number> {
  return registryCommand(io, async () => {
    const versions = await clientFor(v).history(v.limit);
    if (!versions.length) io.stderr(`${v.graph}@${v.variant} has no versions yet\n`);
    for (const e of versions) io.stdout(`${String(e.version).padStart(5)}  ${e.createdAt}  ${e.actor}  ${e.summary}\n`);
    return 0;
  });
}

/**
 * `tessera registry token create`: a new random token, printed once, and the registry.yaml entry
 * that admits it. Only the entry's SHA-256 digest is ever stored, the same digest
 * `tessera registry hash-token` prints and the registry compares against.
 */
export function createTokenCommand(v: { name: string; graph: string[]; permissions: Permission[] }, io: CliIo): number {
  if (v.graph.includes('*') && v.graph.length > 1)
    throw new UsageError("--graph '*' already means every graph: give it alone");
  const graphs = [...new Set(v.graph)];
  // 32 random bytes: as strong as the SHA-256 digest that stands for it. The prefix lets secret scanners spot a leaked one.
  const token = `tsr_${randomBytes(32).toString('base64url')}`;
  const entry = {
    name: v.name,
    graph: graphs.length === 1 ? graphs[0]! : graphs,
    sha256: hashToken(token),
    permissions: v.permissions,
  };
  const doc = new Document([entry]);
  // One flow-style line per entry, quoted where YAML needs it (a name with a colon, `*`).
  if (isSeq(doc.contents)) for (const item of doc.contents.items) if (isMap(item)) item.flow = true;
  const line = doc.toString({ lineWidth: 0 }).trimEnd();
  io.stdout(
    `Registry token "${v.name}" (${graphs.join(', ')}: ${v.permissions.join(', ')}), shown only this once; keep it as a secret\n` +
      `(TESSERA_REGISTRY_TOKEN in CI, supergraph.registry.token in a gateway config):\n\n  ${token}\n\n` +
      `Add this entry under \`tokens:\` in registry.yaml (only the digest is stored) and restart the registry:\n\n  ${line}\n`,
  );
  return 0;
}
