import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../../gateway/config/config-file.ts';
import { overridesOf } from '../../gateway/config/overrides.ts';
import { loadConfigFile, parseConfig } from '../../gateway/config/load.ts';
import { resolveSubgraphSettings } from '../../gateway/config/resolve-subgraphs.ts';
import { loadRegistryConfig } from '../../supergraph/registry/config.ts';
import { loadSupergraphConfig } from '../../supergraph/supergraph-config.ts';

const loaders = {
  gateway: (file: string) => loadConfigFile(file, {}),
  registry: loadRegistryConfig,
  compose: loadSupergraphConfig,
};

/** Writes `text` to a fresh file and returns what each loader reports about it. */
function problemsOf(text: string): Record<keyof typeof loaders, readonly string[] | 'loaded'> {
  const file = join(mkdtempSync(join(tmpdir(), 'tessera-config-file-')), 'config.yaml');
  writeFileSync(file, text);
  const out = {} as Record<keyof typeof loaders, readonly string[] | 'loaded'>;
  for (const [name, load] of Object.entries(loaders) as Array<[keyof typeof loaders, (f: string) => unknown]>) {
    try {
      load(file);
      out[name] = 'loaded';
    } catch (err) {
      assert.ok(err instanceof ConfigError, `${name}: ${String(err)}`);
      assert.equal(err.source, file);
      out[name] = err.problems;
    }
  }
  return out;
}

describe('one YAML loader for the gateway, registry and compose configs', () => {
  it('reports YAML syntax errors, duplicate keys and tabs with their line and column, the same way for all three', () => {
    const cases: Array<[string, string[]]> = [
      [
        'server:\n  port: 4000\n   host: x\n',
        [
          'line 2, column 9: not valid YAML: Nested mappings are not allowed in compact mappings',
          'line 2, column 9: not valid YAML: Implicit keys need to be on a single line',
        ],
      ],
      ['log:\n  level: info\nlog:\n  level: debug\n', ['line 3, column 1: not valid YAML: Map keys must be unique']],
      ['server:\n\tport: 1\n', ['line 2, column 1: not valid YAML: Tabs are not allowed as indentation']],
    ];
    for (const [text, expected] of cases) {
      assert.deepEqual(problemsOf(text), { gateway: expected, registry: expected, compose: expected }, text);
    }
  });

  it('refuses an alias to no anchor, and an alias bomb, as invalid YAML without expanding it', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
    ].join('\n');
    const expanded = ['not valid YAML: Excessive alias count indicates a resource exhaustion attack'];
    assert.deepEqual(problemsOf(`${bomb}\n`), { gateway: expanded, registry: expanded, compose: expanded });
    const dangling = ['not valid YAML: Unresolved alias (the anchor must be set before the alias): nope'];
    assert.deepEqual(problemsOf('server: *nope\n'), { gateway: dangling, registry: dangling, compose: dangling });
  });

  it('a document that is not a mapping is refused at its root; an empty file is an empty mapping', () => {
    assert.deepEqual(problemsOf('- a\n- b\n'), {
      gateway: ['(root): expected a mapping of keys'],
      registry: ['(root): expected a mapping of keys'],
      compose: ['(root): expected a mapping of keys'],
    });
    assert.deepEqual(problemsOf('# nothing yet\n'), {
      gateway: ['supergraph: Invalid input: expected object, received undefined'],
      registry: [
        'storage: Invalid input: expected object, received undefined',
        'tokens: Invalid input: expected array, received undefined',
      ],
      compose: ['subgraphs: Invalid input: expected record, received undefined'],
    });
  });

  it('names a file it cannot read', () => {
    const missing = join(tmpdir(), 'tessera-no-such-dir', 'missing.yaml');
    for (const load of Object.values(loaders)) {
      assert.throws(
        () => load(missing),
        (err: unknown) =>
          err instanceof ConfigError && err.source === missing && err.problems.join() === 'cannot read file: ENOENT',
      );
    }
  });

  it('formats every schema problem as `key.path: message`, unknown keys one per key', () => {
    const got = problemsOf(
      'federation_version: 1\nserver: { port: 70000, colour: blue }\nsubgraphs:\n  alpha: { routing_url: "not a url", schema: { file: a.graphql, fiel: b } }\n',
    );
    assert.deepEqual(got.compose, [
      'federation_version: only Federation 2 (e.g. "=2.9.0" or "2") is supported',
      'subgraphs.alpha.routing_url: Invalid URL',
      'subgraphs.alpha.schema.fiel: unknown key',
      'server: unknown key',
    ]);
    assert.deepEqual(got.registry, [
      'server.port: Too big: expected number to be <=65535',
      'server.colour: unknown key',
      'storage: Invalid input: expected object, received undefined',
      'tokens: Invalid input: expected array, received undefined',
      'federation_version: unknown key',
      'subgraphs: unknown key',
    ]);
    assert.deepEqual(got.gateway, [
      'server.port: Too big: expected number to be <=65535',
      'server.colour: unknown key',
      'supergraph: Invalid input: expected object, received undefined',
      'subgraphs.alpha.routing_url: unknown key',
      'subgraphs.alpha.schema: unknown key',
      'federation_version: unknown key',
    ]);
  });

  it('returns a deeply frozen value with paths made absolute against the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-file-'));
    writeFileSync(
      join(dir, 'registry.yaml'),
      `storage: { sqlite: data/r.sqlite }\ntokens:\n  - { name: ci, graph: "*", sha256: ${'a'.repeat(64)}, permissions: [read] }\n`,
    );
    const registry = loadRegistryConfig(join(dir, 'registry.yaml'));
    assert.equal(registry.storage.sqlite, join(dir, 'data/r.sqlite'));
    assert.equal(registry.server.port, 4100);
    assert.ok(Object.isFrozen(registry.tokens[0]!.permissions));
    writeFileSync(
      join(dir, 'supergraph.yaml'),
      'subgraphs:\n  a: { routing_url: "http://a/graphql", schema: { file: a.graphql } }\n',
    );
    assert.deepEqual(loadSupergraphConfig(join(dir, 'supergraph.yaml')), [
      { name: 'a', routingUrl: 'http://a/graphql', schema: { file: join(dir, 'a.graphql') } },
    ]);
  });
});

