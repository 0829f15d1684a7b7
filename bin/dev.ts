import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../gateway/config/load.ts';
import { createGateway } from '../gateway/create-gateway.ts';
import { installSignals } from '../gateway/main.ts';
import { createLogger } from '../gateway/observability/log.ts';
import { exampleSubgraphs } from '../subgraphs/catalog.ts';
import { composeCommand } from '../supergraph/compose-command.ts';
import { demoIssuer, ensureDemoKeys } from './demo-token.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// dev-subgraph.ts in a checkout, dev-subgraph.js in the built package.
const subgraphEntry = fileURLToPath(
  new URL(`./dev-subgraph${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url),
);

/**
 * `npm start`: the whole example stack on one machine, with no Redis and no Docker. Each
 * subgraph runs as its own process (as it would in production); the gateway runs in this one.
 * `PORT` (default 4000) is the gateway's port; the subgraphs take the next four.
 */
export async function runDev(): Promise<number> {
  const log = createLogger({ level: (process.env['LOG_LEVEL'] as 'info') ?? 'info', name: 'tessera-dev' });
  const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
  watchParent();

  const configFile = `${root}tessera.yaml`;
  const raw = parseYaml(readFileSync(configFile, 'utf8')) as {
    server?: { port?: number; host?: string };
    subgraphs?: Record<string, unknown>;
  };
  const gatewayPort = /^\d+$/.test(process.env['PORT'] ?? '')
    ? Number(process.env['PORT'])
    : (raw.server?.port ?? 4000);
  const subgraphs = Object.entries(exampleSubgraphs).map(([name, { port }]) => ({
    name,
    port: gatewayPort + port - 4000,
  }));
  const taken = await firstTakenPort([
    { port: gatewayPort, host: process.env['HOST'] ?? raw.server?.host ?? '0.0.0.0', what: 'the gateway' },
    ...subgraphs.map((s) => ({ port: s.port, host: '127.0.0.1', what: `the ${s.name} subgraph` })),
  ]);
  if (taken) {
    process.stderr.write(
      `tessera dev: port ${taken.port} (${taken.what}) is already in use (${taken.code}); stop what holds it, or run on other ports: PORT=5000 npm start (the subgraphs take the four after it)\n`,
    );
    return 1;
  }

  const supergraphFile = `${root}.tessera/supergraph.graphql`;
  const code = await composeCommand({ config: `${root}subgraphs/supergraph.yaml`, output: supergraphFile }, io);
  if (code !== 0) return code;

  const children: ChildProcess[] = [];
  const killAll = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  try {
    await Promise.all(
      subgraphs.map(async ({ name, port }) => {
        // The IPC channel ties the child's lifetime to this process (see dev-subgraph.ts).
        const child = spawn(process.execPath, [subgraphEntry, name, String(port)], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        children.push(child);
        await waitForHealth(`http://127.0.0.1:${port}/health`, child, name);
      }),
    );
  } catch (err) {
    await killAll();
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }

  await ensureDemoKeys(`${root}.tessera/demo-issuer.private.jwk.json`, `${root}.tessera/demo-issuer.jwks.json`);
  // The example config with this run's ports; the composed routing URLs say 4001-4004.
  const config = parseConfig(
    {
      ...raw,
      server: { ...raw.server, port: gatewayPort },
      subgraphs: {
        ...raw.subgraphs,
        ...Object.fromEntries(subgraphs.map((s) => [s.name, { url: `http://127.0.0.1:${s.port}/graphql` }])),
      },
    },
    { source: configFile, baseDir: root, env: process.env },
  );
  let gateway;
  try {
    gateway = await createGateway(config, {
      log: createLogger({ level: config.log.level, name: 'tessera-gateway' }),
      baseDir: root,
    });
  } catch (err) {
    await killAll();
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    process.stderr.write(`tessera dev: port ${gatewayPort} (the gateway) is already in use\n`);
    return 1;
  }
  installSignals(gateway, killAll);
  for (const c of children) {
    c.once('exit', (code, signal) => {
      if (gateway.lifecycle.phase === 'serving')
        log.warn(
          { pid: c.pid, code, signal },
          'a subgraph process exited; its fields will come back null with SUBGRAPH_UNAVAILABLE',
        );
    });
  }
  process.stdout.write(`
  Tessera is serving the example supergraph.

    Gateway   ${gateway.url}${config.server.landingPage ? '   (open it in a browser: GraphiQL)' : ''}
    Health    ${gateway.url.replace('/graphql', '/health')}   Ready ${gateway.url.replace('/graphql', '/ready')}
    Metrics   ${gateway.metricsUrl ?? 'off (metrics.enabled: false)'}
    Subgraphs ${subgraphs.map((s) => `${s.name} :${s.port}`).join(', ')}

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

/**
 * Stops this process when the one that started it exits. npm cannot forward a SIGKILL (an IDE's
 * stop button, a closed terminal tab), and `npm start` execs this process so that npm is its
 * parent: when npm dies, this process is handed to init (or a subreaper) and its ppid changes.
 * A clean stop (SIGTERM) then closes the gateway and the subgraphs.
 */
function watchParent(): void {
  const parent = process.ppid;
  if (parent <= 1) return; // started by init (a container's PID 1): nothing to outlive
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, 250).unref();
}

/** The first port of `ports` that cannot be listened on, and why. */
async function firstTakenPort(
  ports: Array<{ port: number; host: string; what: string }>,
): Promise<{ port: number; what: string; code: string } | undefined> {
  for (const p of ports) {
    const code = await new Promise<string | undefined>((resolve) => {
      const probe = createServer();
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      probe.listen(p.port, p.host, () => probe.close(() => resolve(undefined)));
    });
    if (code) return { ...p, code };
  }
  return undefined;
}

async function waitForHealth(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`subgraph "${name}" exited with code ${child.exitCode} (is its port already in use?)`);
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
