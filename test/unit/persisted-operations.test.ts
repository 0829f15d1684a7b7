import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema } from 'graphql';
import { ConfigError, parseConfig } from '../../gateway/config/load.ts';
import { LruApqStore } from '../../gateway/features/persisted-operations/apq-store.ts';
import { ManifestIndex } from '../../gateway/features/persisted-operations/manifest-source.ts';
import { manifestLimits, parseManifest, sha256Hex, validateOperations } from '../../supergraph/operations/manifest.ts';

const TOP = 'query Top { top { id } }';

describe('operation manifests', () => {
  it("reads Apollo's persisted-query manifest and Relay's persisted queries into one shape", () => {
    const apollo = parseManifest({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256Hex(TOP), name: 'Top', type: 'query', body: TOP }],
    });
    assert.deepEqual(apollo, { ok: true, operations: [{ id: sha256Hex(TOP), name: 'Top', type: 'query', body: TOP }] });
    const relay = parseManifest({ b1946ac92492d2347c6235b4d2611184: TOP });
    assert.deepEqual(relay, {
      ok: true,
      operations: [{ id: 'b1946ac92492d2347c6235b4d2611184', name: null, type: null, body: TOP }],
    });
  });

  it('refuses malformed manifests, saying which entry and why, and bounds their size', () => {
    const bad = (json: unknown) => {
      const r = parseManifest(json);
      assert.equal(r.ok, false);
      return (r as { errors: string[] }).errors;
    };
    assert.deepEqual(bad([]), [
      'a manifest is a JSON object (Apollo persisted-query manifest or Relay persisted queries)',
    ]);
    assert.deepEqual(bad({ format: 'other', operations: [] }), [
      '"format" "other" is not "apollo-persisted-query-manifest"',
    ]);
    assert.deepEqual(bad({ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }), [
      'only version 1 of the Apollo persisted-query manifest is known',
    ]);
    assert.deepEqual(
      bad({
        operations: [
          { id: 'a b', body: TOP },
          { id: 'x', body: '' },
          { id: 'y', body: TOP, type: 'x' },
        ],
      }),
      [
        'operations[0]: "id" must be 1–200 letters, digits or _ . : -',
        'operations[1]: "body" must be GraphQL text',
        'operations[2]: "type" must be query, mutation or subscription',
      ],
    );
    assert.deepEqual(
      bad({
        operations: [
          { id: 'a', body: TOP },
          { id: 'a', body: '{ x }' },
        ],
      }),
      ['id a is given twice, with different bodies'],
    );
    assert.deepEqual(bad({}), ['the manifest has no operations']);
    assert.deepEqual(bad({ a: 'x'.repeat(manifestLimits.bodyBytes + 1) }), [
      `"a": "body" is over ${manifestLimits.bodyBytes} bytes`,
    ]);
    const many = Object.fromEntries(Array.from({ length: manifestLimits.operations + 1 }, (_, i) => [`id${i}`, TOP]));
    assert.deepEqual(bad(many), [
      `${manifestLimits.operations + 1} operations; at most ${manifestLimits.operations} per manifest`,
    ]);
    // At most 20 problems are listed, however many entries are bad.
    assert.equal(bad({ operations: Array.from({ length: 100 }, () => ({ id: '', body: '' })) }).length, 20);
  });

  it('validates each operation against a schema, with a token budget for hostile bodies', () => {
    const schema = buildSchema('type Query { top: Item } type Item { id: ID! }');
    const problems = validateOperations(schema, [
      { id: '1', name: 'Top', body: TOP },
      { id: '2', name: 'Bad', body: 'query Bad { top { colour } }' },
      { id: '3', name: null, body: 'query A { top { id } } query B { top { id } }' },
      { id: '4', name: null, body: `{ ${'top { id } '.repeat(10_000)} }` },
    ]);
    assert.deepEqual(problems, [
      { id: '2', name: 'Bad', errors: ['Cannot query field "colour" on type "Item". (1:19)'] },
      { id: '3', name: null, errors: ['holds 2 operations; a persisted document holds exactly one'] },
      {
        id: '4',
        name: null,
        errors: [
          `Syntax Error: Document contains more that ${manifestLimits.tokens} tokens. Parsing aborted. (1:55001)`,
        ],
      },
    ]);
  });

  it('a gateway index finds a document by id, by `sha256:` id and by the hash of its body', () => {
    const relayText = 'query R { top { id } }';
    const index = new ManifestIndex([
      {
        client: 'web',
        version: '1',
        createdAt: '',
        operations: [{ id: sha256Hex(TOP), name: 'Top', type: 'query', body: TOP }],
      },
      {
        client: 'ios',
        version: '2',
        createdAt: '',
        operations: [{ id: 'r1', name: null, type: null, body: relayText }],
      },
    ]);
    assert.equal(index.byDocumentId(`sha256:${sha256Hex(TOP).toUpperCase()}`), TOP);
    assert.equal(index.byDocumentId(sha256Hex(TOP)), TOP);
    assert.equal(index.byDocumentId('r1'), relayText);
    assert.equal(index.byHash(sha256Hex(relayText)), relayText, 'an APQ hash of a body whose id is not its hash');
    assert.equal(index.byDocumentId('r2'), null);
    assert.ok(index.hasBodyHash(sha256Hex(TOP)));
    assert.equal(index.operations, 2);
  });

  it('the APQ memory store keeps the most recently used entries, at most maxEntries', () => {
    const store = new LruApqStore(2);
    store.put('a', 'A');
    store.put('b', 'B');
    assert.equal(store.peek('a'), 'A'); // a is now the most recent
    store.put('c', 'C');
    assert.equal(store.peek('b'), null);
    assert.equal(store.peek('a'), 'A');
    assert.equal(store.peek('c'), 'C');
    assert.equal(store.size, 2);
  });
});

describe('persistedOperations config', () => {
  const problems = (raw: unknown) => {
    try {
      parseConfig(raw, { source: 'tessera.yaml', env: {} });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
    assert.fail('expected a ConfigError');
  };

  it('defaults: open, APQ on, bounded, GET answers cacheable for 60 s', () => {
    const c = parseConfig({ supergraph: { file: '/tmp/s.graphql' } }, { env: {} });
    assert.deepEqual(c.persistedOperations, {
      mode: 'open',
      apq: { enabled: true, maxEntries: 10_000, maxQueryBytes: 65_536, ttlSec: 86_400 },
      getMaxAgeSec: 60,
    });
  });

  it('refuses combinations that cannot work, naming the key', () => {
    assert.deepEqual(problems({ supergraph: { file: '/tmp/s.graphql' }, persistedOperations: { mode: 'allowList' } }), [
      'persistedOperations.mode: `allowList` needs `persistedOperations.manifests`: without them nothing would be allowed',
    ]);
    assert.deepEqual(problems({ supergraph: { file: '/tmp/s.graphql' }, persistedOperations: { manifests: {} } }), [
      'persistedOperations.manifests.url: required when the supergraph does not come from a registry (`supergraph.registry`)',
      'persistedOperations.manifests.graph: required when the supergraph does not come from a registry (`supergraph.registry`)',
      'persistedOperations.manifests.token: required when the supergraph does not come from a registry (`supergraph.registry`)',
    ]);
    assert.deepEqual(
      problems({ supergraph: { file: '/tmp/s.graphql' }, persistedOperations: { bypass: { claim: 'internal' } } }),
      ['persistedOperations.bypass: a bypass claim is read from verified tokens: configure `policies.auth`'],
    );
  });
});