describe('subgraph settings: declared once in the schema, given in layers', () => {
  const config = (subgraphs: unknown) => parseConfig({ supergraph: { file: 's.graphql' }, subgraphs });

  it('a layer keeps only what it sets: no default is filled in before the merge', () => {
    assert.deepEqual(config({ all: { retry: { maxAttempts: 2 } }, reviews: { timeoutMs: 100 } }).subgraphs, {
      all: { retry: { maxAttempts: 2 } },
      reviews: { timeoutMs: 100 },
    });
  });

  it('every default comes from the schema when no layer sets the key', () => {
    assert.deepEqual(resolveSubgraphSettings(config({}), 'reviews', 'http://r/graphql'), {
      name: 'reviews',
      url: 'http://r/graphql',
      instances: ['http://r/graphql'],
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
      timeoutMs: 10_000,
      attemptTimeoutMs: 5_000,
      connectTimeoutMs: 2_000,
      pool: { connections: 128, keepAliveTimeoutMs: 30_000, pipelining: 1 },
      retry: {
        maxAttempts: 3,
        baseDelayMs: 25,
        maxDelayMs: 1_000,
        budgetRatio: 0.2,
        budgetMinPerSecond: 5,
        budgetWindowMs: 10_000,
      },
      breaker: {
        enabled: true,
        errorThresholdPercentage: 50,
        volumeThreshold: 20,
        rollingWindowMs: 10_000,
        resetTimeoutMs: 5_000,
      },
      dedupe: true,
      headers: { propagate: [], set: {} },
      tls: {},
      rateLimit: null,
      maxResponseBytes: 16 * 1024 * 1024,
      errors: { include: [], exposeMessages: true },
    });
  });

  it("a subgraph's rate cap replaces the `all` one as a whole (its burst follows its own rate); `null` turns it off", () => {
    const c = config({
      all: { rateLimit: { requestsPerSecond: 50, burst: 200 } },
      reviews: { rateLimit: { requestsPerSecond: 2.5 } },
      inventory: { rateLimit: null },
    });
    assert.deepEqual(resolveSubgraphSettings(c, 'accounts', 'http://a/graphql').rateLimit, {
      requestsPerSecond: 50,
      burst: 200,
    });
    assert.deepEqual(resolveSubgraphSettings(c, 'reviews', 'http://r/graphql').rateLimit, {
      requestsPerSecond: 2.5,
      burst: 3,
    });
    assert.equal(resolveSubgraphSettings(c, 'inventory', 'http://i/graphql').rateLimit, null);
  });

  it('static headers and TLS merge by key; propagate rules add up; the result is frozen', () => {
    const c = config({
      all: {
        headers: { set: { 'x-a': '1', 'x-b': '1' }, propagate: [{ named: 'x-tenant' }] },
        tls: { servername: 'internal', rejectUnauthorized: false },
      },
      reviews: {
        headers: { set: { 'x-b': '2' }, propagate: [{ named: 'x-user' }] },
        tls: { rejectUnauthorized: true },
      },
    });
    const reviews = resolveSubgraphSettings(c, 'reviews', 'http://r/graphql');
    assert.deepEqual(reviews.headers, {
      set: { 'x-a': '1', 'x-b': '2' },
      propagate: [{ named: 'x-tenant' }, { named: 'x-user' }],
    });
    assert.deepEqual(reviews.tls, { servername: 'internal', rejectUnauthorized: true });
    assert.ok(Object.isFrozen(reviews.headers.propagate));
    assert.deepEqual(
      c.subgraphs['all']!.headers!.propagate,
      [{ named: 'x-tenant' }],
      'the layers are not changed by the merge',
    );
  });

  it('a settings object with a refinement cannot be layered: it would judge a partial value', () => {
    const windowed = z
      .strictObject({ fromMs: z.int().default(0), toMs: z.int().default(10) })
      .refine((w) => w.fromMs < w.toMs);
    assert.throws(
      () => overridesOf(z.strictObject({ window: windowed })),
      /an object with refinements cannot be overridden key by key/,
    );
  });
});
