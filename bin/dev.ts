import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../gateway/config/load.ts';
import { createGateway } from '../gateway/create-gateway.ts';
import { installSignals } from '../gateway/main.ts';
import { createLogger } from '../gateway/observability/log.ts';
import { exampleSubgraphs } from '../subgraphs/catalog.ts';
import { composeCommand } from '../supergraph/compose-command.ts';
import { demoIssuer, ensureDemoKeys } from './demo-token.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('./tessera.ts', import.meta.url));

/**
 * `npm start`: the whole example stack on one machine, with no Redis and no Docker. Each
 * subgraph runs as its own process (as it would in production); the gateway runs in this one.
 */
export async function runDev(): Promise<number> {
  const log = createLogger({ level: (process.env['LOG_LEVEL'] as 'info') ?? 'info', name: 'tessera-dev' });
  const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
  const supergraphFile = `${root}.tessera/supergraph.graphql`;
  const code = await composeCommand({ config: `${root}subgraphs/supergraph.yaml`, output: supergraphFile }, io);
  if (code !== 0) return code;

  const children: ChildProcess[] = [];
  const killAll = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  try {
    await Promise.all(Object.entries(exampleSubgraphs).map(async ([name, { port }]) => {
      const child = spawn(process.execPath, [cli, 'subgraph', name, '--port', String(port)], { stdio: ['ignore', 'inherit', 'inherit'] });
      children.push(child);
      await waitForHealth(`http://127.0.0.1:${port}/health`, child, name);
    }));
  } catch (err) {
    await killAll();
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }

  await ensureDemoKeys(`${root}.tessera/demo-issuer.private.jwk.json`, `${root}.tessera/demo-issuer.jwks.json`);
  const config = loadConfigFile(`${root}tessera.yaml`);
  const gateway = await createGateway(config, { log: createLogger({ level: config.log.level, name: 'tessera-gateway' }), baseDir: root });
  installSignals(gateway, killAll);
  for (const c of children) {
    c.once('exit', (code, signal) => {
      if (gateway.lifecycle.phase === 'serving') log.warn({ pid: c.pid, code, signal }, 'a subgraph process exited; its fields will come back null with SUBGRAPH_UNAVAILABLE');
    });
  }
  process.stdout.write(`
  Tessera is serving the example supergraph.

    Gateway   ${gateway.url}${config.server.landingPage ? '   (open it in a browser: GraphiQL)' : ''}
    Health    ${gateway.url.replace('/graphql', '/health')}   Ready ${gateway.url.replace('/graphql', '/ready')}
    Metrics   ${gateway.metricsUrl ?? 'off (metrics.enabled: false)'}
    Subgraphs ${Object.entries(exampleSubgraphs).map(([n, s]) => `${n} :${s.port}`).join(', ')}

  Try:
    curl -s ${gateway.url} -H 'content-type: application/json' \\
      -d '{"query":"{ topProducts(first: 2) { name price inStock shippingEstimate reviews(first: 1) { body author { username name } } } }"}'

  Fields behind @authenticated / @requiresScopes / @policy come back null for anonymous callers.
  Mint a demo token (issuer ${demoIssuer.issuer}) and send it as a bearer token:
    TOKEN=$(node bin/tessera.ts token --sub 1 --scope "read:email read:profile read:pii" --claim role=staff)
    curl -s ${gateway.url} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\
      -d '{"query":"{ me { name email birthDate } topProducts(first: 1) { name quantity } }"}'

  Ctrl-C stops everything.

`);
  return -1;
}

async function waitForHealth(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`subgraph "${name}" exited with code ${child.exitCode} (is its port already in use?)`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`subgraph "${name}" did not become healthy at ${url} within 15 s`);
}
