import { readFileSync } from 'node:fs';
import { exampleSubgraphs } from './catalog.ts';
import { startSubgraph } from './shared/start-subgraph.ts';

/** `tessera subgraph <name>`: one example subgraph as its own process. */
export async function runSubgraph(
  name: string | undefined,
  opts: {
    port?: number | undefined;
    host?: string | undefined;
    admin: boolean;
    tls?: { certFile: string; keyFile: string; caFile?: string | undefined } | undefined;
  },
): Promise<number> {
  const entry = name ? exampleSubgraphs[name] : undefined;
  if (!entry) {
    process.stderr.write(
      `unknown subgraph "${name ?? ''}"; expected one of: ${Object.keys(exampleSubgraphs).join(', ')}\n`,
    );
    return 2;
  }
  // PORT and HOST are read (and checked) with the flags, by the command table.
  const port = opts.port ?? entry.port;
  const host = opts.host ?? '127.0.0.1';
  const tls = opts.tls
    ? {
        cert: readFileSync(opts.tls.certFile, 'utf8'),
        key: readFileSync(opts.tls.keyFile, 'utf8'),
        ca: opts.tls.caFile ? readFileSync(opts.tls.caFile, 'utf8') : undefined,
      }
    : undefined;
  const running = await startSubgraph(entry.definition, { port, host, admin: opts.admin, tls });
  process.stdout.write(
    `${JSON.stringify({ level: 'info', time: new Date().toISOString(), name: `subgraph-${running.name}`, msg: 'subgraph listening', url: running.url })}\n`,
  );
  const stop = () => void running.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return -1;
}
