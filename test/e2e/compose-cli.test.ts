import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, runCli } from '../../harness/process.ts';
import { startSubgraphProc } from '../../harness/stack.ts';

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-compose-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])';

describe('tessera compose', () => {
  it('composes the example subgraphs into a supergraph file', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tessera-compose-')), 'nested', 'supergraph.graphql');
    await using proc = runCli(['compose', '--config', join(repoRoot, 'subgraphs/supergraph.yaml'), '--output', out]);
    assert.equal(await proc.exited, 0);
    // Composition's one hint: the interface field gets the conjunction of its implementations' scopes.
    assert.equal(
      proc.stderr.join(''),
      'hint[MERGED_NON_REPEATABLE_DIRECTIVE_ARGUMENTS]: Directive @requiresScopes is applied to "CatalogEntry.internalNotes" in multiple subgraphs with different arguments. Merging strategies used by arguments: { "scopes": DNF_CONJUNCTION }\n' +
        `composed 4 subgraphs (accounts, products, reviews, inventory) into ${out}\n`,
    );
    const sdl = readFileSync(out, 'utf8');
    for (const [name, port] of [
      ['accounts', 4001],
      ['products', 4002],
      ['reviews', 4003],
      ['inventory', 4004],
    ]) {
      assert.match(sdl, new RegExp(`@join__graph\\(name: "${name}", url: "http://localhost:${port}/graphql"\\)`));
    }
    assert.match(sdl, /@join__type\(graph: PRODUCTS, key: "sku variant"\)/);
  });

  it('fails on conflicting field types: exit 1, both subgraphs named, nothing written', async () => {
    const dir = workspace({
      'a.graphql': `${link}\ntype Query { a: Product }\ntype Product @key(fields: "id") { id: ID! price: Int @shareable }\n`,
      'b.graphql': `${link}\ntype Query { b: Product }\ntype Product @key(fields: "id") { id: ID! price: String @shareable }\n`,
      'supergraph.yaml':
        'federation_version: =2.9.0\nsubgraphs:\n  alpha:\n    routing_url: http://alpha/graphql\n    schema: { file: a.graphql }\n  beta:\n    routing_url: http://beta/graphql\n    schema: { file: b.graphql }\n',
    });
    const out = join(dir, 'supergraph.graphql');
    await using proc = runCli(['compose', '--config', join(dir, 'supergraph.yaml'), '--output', out]);
    assert.equal(await proc.exited, 1);
    const stderr = proc.stderr.join('');
    assert.equal(
      stderr,
      'error[COMPOSITION_FAILED]: composition of 2 subgraphs failed with 1 error; nothing was written.\n' +
        'error[FIELD_TYPE_MISMATCH]: Type of field "Product.price" is incompatible across subgraphs: it has type "Int" in subgraph "alpha" but type "String" in subgraph "beta"\n' +
        '    at alpha:3:43\n' +
        '    at beta:3:43\n',
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(proc.stdout.filter(Boolean), []);
  });

  it('reports a syntax error with its subgraph and position', async () => {
    const dir = workspace({
      'a.graphql': `${link}\ntype Query { a: Int\n`,
      'supergraph.yaml':
        'subgraphs:\n  alpha:\n    routing_url: http://alpha/graphql\n    schema: { file: a.graphql }\n',
    });
    await using proc = runCli(['compose', '--config', join(dir, 'supergraph.yaml')]);
    assert.equal(await proc.exited, 1);
    assert.match(
      proc.stderr.join(''),
      /error\[INVALID_GRAPHQL\]: \[alpha\] Syntax Error: Expected Name, found <EOF>\.\n {4}at alpha:3:1\n/,
    );
  });

  it('rejects a config with an unknown key or Federation 1 (exit 2)', async () => {
    const dir = workspace({
      'supergraph.yaml':
        'federation_version: 1\nsubgraphs:\n  alpha:\n    routing_url: http://alpha/graphql\n    schema: { file: a.graphql, fiel: b }\n',
    });
    await using proc = runCli(['compose', '--config', join(dir, 'supergraph.yaml')]);
    assert.equal(await proc.exited, 2);
    const stderr = proc.stderr.join('');
    assert.match(stderr, /federation_version: only Federation 2/);
    assert.match(stderr, /subgraphs\.alpha\.schema\.fiel: unknown key/);
  });

  it('a bad supergraph.yaml is reported whole, the same way by `compose` and `subgraph check --config` (exit 2)', async () => {
    const dir = workspace({
      'supergraph.yaml':
        'subgraphs:\n  alpha:\n    routing_url: http://alpha/graphql\n    schema: { file: a.graphql }\n    colour: blue\n  beta: { routing_url: 42 }\nsubgraphs: {}\n',
    });
    const file = join(dir, 'supergraph.yaml');
    await using compose = runCli(['compose', '--config', file]);
    assert.equal(await compose.exited, 2);
    assert.equal(
      compose.stderr.join(''),
      `error[CONFIG_INVALID]: ${file} has 1 problem\n  line 7, column 1: not valid YAML: Map keys must be unique\n`,
    );

    writeFileSync(
      file,
      'subgraphs:\n  alpha:\n    routing_url: http://alpha/graphql\n    schema: { file: a.graphql }\n    colour: blue\n  beta: { routing_url: 42 }\n',
    );
    const expected = [
      `error[CONFIG_INVALID]: ${file} has 3 problems`,
      '  subgraphs.alpha.colour: unknown key',
      '  subgraphs.beta.routing_url: Invalid input: expected string, received number',
      '  subgraphs.beta.schema: Invalid input',
      '',
    ].join('\n');
    await using again = runCli(['compose', '--config', file]);
    assert.equal(await again.exited, 2);
    assert.equal(again.stderr.join(''), expected);
    // The registry is never asked: port 9 on loopback refuses, which would be a different error.
    await using check = runCli([
      'subgraph',
      'check',
      '--graph',
      'shop',
      '--token',
      't',
      '--registry',
      'http://127.0.0.1:9',
      '--config',
      file,
    ]);
    assert.equal(await check.exited, 2);
    assert.equal(check.stderr.join(''), expected);
  });

  it('fetches SDL from a running subgraph with schema.subgraph_url, and reports one that is down', async () => {
    const accounts = await startSubgraphProc('accounts');
    try {
      const dir = workspace({
        'supergraph.yaml': `subgraphs:\n  accounts:\n    routing_url: ${accounts.url}\n    schema: { subgraph_url: ${accounts.url} }\n`,
      });
      await using ok = runCli(['compose', '--config', join(dir, 'supergraph.yaml')]);
      assert.equal(await ok.exited, 0);
      assert.match(ok.stdout.join('\n'), /type User\s+@join__type\(graph: ACCOUNTS, key: "id"\)/);
    } finally {
      await accounts.proc.kill();
    }
    const dir = workspace({
      'supergraph.yaml': `subgraphs:\n  accounts:\n    routing_url: ${accounts.url}\n    schema: { subgraph_url: ${accounts.url} }\n`,
    });
    await using down = runCli(['compose', '--config', join(dir, 'supergraph.yaml')]);
    assert.equal(await down.exited, 2);
    assert.equal(
      down.stderr.join(''),
      `error: subgraph "accounts": cannot fetch SDL from ${accounts.url} (ECONNREFUSED)\n`,
    );
  });
});
