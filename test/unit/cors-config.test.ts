import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../gateway/config/load.ts';
import { runCli } from '../../harness/process.ts';

const problems = (cors: unknown) => {
  try {
    parseConfig({ supergraph: { file: '/tmp/s.graphql' }, server: { cors } }, { source: 'tessera.yaml', env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('server.cors is checked at the door', () => {
  it('is off unless configured, and fills its defaults when it is', () => {
    assert.equal(parseConfig({ supergraph: { file: '/tmp/s.graphql' } }).server.cors, undefined);
    const config = parseConfig({
      supergraph: { file: '/tmp/s.graphql' },
      server: { cors: { origins: ['https://app.example.com', { matching: 'https://[a-z0-9-]+\\.example\\.com' }] } },
    });
    assert.deepEqual(config.server.cors, {
      origins: ['https://app.example.com', { matching: 'https://[a-z0-9-]+\\.example\\.com' }],
      credentials: false,
      maxAgeSec: 600,
      allowedHeaders: [
        'content-type',
        'authorization',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'x-request-id',
        'x-tessera-cost',
      ],
      exposedHeaders: ['x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after'],
    });
  });

  it('names each origin that a browser would never send, with the spelling it would', () => {
    assert.deepEqual(
      problems({
        origins: [
          'https://app.example.com/',
          'https://App.Example.com',
          'app.example.com',
          'https://app.example.com/path',
          'ftp://files.example.com',
          'null',
        ],
      }),
      [
        'server.cors.origins.0: not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash (write it as https://app.example.com); use { matching: regex } for others',
        'server.cors.origins.1: not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash (write it as https://app.example.com); use { matching: regex } for others',
        'server.cors.origins.2: not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash; use { matching: regex } for others',
        'server.cors.origins.3: not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash (write it as https://app.example.com); use { matching: regex } for others',
        'server.cors.origins.4: not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash; use { matching: regex } for others',
        'server.cors.origins.5: not an origin as browsers send it: scheme://host[:port], lower case, no path or trailing slash; use { matching: regex } for others',
      ],
    );
  });

  it('compiles origin patterns, refuses `*` with credentials or beside other origins, and needs at least one origin', () => {
    assert.deepEqual(problems({ origins: [{ matching: 'https://(a|b' }] }), [
      'server.cors.origins.0.matching: not a valid regular expression (Invalid regular expression: /^(?:https://(a|b)$/: Unterminated group)',
    ]);
    assert.deepEqual(problems({ origins: ['*'], credentials: true }), [
      'server.cors.credentials: browsers refuse credentials with `Access-Control-Allow-Origin: *`: list the origins instead of `*`',
    ]);
    assert.deepEqual(problems({ origins: ['https://app.example.com', '*'] }), [
      'server.cors.origins.1: `*` allows every origin: list it alone',
    ]);
    assert.deepEqual(problems({ origins: [] }), ['server.cors.origins: Too small: expected array to have >=1 items']);
    assert.deepEqual(problems({ origins: ['*'], maxAgeSec: -1, allowedHeaders: ['x bad'], methods: ['PUT'] }), [
      'server.cors.maxAgeSec: Too small: expected number to be >=0',
      "server.cors.allowedHeaders.0: a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)",
      'server.cors.methods: unknown key',
    ]);
  });

  it('a bad origin pattern stops `tessera gateway` with 78 and its key before any port opens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'tessera.yaml');
    writeFileSync(
      file,
      'supergraph:\n  file: s.graphql\nserver:\n  cors:\n    origins:\n      - https://app.example.com\n      - matching: "https://[a-z"\n',
    );
    await using proc = runCli(['gateway', '--config', file]);
    assert.equal(await proc.exited, 78);
    assert.equal(
      proc.stderr.join(''),
      `CONFIG_INVALID: ${file} has 1 problem\n  server.cors.origins.1.matching: not a valid regular expression (Invalid regular expression: /^(?:https://[a-z)$/: Unterminated character class)\n`,
    );
    assert.deepEqual(proc.logs(), [], 'nothing started, so nothing logged');
  });
});
