import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  defineCommand,
  dispatch,
  httpUrl,
  integer,
  listOf,
  matching,
  oneOf,
  UsageError,
  type CliIo,
  type Command,
} from '../supergraph/cli-args.ts';
import { permissions, registryName } from '../supergraph/registry/names.ts';

/**
 * Every `tessera` command: its options, help and exit codes, declared once. Implementations are
 * imported when a command runs, so `--help` and bad flags answer without loading a gateway.
 */

/**
 * V8 flags for the long-running commands. A gateway allocates short-lived objects at a high rate,
 * and with V8's default 16 MiB semi-spaces its heap balloons under load. Measured on the standard
 * benchmark query (same run, same machine state): default 1.10x the baseline's peak RSS; 8 MiB
 * 0.82x at ~3.3x the baseline's throughput; 2 MiB 0.76x but 30 % less throughput (scavenges).
 * Heap geometry can only be set at start-up, so the process re-executes itself once with the
 * flags (process.execve: same PID, signals and stdio unchanged). TESSERA_V8_FLAGS overrides them;
 * set it empty to run with Node's defaults. Called after the arguments parsed: `--help` and a bad
 * flag answer without a second start.
 */
const DEFAULT_V8_FLAGS = '--max-semi-space-size=8';

function ensureV8Flags(): void {
  const flags = (process.env['TESSERA_V8_FLAGS'] ?? DEFAULT_V8_FLAGS).split(/\s+/).filter(Boolean);
  if (!flags.length || flags.every((f) => process.execArgv.includes(f)) || typeof process.execve !== 'function') return;
  process.execve(
    process.execPath,
    [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

const name = matching(registryName, 'a name of letters, digits, _ and - (at most 64)', 'name');

/** Shared by every command that talks to the registry; left out of synopses (docs/cli.md says so once). */
const registryTarget = {
  registry: {
    type: 'string',
    env: 'TESSERA_REGISTRY_URL',
    required: true,
    parse: httpUrl,
    synopsis: false,
    help: "The registry's base URL, e.g. http://registry:4100.",
  },
  token: {
    type: 'string',
    value: 'token',
    env: 'TESSERA_REGISTRY_TOKEN',
    required: true,
    synopsis: false,
    help: 'A registry token with the permission this command needs. Prefer the variable: a command line shows in `ps` and shell history.',
  },
  graph: { type: 'string', required: true, parse: name, help: 'The graph.' },
  variant: { type: 'string', default: 'production', parse: name, help: 'The variant of the graph.' },
  'timeout-ms': {
    type: 'string',
    default: '120000',
    parse: integer(1),
    synopsis: false,
    help: "How long to wait for an answer. The default outlasts the registry's own composition timeout (30 s).",
  },
} as const;

// Made outside the table: a generic call inside defineCommand's argument would stop TypeScript inferring the option types.
const reportFormat = oneOf(['text', 'json', 'markdown']);
const permissionList = listOf(permissions);
const graphOrAll = matching(
  new RegExp(`^\\*$|${registryName.source}`),
  'a graph name (letters, digits, _ and -) or *',
  'graph',
);

const registryExit = '0 ok; 2 usage, network, auth or unknown-version error';

const subgraphInput = {
  name: { type: 'string', parse: name, help: 'The subgraph.' },
  schema: { type: 'string', value: 'file', help: "The subgraph's SDL file." },
  url: { type: 'string', parse: httpUrl, help: "The subgraph's routing URL (what gateways call)." },
  config: {
    type: 'string',
    value: 'supergraph.yaml',
    help: 'Every local subgraph of a Rover-style supergraph.yaml instead of --name/--schema.',
  },
} as const;

export const commands: readonly Command[] = [
  defineCommand({
    path: ['compose'],
    summary: 'Compose subgraphs into a supergraph.',
    description:
      'Reads a Rover-style `supergraph.yaml` (`federation_version`, `subgraphs.<name>.routing_url`, `schema.file` | `schema.subgraph_url` | `schema.sdl`). Writes the supergraph to --output (atomically) or stdout. Composition hints print as `hint[…]` lines.',
    options: {
      config: { type: 'string', value: 'file', default: 'supergraph.yaml', help: 'The supergraph config.' },
      output: {
        type: 'string',
        short: 'o',
        value: 'file',
        help: 'Write the supergraph here instead of stdout (nothing is written when composition fails).',
      },
    },
    exitCodes:
      '0 ok; 1 composition errors (nothing written); 2 usage, bad config, unreadable file or unreachable subgraph',
    async run({ values }, io) {
      const { composeCommand } = await import('../supergraph/compose-command.ts');
      return composeCommand({ config: values.config, output: values.output }, io);
    },
  }),
  defineCommand({
    path: ['gateway'],
    summary: 'Serve a supergraph.',
    description: 'SIGHUP reloads the supergraph; SIGTERM/SIGINT drain and stop.',
    options: {
      config: {
        type: 'string',
        value: 'file',
        env: 'TESSERA_CONFIG',
        default: 'tessera.yaml',
        help: 'The gateway config.',
      },
    },
    env: {
      PORT: 'Overrides server.port.',
      HOST: 'Overrides server.host.',
      LOG_LEVEL: 'Overrides log.level.',
      REDIS_URL: 'Overrides redis.url.',
      TESSERA_V8_FLAGS: `V8 flags the gateway restarts itself with (default ${DEFAULT_V8_FLAGS}; empty for none).`,
    },
    exitCodes: '0 after a graceful stop; 1 supergraph cannot load; 2 usage; 78 invalid config',
    async run({ values }) {
      ensureV8Flags();
      const { runGateway } = await import('../gateway/main.ts');
      return runGateway(values.config);
    },
  }),
  defineCommand({
    path: ['dev'],
    summary: 'Run the example stack on :4000 (what `npm start` runs).',
    description:
      "Composes the four example subgraphs, starts each as its own process, and serves the gateway in this one. `PORT` (default 4000) is the gateway's port; the subgraphs take the next four. A port in use stops it with one line naming the port. Its subgraph processes exit with it, however it dies, and it stops itself when its parent (`npm`) is killed.",
    options: {},
    env: {
      PORT: "The gateway's port (default 4000); the subgraphs take the next four.",
      LOG_LEVEL: 'Log level of the dev runner.',
      TESSERA_V8_FLAGS: 'As for `tessera gateway`.',
    },
    exitCodes: '0 after Ctrl-C; 1 port in use, composition failed or a subgraph did not start; 2 usage',
    async run() {
      ensureV8Flags();
      const { runDev } = await import('./dev.ts');
      return runDev();
    },
  }),
  defineCommand({
    path: ['subgraph'],
    summary: 'Run one example subgraph.',
    description: 'HTTPS, and mTLS with --tls-ca, when --tls-cert and --tls-key are given.',
    positional: { name: 'name', required: true, help: 'accounts, products, reviews or inventory.' },
    options: {
      port: {
        type: 'string',
        env: 'PORT',
        parse: integer(0, 65535),
        help: "Listen port (default: the subgraph's own, 4001–4004).",
      },
      host: { type: 'string', value: 'host', env: 'HOST', default: '127.0.0.1', help: 'Listen address.' },
      admin: {
        type: 'boolean',
        env: 'TESSERA_SUBGRAPH_ADMIN',
        help: 'Serve the admin endpoints tests use to inject faults.',
      },
      'tls-cert': { type: 'string', value: 'file', help: 'PEM certificate.' },
      'tls-key': { type: 'string', value: 'file', help: 'PEM private key.' },
      'tls-ca': { type: 'string', value: 'file', help: 'PEM CA bundle: require client certificates it signed.' },
    },
    exitCodes: '0 after SIGTERM/SIGINT; 2 usage',
    async run({ values, positional }) {
      const { exampleSubgraphs } = await import('../subgraphs/catalog.ts');
      if (!exampleSubgraphs[positional!])
        throw new UsageError(
          `unknown subgraph '${positional}': one of ${Object.keys(exampleSubgraphs).join(', ')} (or a command: check, publish, rollback)`,
        );
      const cert = values['tls-cert'];
      const key = values['tls-key'];
      if (!cert !== !key) throw new UsageError('--tls-cert and --tls-key go together');
      if (values['tls-ca'] && !cert) throw new UsageError('--tls-ca needs --tls-cert and --tls-key');
      const { runSubgraph } = await import('../subgraphs/main.ts');
      return runSubgraph(positional!, {
        port: values.port,
        host: values.host,
        admin: values.admin,
        tls: cert && key ? { certFile: cert, keyFile: key, caFile: values['tls-ca'] } : undefined,
      });
    },
  }),
  defineCommand({
    path: ['token'],
    summary: 'Mint a JWT from the demo issuer `npm start` creates.',
    description: 'Its keys are in .tessera/; tessera.yaml trusts it.',
    options: {
      sub: { type: 'string', value: 'subject', default: '1', help: 'The `sub` claim (a user id of the example data).' },
      scope: {
        type: 'string',
        value: 'scopes',
        default: '',
        help: 'Space-separated scopes, e.g. "read:email read:profile".',
      },
      claim: {
        type: 'string',
        multiple: true,
        parse: matching(/^[^=]+=/, 'name=value', 'name=value'),
        help: 'An extra claim.',
      },
      ttl: {
        type: 'string',
        default: '3600',
        parse: integer(1, 31_536_000, ' of seconds'),
        help: 'Lifetime in seconds.',
      },
    },
    exitCodes: '0; 1 no demo keys yet (run `npm start` once); 2 usage',
    async run({ values }, io) {
      const claims = Object.fromEntries(
        values.claim.map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)]),
      );
      const keyFile = fileURLToPath(new URL('../.tessera/demo-issuer.private.jwk.json', import.meta.url));
      if (!existsSync(keyFile)) {
        io.stderr(`error: no demo issuer keys yet (${keyFile}): run \`npm start\` once to create them\n`);
        return 1;
      }
      const { mintDemoToken } = await import('./demo-token.ts');
      io.stdout(
        `${await mintDemoToken(keyFile, { sub: values.sub, scope: values.scope, claims, ttlSec: values.ttl })}\n`,
      );
      return 0;
    },
  }),
  defineCommand({
    path: ['registry'],
    summary: 'Serve the schema registry.',
    description: 'A sample config is deploy/registry.yaml.',
    options: {
      config: { type: 'string', value: 'file', required: true, help: 'The registry config (registry.yaml).' },
    },
    exitCodes: '0 after SIGTERM/SIGINT; 2 usage; 78 invalid config',
    async run({ values }) {
      const { runRegistry } = await import('../supergraph/registry/main.ts');
      return runRegistry(values.config);
    },
  }),
  defineCommand({
    path: ['registry', 'token', 'create'],
    summary: 'Create a registry token and its registry.yaml entry.',
    description:
      'The token is random (32 bytes) and printed only this once; the entry stores its SHA-256 digest, never the token.',
    options: {
      name: {
        type: 'string',
        value: 'name',
        required: true,
        help: 'Who uses it (shown in logs and history as the actor).',
      },
      graph: {
        type: 'string',
        multiple: true,
        required: true,
        parse: graphOrAll,
        help: 'A graph it may use (repeat for more), or * for every graph.',
      },
      permissions: {
        type: 'string',
        required: true,
        parse: permissionList,
        help: 'What it may do: read (gateways, fetch), check (CI on pull requests), publish (deploys, rollbacks).',
      },
    },
    exitCodes: '0; 2 usage',
    async run({ values }, io) {
      const { createTokenCommand } = await import('../supergraph/cli.ts');
      return createTokenCommand(values, io);
    },
  }),
  defineCommand({
    path: ['registry', 'hash-token'],
    summary: "Print a token's SHA-256 digest, as registry.yaml stores it.",
    positional: { name: 'token', required: true, help: 'The token.' },
    options: {},
    exitCodes: '0; 2 usage',
    async run({ positional }, io) {
      const { hashToken } = await import('../supergraph/registry/server.ts');
      io.stdout(`${hashToken(positional!)}\n`);
      return 0;
    },
  }),
  defineCommand({
    path: ['subgraph', 'check'],
    summary: 'Check a subgraph change against the registry.',
    description:
      'Composition first, then every change of the API schema classified breaking, dangerous or safe. With --usage-days, a breaking change to a field no recorded operation used in that many days does not fail the check.',
    synopsis:
      '--graph <name> [--variant <name>] (--name <name> --schema <file> | --config <supergraph.yaml>) [--format <text|json|markdown>] [--usage-days <n>]',
    options: {
      ...registryTarget,
      ...subgraphInput,
      format: {
        type: 'string',
        default: 'text',
        parse: reportFormat,
        help: 'Report format (markdown for a pull-request comment).',
      },
      'usage-days': {
        type: 'string',
        parse: integer(1, 36_500),
        help: 'Judge breaking changes by the field usage gateways reported in this many days.',
      },
    },
    exitCodes: '0 pass; 1 breaking change or composition failure; 2 usage, network or auth error',
    async run({ values }, io) {
      const { checkCommand } = await import('../supergraph/cli.ts');
      return checkCommand(values, io);
    },
  }),
  defineCommand({
    path: ['subgraph', 'publish'],
    summary: 'Publish a subgraph to a variant.',
    description:
      'The registry composes the variant with it and stores the result as the next version, or changes nothing when composition fails.',
    synopsis:
      '--graph <name> [--variant <name>] (--name <name> --schema <file> --url <url> | --config <supergraph.yaml>)',
    options: { ...registryTarget, ...subgraphInput },
    exitCodes: '0 published or unchanged; 1 composition failure (nothing changed); 2 usage, network or auth error',
    async run({ values }, io) {
      const { publishCommand } = await import('../supergraph/cli.ts');
      return publishCommand(values, io);
    },
  }),
  defineCommand({
    path: ['operations', 'publish'],
    summary: "Publish a client version's operation manifest (trusted documents).",
    description:
      "Reads Apollo's persisted-query manifest (`@apollo/generate-persisted-query-manifest`) or Relay's persisted queries JSON. The registry validates every operation against the variant's current supergraph and stores the manifest, or nothing when one does not validate. Gateways with `persistedOperations.manifests` serve its operations by `documentId` or hash.",
    positional: { name: 'manifest', required: true, help: 'The manifest JSON file.' },
    options: {
      ...registryTarget,
      client: {
        type: 'string',
        required: true,
        parse: matching(/^[A-Za-z0-9_.-]{1,64}$/, 'a client name of letters, digits, _ . and - (at most 64)', 'name'),
        help: 'The client (app) name, as it sends `apollographql-client-name`.',
      },
      version: {
        type: 'string',
        required: true,
        parse: matching(/^[A-Za-z0-9_.+-]{1,64}$/, 'a version of letters, digits, _ . + and - (at most 64)', 'version'),
        help: 'The client version; a published version never changes.',
      },
    },
    exitCodes:
      '0 published or unchanged; 1 malformed manifest, an operation that does not validate, or a conflicting id (nothing stored); 2 usage, network or auth error',
    async run({ values, positional }, io) {
      const { publishOperationsCommand } = await import('../supergraph/cli.ts');
      return publishOperationsCommand({ ...values, manifest: positional! }, io);
    },
  }),
  defineCommand({
    path: ['supergraph', 'fetch'],
    summary: "Download a variant's current supergraph, or a past version.",
    options: {
      ...registryTarget,
      version: { type: 'string', parse: integer(1), help: 'A past version instead of the current one.' },
      output: { type: 'string', short: 'o', value: 'file', help: 'Write it here (atomically) instead of stdout.' },
    },
    exitCodes: registryExit,
    async run({ values }, io) {
      const { fetchCommand } = await import('../supergraph/cli.ts');
      return fetchCommand(values, io);
    },
  }),
  defineCommand({
    path: ['variant', 'history'],
    summary: "List a variant's versions, newest first.",
    description: 'Each line: version, time, who (the token name), what changed.',
    options: {
      ...registryTarget,
      limit: { type: 'string', default: '20', parse: integer(1, 1000), help: 'How many versions.' },
    },
    exitCodes: '0; 2 usage, network or auth error',
    async run({ values }, io) {
      const { historyCommand } = await import('../supergraph/cli.ts');
      return historyCommand(values, io);
    },
  }),
  defineCommand({
    path: ['variant', 'rollback'],
    aliases: [['subgraph', 'rollback']],
    summary: 'Make a past version of a variant current again.',
    description: 'The rollback is stored as a new version; gateways following the variant load it on their next poll.',
    options: {
      ...registryTarget,
      to: {
        type: 'string',
        required: true,
        parse: integer(1),
        help: 'The version to go back to (`tessera variant history` lists them).',
      },
    },
    exitCodes: registryExit,
    async run({ values }, io) {
      const { rollbackCommand } = await import('../supergraph/cli.ts');
      return rollbackCommand(values, io);
    },
  }),
];

export const helpFooter = [
  "`tessera <command> --help` shows a command's options. Registry commands read --registry and --token",
  'from TESSERA_REGISTRY_URL and TESSERA_REGISTRY_TOKEN.',
  'Exit codes: 0 ok; 1 failure (composition, breaking change, supergraph); 2 usage, network or auth error;',
  '78 invalid config. An unexpected error prints one line; --verbose or LOG_LEVEL=debug adds its stack.',
].join('\n');

export function runTessera(argv: readonly string[], io: CliIo): Promise<number> {
  return dispatch(commands, argv, io, helpFooter);
}
