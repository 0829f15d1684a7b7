import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../gateway/config/load.ts';
import { resolveSubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { compileHeaderRules } from '../../gateway/subgraph-client/headers.ts';
import { runCli } from '../harness/process.ts';

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
      problems({ supergraph: { file: 's.graphql' }, server: { port: 'eighty', colour: 'blue' }, subgraphs: { reviews: { timeout: 5 }, all: { url: 'http://x/graphql' } } }),
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
    assert.equal(parseConfig({ supergraph: { file: 'x' } }, { env: { PORT: '5055', HOST: '127.0.0.1' } }).server.port, 5055);
    assert.deepEqual(problems({ supergraph: { file: 'x' } }, { PORT: 'abc' }), ['server.port: Invalid input: expected number, received string']);
  });

  it('merges per-subgraph settings over `all` over defaults', () => {
    const config = parseConfig({
      supergraph: { file: 'x' },
      subgraphs: {
        all: { timeoutMs: 3000, pool: { connections: 10 }, retry: { maxAttempts: 2 }, rateLimit: { requestsPerSecond: 50 }, headers: { propagate: [{ named: 'x-tenant' }], set: { 'x-gateway': 'tessera' } } },
        reviews: { url: 'http://reviews:4003/graphql', pool: { keepAliveTimeoutMs: 1000 }, breaker: { enabled: false }, headers: { propagate: [{ matching: '^x-feature-' }] } },
      },
    });
    assert.deepEqual(resolveSubgraphSettings(config, 'reviews', 'http://localhost:4003/graphql'), {
      name: 'reviews',
      url: 'http://reviews:4003/graphql',
      timeoutMs: 3000,
      attemptTimeoutMs: 5000,
      connectTimeoutMs: 2000,
      pool: { connections: 10, keepAliveTimeoutMs: 1000, pipelining: 1 },
      retry: { maxAttempts: 2, baseDelayMs: 25, maxDelayMs: 1000, budgetRatio: 0.2, budgetMinPerSecond: 5, budgetWindowMs: 10_000 },
      breaker: { enabled: false, errorThresholdPercentage: 50, volumeThreshold: 20, rollingWindowMs: 10_000, resetTimeoutMs: 5000 },
      dedupe: true,
      headers: { propagate: [{ named: 'x-tenant' }, { matching: '^x-feature-' }], set: { 'x-gateway': 'tessera' } },
      tls: {},
      rateLimit: { requestsPerSecond: 50, burst: 50 },
      maxResponseBytes: 16 * 1024 * 1024,
      errors: { include: [], exposeMessages: true },
    });
    assert.equal(resolveSubgraphSettings(config, 'accounts', 'http://localhost:4001/graphql').url, 'http://localhost:4001/graphql');
    assert.equal(resolveSubgraphSettings(config, 'accounts', 'http://localhost:4001/graphql').breaker.enabled, true);
  });

  it('reads TLS files at start-up and names the key of a bad path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-pem-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'junk.txt'), 'not a certificate');
    const ok = parseConfig({ supergraph: { file: 'x' }, subgraphs: { accounts: { tls: { ca: 'ca.pem' } } } }, { baseDir: dir });
    assert.match(ok.subgraphs['accounts']!.tls!.ca!, /^-----BEGIN CERTIFICATE-----/);
    const inline = parseConfig({ supergraph: { file: 'x' }, subgraphs: { accounts: { tls: { ca: '-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----' } } } });
    assert.match(inline.subgraphs['accounts']!.tls!.ca!, /^-----BEGIN/);
    try {
      parseConfig({ supergraph: { file: 'x' }, subgraphs: { accounts: { tls: { cert: 'missing.pem', key: 'junk.txt' } } } }, { source: 'tessera.yaml', baseDir: dir });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [`subgraphs.accounts.tls.cert: cannot read ${join(dir, 'missing.pem')} (ENOENT)`, `subgraphs.accounts.tls.key: ${join(dir, 'junk.txt')} is not a PEM file`]);
    }
  });

  it('rejects header rules for hop-by-hop headers', () => {
    const config = parseConfig({ supergraph: { file: 'x' }, subgraphs: { all: { headers: { propagate: [{ named: 'Connection' }] } } } });
    assert.throws(() => compileHeaderRules(resolveSubgraphSettings(config, 'a', 'http://a/graphql').headers), /header "connection" is hop-by-hop/);
  });

  it('the gateway refuses to start on a bad config, naming the key, before opening a port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'tessera.yaml');
    writeFileSync(file, 'supergraph:\n  file: s.graphql\nserver:\n  prot: 4000\nsubgraphs:\n  all:\n    timeoutMs: fast\n');
    await using proc = runCli(['gateway', '--config', file]);
    assert.equal(await proc.exited, 78);
    assert.equal(
      proc.stderr.join(''),
      `CONFIG_INVALID: ${file} has 2 problems\n  server.prot: unknown key\n  subgraphs.all.timeoutMs: Invalid input: expected number, received string\n`,
    );
  });
});
