#!/usr/bin/env node
import { parseArgs } from 'node:util';

/**
 * V8 flags for the long-running commands. A gateway allocates short-lived objects at a high rate,
 * and with V8's default 16 MiB semi-spaces its heap balloons under load. Measured on the standard
 * benchmark query (same run, same machine state): default 1.10x the baseline's peak RSS; 8 MiB
 * 0.82x at ~3.3x the baseline's throughput; 2 MiB 0.76x but 30 % less throughput (scavenges).
 * Heap geometry can only be set at start-up, so the process re-executes itself once with the
 * flags (process.execve: same PID, signals and stdio unchanged). TESSERA_V8_FLAGS overrides them;
 * set it empty to run with Node's defaults.
 */
const DEFAULT_V8_FLAGS = '--max-semi-space-size=8';

function ensureV8Flags(): void {
  const flags = (process.env['TESSERA_V8_FLAGS'] ?? DEFAULT_V8_FLAGS).split(/\s+/).filter(Boolean);
  if (!flags.length || flags.every((f) => process.execArgv.includes(f)) || typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

const usage = `Usage: tessera <command> [options]

Commands:
  compose   --config supergraph.yaml [--output supergraph.graphql]   compose subgraphs into a supergraph
  gateway   --config tessera.yaml                                    serve a supergraph (env: PORT, HOST, LOG_LEVEL)
  subgraph  <accounts|products|reviews|inventory> [--port N] [--host H] [--admin]
            [--tls-cert F --tls-key F [--tls-ca F]]                   run one example subgraph (HTTPS/mTLS with the TLS flags)
  dev                                                                 compose + run the example stack on :4000
  registry  --config registry.yaml | hash-token <token>              serve the schema registry | print a token's stored digest
  subgraph  check --graph G [--variant V] (--name N --schema F | --config supergraph.yaml)
            [--format text|json|markdown] [--usage-days N]           check a change against the registry (exit 0 pass, 1 fail, 2 error)
  subgraph  publish --graph G [--variant V] --name N --schema F --url U   publish a subgraph
  supergraph fetch --graph G [--variant V] [--version N] [--output F]   download a supergraph
            (registry commands: --registry URL or TESSERA_REGISTRY_URL, --token or TESSERA_REGISTRY_TOKEN)
  token     [--sub 1] [--scope "read:email"] [--claim role=staff]… [--ttl 3600]
                                                                      mint a token from npm start's demo issuer

Exit codes: 0 ok, 1 failure (composition, supergraph), 2 usage, 78 invalid config.`;

const [command, ...rest] = process.argv.slice(2);
const cliIo = () => ({ stdout: (s: string) => void process.stdout.write(s), stderr: (s: string) => void process.stderr.write(s), isTTY: process.stdout.isTTY === true });

async function main(): Promise<number> {
  switch (command) {
    case 'compose': {
      const { composeCommand } = await import('../supergraph/compose-command.ts');
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', default: 'supergraph.yaml' }, output: { type: 'string', short: 'o' } } });
      return composeCommand({ config: values.config!, output: values.output }, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    }
    case 'gateway': {
      ensureV8Flags();
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } } });
      const { runGateway } = await import('../gateway/main.ts');
      return runGateway(values.config ?? process.env['TESSERA_CONFIG'] ?? 'tessera.yaml');
    }
    case 'registry': {
      if (rest[0] === 'hash-token') {
        if (!rest[1]) {
          process.stderr.write('usage: tessera registry hash-token <token>\n');
          return 2;
        }
        const { hashToken } = await import('../supergraph/registry/server.ts');
        process.stdout.write(`${hashToken(rest[1])}\n`);
        return 0;
      }
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } } });
      if (!values.config) {
        process.stderr.write(`tessera registry needs --config\n\n${usage}\n`);
        return 2;
      }
      const { runRegistry } = await import('../supergraph/registry/main.ts');
      return runRegistry(values.config);
    }
    case 'supergraph': {
      if (rest[0] !== 'fetch') {
        process.stderr.write(`unknown command "supergraph ${rest[0] ?? ''}"\n\n${usage}\n`);
        return 2;
      }
      const { registryCli } = await import('../supergraph/cli.ts');
      return registryCli('fetch', rest.slice(1), cliIo());
    }
    case 'subgraph': {
      if (rest[0] === 'check' || rest[0] === 'publish') {
        const { registryCli } = await import('../supergraph/cli.ts');
        return registryCli(rest[0], rest.slice(1), cliIo());
      }
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { port: { type: 'string' }, host: { type: 'string' }, admin: { type: 'boolean' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-ca': { type: 'string' } },
      });
      const { runSubgraph } = await import('../subgraphs/main.ts');
      return runSubgraph(positionals[0], {
        port: values.port,
        host: values.host,
        admin: values.admin ?? process.env['TESSERA_SUBGRAPH_ADMIN'] === '1',
        tls: values['tls-cert'] && values['tls-key'] ? { certFile: values['tls-cert'], keyFile: values['tls-key'], caFile: values['tls-ca'] } : undefined,
      });
    }
    case 'dev': {
      ensureV8Flags();
      const { runDev } = await import('./dev.ts');
      return runDev();
    }
    case 'token': {
      const { values } = parseArgs({ args: rest, options: { sub: { type: 'string', default: '1' }, scope: { type: 'string', default: '' }, claim: { type: 'string', multiple: true, default: [] }, ttl: { type: 'string', default: '3600' } } });
      const claims: Record<string, string> = {};
      for (const c of values.claim) {
        const eq = c.indexOf('=');
        if (eq < 1) {
          process.stderr.write(`--claim expects name=value, got "${c}"\n`);
          return 2;
        }
        claims[c.slice(0, eq)] = c.slice(eq + 1);
      }
      const { mintDemoToken } = await import('./demo-token.ts');
      const { fileURLToPath } = await import('node:url');
      const keyFile = fileURLToPath(new URL('../.tessera/demo-issuer.private.jwk.json', import.meta.url));
      process.stdout.write(`${await mintDemoToken(keyFile, { sub: values.sub, scope: values.scope, claims, ttlSec: Number(values.ttl) })}\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${usage}\n`);
      return 2;
  }
}

main().then(
  (code) => {
    // Long-running commands keep their own handles open and return -1.
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
