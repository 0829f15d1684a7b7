import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../gateway/config/load.ts';
import { resolveSubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { generatePki } from '../../harness/certs.ts';
import { runCli } from '../../harness/process.ts';
import { allSubgraphs, composeOrThrow, exampleSdl } from '../../harness/stack.ts';

const problems = (raw: unknown, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfig(raw, { source: 'tessera.yaml', env });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('config validation', () => {
  it('fills defaults and freezes the result', () => {
    const config = parseConfig({ supergraph: { file: '/tmp/s.graphql' } });
    assert.equal(config.server.port, 4000);
    assert.equal(config.server.bodyLimitBytes, 1_048_576);
    assert.equal(config.server.shutdown.drainTimeoutMs, 10_000);
    assert.equal(config.log.level, 'info');
    assert.ok(Object.isFrozen(config.server.shutdown));
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
  });

  it('names every unknown key and wrong type with its full path', () => {
    assert.deepEqual(
      problems({
        supergraph: { file: 's.graphql' },
        server: { port: 'eighty', colour: 'blue' },
        subgraphs: { reviews: { timeout: 5 }, all: { url: 'http://x/graphql' } },
      }),
      [
        'server.port: Invalid input: expected number, received string',
        'server.colour: unknown key',
        'subgraphs.reviews.timeout: unknown key',
        'subgraphs.all.url: `url` can only be set per subgraph, not under `all`',
      ],
    );
  });

  it('reports a missing required key', () => {
    assert.deepEqual(problems({}), ['supergraph: Invalid input: expected object, received undefined']);
  });

  it('applies env overrides before validation, so a bad PORT names server.port', () => {
    assert.equal(
      parseConfig({ supergraph: { file: 'x' } }, { env: { PORT: '5055', HOST: '127.0.0.1' } }).server.port,
      5055,
    );
    assert.deepEqual(problems({ supergraph: { file: 'x' } }, { PORT: 'abc' }), [
      'server.port: Invalid input: expected number, received string',
    ]);
  });

  it('merges per-subgraph settings over `all` over defaults', () => {
    const config = parseConfig({
      supergraph: { file: 'x' },
      subgraphs: {
        all: {
          timeoutMs: 3000,
          pool: { connections: 10 },
          retry: { maxAttempts: 2 },
          rateLimit: { requestsPerSecond: 50 },
          headers: { propagate: [{ named: 'x-tenant' }], set: { 'x-gateway': 'tessera' } },
        },
        reviews: {
          url: 'http://reviews:4003/graphql',
          pool: { keepAliveTimeoutMs: 1000 },
          breaker: { enabled: false },
          headers: { propagate: [{ matching: '^x-feature-' }] },
        },
      },
    });
    assert.deepEqual(resolveSubgraphSettings(config, 'reviews', 'http://localhost:4003/graphql'), {
      name: 'reviews',
      url: 'http://reviews:4003/graphql',
      instances: ['http://reviews:4003/graphql'],
      balance: 'least-outstanding',
      outlierDetection: {
        enabled: true,
        consecutiveFailures: 5,
        errorRatePercent: 50,
        minRequests: 20,
        windowMs: 10_000,
        baseEjectionMs: 30_000,
        maxEjectionMs: 300_000,
        maxEjectedPercent: 50,
      },
      timeoutMs: 3000,
      attemptTimeoutMs: 5000,
      connectTimeoutMs: 2000,
      pool: { connections: 10, keepAliveTimeoutMs: 1000, pipelining: 1 },
      retry: {
        maxAttempts: 2,
        baseDelayMs: 25,
        maxDelayMs: 1000,
        budgetRatio: 0.2,
        budgetMinPerSecond: 5,
        budgetWindowMs: 10_000,
      },
      breaker: {
        enabled: false,
        errorThresholdPercentage: 50,
        volumeThreshold: 20,
        rollingWindowMs: 10_000,
        resetTimeoutMs: 5000,
      },
      dedupe: true,
      headers: { propagate: [{ named: 'x-tenant' }, { matching: '^x-feature-' }], set: { 'x-gateway': 'tessera' } },
      tls: {},
      rateLimit: { requestsPerSecond: 50, burst: 50 },
      maxResponseBytes: 16 * 1024 * 1024,
      errors: { include: [], exposeMessages: true },
    });
    assert.equal(
      resolveSubgraphSettings(config, 'accounts', 'http://localhost:4001/graphql').url,
      'http://localhost:4001/graphql',
    );
    assert.equal(resolveSubgraphSettings(config, 'accounts', 'http://localhost:4001/graphql').breaker.enabled, true);
  });

  it('reads TLS files at start-up, parses what they hold, and names the key of a bad one', () => {
    const pki = generatePki();
    const dir = pki.dir;
    writeFileSync(join(dir, 'junk.txt'), 'not a certificate');
    const ok = parseConfig(
      {
        supergraph: { file: 'x' },
        subgraphs: { accounts: { tls: { ca: 'ca.crt', cert: 'client.crt', key: 'client.key' } } },
      },
      { baseDir: dir },
    );
    assert.match(ok.subgraphs['accounts']!.tls!.ca!, /^-----BEGIN CERTIFICATE-----/);
    const inline = parseConfig({
      supergraph: { file: 'x' },
      subgraphs: { accounts: { tls: { ca: readFileSync(pki.ca, 'utf8') } } },
    });
    assert.match(inline.subgraphs['accounts']!.tls!.ca!, /^-----BEGIN/);
    try {
      parseConfig(
        { supergraph: { file: 'x' }, subgraphs: { accounts: { tls: { cert: 'missing.pem', key: 'junk.txt' } } } },
        { source: 'tessera.yaml', baseDir: dir },
      );
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [
        `subgraphs.accounts.tls.cert: cannot read ${join(dir, 'missing.pem')} (ENOENT)`,
        `subgraphs.accounts.tls.key: ${join(dir, 'junk.txt')} is not a PEM file`,
      ]);
    }
  });

  it('checks every value that can be wrong at the door, naming its key', () => {
    const pki = generatePki();
    const fakeCa = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const headerName = "a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)";
    const table: Array<{ what: string; config: Record<string, unknown>; problems: Array<string | RegExp> }> = [
      {
        what: 'a header pattern that is not a regex',
        config: { subgraphs: { all: { headers: { propagate: [{ matching: '^x-(feature' }] } } } },
        problems: [
          'subgraphs.all.headers.propagate.0.matching: not a valid regular expression (Invalid regular expression: /^x-(feature/i: Unterminated group)',
        ],
      },
      {
        what: 'hop-by-hop and malformed header names',
        config: {
          subgraphs: {
            accounts: {
              headers: {
                propagate: [{ named: 'Connection' }, { named: 'x tenant' }, { named: 'x-a', rename: 'host' }],
              },
            },
          },
        },
        problems: [
          'subgraphs.accounts.headers.propagate.0.named: hop-by-hop or client-owned: it cannot be propagated',
          `subgraphs.accounts.headers.propagate.1.named: ${headerName}`,
          'subgraphs.accounts.headers.propagate.2.rename: hop-by-hop or client-owned: it cannot be propagated',
        ],
      },
      {
        what: 'static headers undici would refuse on every request',
        config: {
          subgraphs: {
            accounts: { headers: { set: { 'x-ok': 'a\r\nb', 'x y': '1', 'Transfer-Encoding': 'chunked' } } },
          },
        },
        problems: [
          'subgraphs.accounts.headers.set.x-ok: a header value without line breaks or NUL',
          `subgraphs.accounts.headers.set.x y: not allowed as a name here: ${headerName}`,
          'subgraphs.accounts.headers.set.Transfer-Encoding: not allowed as a name here: connection-level: the gateway sets it itself',
        ],
      },
      {
        what: 'a Redis store without Redis',
        config: { policies: { rateLimit: { store: 'redis' } } },
        problems: ['policies.rateLimit.store: `redis` needs the top-level `redis` section (or use `auto` or `memory`)'],
      },
      {
        what: 'a client certificate without its key (after `all` is merged)',
        config: { subgraphs: { all: { tls: { ca: pki.ca } }, accounts: { tls: { cert: pki.clientCert } } } },
        problems: [
          'subgraphs.accounts.tls.key: a client certificate needs its key: set both `cert` and `key` (here or under `all`), or neither',
        ],
      },
      {
        what: 'a certificate and a key that do not match',
        config: { subgraphs: { accounts: { tls: { cert: pki.clientCert, key: pki.serverKey } } } },
        problems: [
          /^subgraphs\.accounts\.tls: the certificate and key do not work together \(.*key values mismatch\)$/,
        ],
      },
      {
        what: 'a PEM block that is not a certificate',
        config: { server: { tls: { cert: pki.serverCert, key: pki.serverKey, ca: fakeCa } } },
        problems: [/^server\.tls\.ca: not a valid certificate \(.+\)$/],
      },
      {
        what: 'a listen host that is not one',
        config: { server: { host: 'local host' } },
        problems: ['server.host: an IP address or a host name'],
      },
      {
        what: 'a registry graph the registry cannot route',
        config: { supergraph: { registry: { url: 'http://registry:4100', graph: 'shop/eu', token: 't' } } },
        problems: ['supergraph.registry.graph: letters, digits, _ and - (at most 64)'],
      },
      {
        what: 'auth: a duplicate issuer, header names with spaces, a two-word scheme',
        config: {
          policies: {
            auth: {
              issuers: [
                { issuer: 'https://idp', jwksUrl: 'https://idp/jwks', audiences: ['api'] },
                { issuer: 'https://idp', jwksUrl: 'https://idp/keys', audiences: ['api'] },
              ],
              token: { header: 'x auth', scheme: 'Bearer token' },
              forwardClaims: [{ claim: 'sub', header: 'x-user:id' }],
            },
          },
        },
        problems: [
          'policies.auth.issuers.1.issuer: the same issuer as issuers.0',
          `policies.auth.token.header: ${headerName}`,
          'policies.auth.token.scheme: one word, e.g. `Bearer` (or empty for a bare token)',
          `policies.auth.forwardClaims.0.header: ${headerName}`,
        ],
      },
      {
        what: 'a rate-limit identity header with a space',
        config: { policies: { rateLimit: { identifyBy: [{ header: 'api key' }] } } },
        problems: [`policies.rateLimit.identifyBy.0.header: ${headerName}`],
      },
      {
        what: 'files policies read at start-up',
        config: {
          policies: {
            auth: { issuers: [{ issuer: 'https://idp', jwksFile: 'missing-jwks.json', audiences: ['api'] }] },
            authorization: { policyModule: 'missing-policies.ts' },
          },
        },
        problems: [
          `policies.auth.issuers.0.jwksFile: cannot read ${join(pki.dir, 'missing-jwks.json')} (ENOENT)`,
          `policies.authorization.policyModule: cannot read ${join(pki.dir, 'missing-policies.ts')} (ENOENT)`,
        ],
      },
    ];
    for (const t of table) {
      let got: readonly string[] = [];
      try {
        parseConfig({ supergraph: { file: 'x' }, ...t.config }, { source: 'tessera.yaml', baseDir: pki.dir });
      } catch (err) {
        assert.ok(err instanceof ConfigError, t.what);
        got = err.problems;
      }
      assert.equal(got.length, t.problems.length, `${t.what}: ${JSON.stringify(got)}`);
      t.problems.forEach((p, i) =>
        typeof p === 'string' ? assert.equal(got[i], p, t.what) : assert.match(got[i]!, p, t.what),
      );
    }
  });

  it('a valid config with every checked value passes, and policy files become absolute paths', () => {
    const pki = generatePki();
    writeFileSync(join(pki.dir, 'jwks.json'), JSON.stringify({ keys: [] }));
    writeFileSync(join(pki.dir, 'policies.ts'), 'export default {};\n');
    const config = parseConfig(
      {
        supergraph: { registry: { url: 'http://registry:4100', graph: 'shop', variant: 'eu-west_1', token: 't' } },
        server: { host: '::', tls: { cert: 'server.crt', key: 'server.key', ca: 'ca.crt', requestClientCert: true } },
        subgraphs: {
          all: {
            tls: { ca: 'ca.crt' },
            headers: { propagate: [{ matching: '^x-(feature|flag)-' }], set: { 'x-gateway': 'tessera' } },
          },
          accounts: {
            tls: { cert: 'client.crt', key: 'client.key' },
            headers: { propagate: [{ named: 'X-Tenant', rename: 'x-org', default: 'none' }] },
          },
        },
        redis: { url: 'redis://127.0.0.1:6379' },
        policies: {
          auth: {
            issuers: [{ issuer: 'https://idp', jwksFile: 'jwks.json', audiences: ['api'] }],
            token: { header: 'x-api-token', scheme: '' },
            forwardClaimsAsJson: 'x-claims',
          },
          authorization: { policyModule: 'policies.ts' },
          rateLimit: { store: 'redis', identifyBy: [{ header: 'x-api-key' }, 'ip'] },
        },
      },
      { baseDir: pki.dir },
    );
    assert.equal(config.policies.auth!.issuers[0]!.jwksFile, join(pki.dir, 'jwks.json'));
    assert.equal(config.policies.authorization.policyModule, join(pki.dir, 'policies.ts'));
  });

  it('a header pattern that is not a regex stops `tessera gateway` with 78 and its key, not a supergraph error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'tessera.yaml');
    // A real supergraph: before, this config got as far as building the subgraph clients and failed there.
    writeFileSync(
      join(dir, 's.graphql'),
      composeOrThrow(allSubgraphs.map((name) => ({ name, url: `http://127.0.0.1:9/${name}`, sdl: exampleSdl(name) }))),
    );
    writeFileSync(
      file,
      'supergraph:\n  file: s.graphql\nsubgraphs:\n  all:\n    headers:\n      propagate:\n        - matching: "^x-feature-["\n',
    );
    await using proc = runCli(['gateway', '--config', file]);
    assert.equal(await proc.exited, 78);
    assert.equal(
      proc.stderr.join(''),
      `CONFIG_INVALID: ${file} has 1 problem\n  subgraphs.all.headers.propagate.0.matching: not a valid regular expression (Invalid regular expression: /^x-feature-[/i: Unterminated character class)\n`,
    );
    assert.deepEqual(proc.logs(), [], 'nothing started, so nothing logged');
  });

  it('a Redis rate-limit store without Redis stops `tessera gateway` with 78 before connecting anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'tessera.yaml');
    writeFileSync(file, 'supergraph:\n  file: s.graphql\npolicies:\n  rateLimit:\n    store: redis\n');
    await using proc = runCli(['gateway', '--config', file]);
    assert.equal(await proc.exited, 78);
    assert.equal(
      proc.stderr.join(''),
      `CONFIG_INVALID: ${file} has 1 problem\n  policies.rateLimit.store: \`redis\` needs the top-level \`redis\` section (or use \`auto\` or \`memory\`)\n`,
    );
  });

  it('the gateway refuses to start on a bad config, naming the key, before opening a port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'tessera.yaml');
    writeFileSync(
      file,
      'supergraph:\n  file: s.graphql\nserver:\n  prot: 4000\nsubgraphs:\n  all:\n    timeoutMs: fast\n',
    );
    await using proc = runCli(['gateway', '--config', file]);
    assert.equal(await proc.exited, 78);
    assert.equal(
      proc.stderr.join(''),
      `CONFIG_INVALID: ${file} has 2 problems\n  server.prot: unknown key\n  subgraphs.all.timeoutMs: Invalid input: expected number, received string\n`,
    );
  });
});
