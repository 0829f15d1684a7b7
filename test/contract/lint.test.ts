// The layering rules of eslint.config.js, run through ESLint itself on planted files: each violation must be
// reported by the rule that owns it, with its message, and allowed imports must pass. The planted text never
// touches the disk (lintText with a filePath inside the guarded folder), so the test does not depend on what
// the tree itself violates today.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { repoRoot } from '../../harness/process.ts';

// The planted files are not part of the TypeScript program, so type-aware rules are off here; the layering
// rules need no types.
const eslint = new ESLint({ cwd: repoRoot, overrideConfig: tseslint.configs.disableTypeChecked });

type Finding = { ruleId: string | null; line: number; message: string };

async function lint(file: string, code: string): Promise<Finding[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
  assert.ok(result, `ESLint linted ${file}`);
  return result.messages.map(({ ruleId, line, message }) => ({ ruleId, line, message }));
}

/** A real file in `dir` (the import must resolve, or no-restricted-paths has nothing to judge). */
function someFile(dir: string): string {
  const name = readdirSync(join(repoRoot, dir))
    .filter((f) => f.endsWith('.ts'))
    .sort()[0];
  assert.ok(name, `${dir} has a .ts file`);
  return `${dir}/${name}`;
}

function assertExists(...files: string[]): void {
  for (const file of files) assert.ok(existsSync(join(repoRoot, file)), `${file} exists`);
}

const engineMessage =
  'Only gateway/engine/apollo/ imports the GraphQL engine (@apollo/gateway, @apollo/server, ' +
  '@apollo/server-gateway-interface); the rest of Tessera goes through gateway/engine/engine.ts.';

describe('layering rules (eslint.config.js)', () => {
  it('a policy importing @apollo/server is reported (value and type imports alike)', async () => {
    const code = [
      "import { ApolloServer } from '@apollo/server';",
      "import type { GraphQLRequestContext } from '@apollo/server';",
      'export const engine = ApolloServer;',
      'export type Ctx = GraphQLRequestContext<object>;',
      '',
    ].join('\n');
    assert.deepEqual(await lint('policies/auth/planted.ts', code), [
      {
        ruleId: 'no-restricted-imports',
        line: 1,
        message: `'@apollo/server' import is restricted from being used by a pattern. ${engineMessage}`,
      },
      {
        ruleId: 'no-restricted-imports',
        line: 2,
        message: `'@apollo/server' import is restricted from being used by a pattern. ${engineMessage}`,
      },
    ]);
  });

  it('@apollo/gateway and deep @apollo/server paths are refused outside the engine folder too', async () => {
    const code = [
      "import { ApolloGateway } from '@apollo/gateway';",
      "import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';",
      'export const parts = [ApolloGateway, ApolloServerPluginLandingPageDisabled];',
      '',
    ].join('\n');
    assert.deepEqual(await lint('gateway/http/planted.ts', code), [
      {
        ruleId: 'no-restricted-imports',
        line: 1,
        message: `'@apollo/gateway' import is restricted from being used by a pattern. ${engineMessage}`,
      },
      {
        ruleId: 'no-restricted-imports',
        line: 2,
        message: `'@apollo/server/plugin/disabled' import is restricted from being used by a pattern. ${engineMessage}`,
      },
    ]);
    assert.deepEqual(await lint('gateway/engine/apollo/planted.ts', code), []);
  });

  it('a policy importing gateway/http/… is reported', async () => {
    const target = someFile('gateway/http');
    const specifier = `../../${target}`;
    assert.deepEqual(
      await lint('policies/auth/planted.ts', `import * as http from '${specifier}';\nexport { http };\n`),
      [
        {
          ruleId: 'import-x/no-restricted-paths',
          line: 1,
          message:
            `Unexpected path "${specifier}" imported in restricted zone. ` +
            'A policy imports from gateway/ only gateway/errors/; the rest comes through policies/policy.ts.',
        },
      ],
    );
  });

  it('a policy importing another policy is reported', async () => {
    assertExists('policies/auth/index.ts');
    assert.deepEqual(
      await lint('policies/cost/planted.ts', "import * as auth from '../auth/index.ts';\nexport { auth };\n"),
      [
        {
          ruleId: 'import-x/no-restricted-paths',
          line: 1,
          message:
            'Unexpected path "../auth/index.ts" imported in restricted zone. ' +
            'A policy imports only its own folder (policies/cost/) and the shared top-level policies/*.ts files.',
        },
      ],
    );
  });

  it('bench importing a test file is reported', async () => {
    const target = someFile('test/e2e');
    const specifier = `../${target}`;
    assert.deepEqual(
      await lint('bench/planted.ts', `import * as harness from '${specifier}';\nexport { harness };\n`),
      [
        {
          ruleId: 'import-x/no-restricted-paths',
          line: 1,
          message: `Unexpected path "${specifier}" imported in restricted zone. bench/ does not import test/.`,
        },
      ],
    );
  });

  it('a subgraph importing gateway/ is reported, even gateway/errors/', async () => {
    assertExists('gateway/errors/codes.ts');
    assert.deepEqual(
      await lint('subgraphs/planted.ts', "import * as codes from '../gateway/errors/codes.ts';\nexport { codes };\n"),
      [
        {
          ruleId: 'import-x/no-restricted-paths',
          line: 1,
          message:
            'Unexpected path "../gateway/errors/codes.ts" imported in restricted zone. ' +
            'The example subgraphs import nothing from gateway/ or policies/.',
        },
      ],
    );
  });

  it('the gateway importing composition from supergraph/ is reported; the registry client is allowed', async () => {
    assertExists('supergraph/compose.ts', 'supergraph/registry/client.ts');
    assert.deepEqual(
      await lint('gateway/planted.ts', "import * as compose from '../supergraph/compose.ts';\nexport { compose };\n"),
      [
        {
          ruleId: 'import-x/no-restricted-paths',
          line: 1,
          message:
            'Unexpected path "../supergraph/compose.ts" imported in restricted zone. ' +
            'gateway/ imports from supergraph/ only the registry client (registry/client.ts), write-file-atomic.ts and the operation manifests (operations/manifest.ts, graphql-js only).',
        },
      ],
    );
    assert.deepEqual(
      await lint(
        'gateway/planted.ts',
        "import * as registry from '../supergraph/registry/client.ts';\nexport { registry };\n",
      ),
      [],
    );
  });

  it('a policy that imports only the contract, its own folder, shared policy files and gateway/errors passes', async () => {
    assertExists('policies/policy.ts', 'policies/auth/index.ts', 'gateway/errors/tessera-error.ts');
    const code = [
      "import type { PolicyModule } from '../policy.ts';",
      "import * as own from './index.ts';",
      "import * as errors from '../../gateway/errors/tessera-error.ts';",
      "import { z } from 'zod';",
      "import { parse } from 'graphql';",
      'export type M = PolicyModule;',
      'export const parts = [own, errors, z, parse];',
      '',
    ].join('\n');
    assert.deepEqual(await lint('policies/auth/planted.ts', code), []);
  });

  it('each @apollo family is allowed in the folder that owns it', async () => {
    const composition = "import { composeServices } from '@apollo/composition';\nexport { composeServices };\n";
    const subgraph = "import { buildSubgraphSchema } from '@apollo/subgraph';\nexport { buildSubgraphSchema };\n";
    assert.deepEqual(await lint('supergraph/planted.ts', composition), []);
    assert.deepEqual(await lint('subgraphs/planted.ts', subgraph), []);
    const both = [
      "import { composeServices } from '@apollo/composition';",
      "import { buildSubgraphSchema } from '@apollo/subgraph';",
      'export const parts = [composeServices, buildSubgraphSchema];',
      '',
    ].join('\n');
    assert.deepEqual(await lint('test/unit/planted.test.ts', both), []);
    assert.deepEqual(
      await lint('subgraphs/planted.ts', "import { ApolloServer } from '@apollo/server';\nexport { ApolloServer };\n"),
      [
        {
          ruleId: 'no-restricted-imports',
          line: 1,
          message: `'@apollo/server' import is restricted from being used by a pattern. ${engineMessage}`,
        },
      ],
    );
    assert.deepEqual(await lint('gateway/planted.ts', composition), [
      {
        ruleId: 'no-restricted-imports',
        line: 1,
        message:
          "'@apollo/composition' import is restricted from being used by a pattern. " +
          'Only supergraph/ (and test/) import @apollo/composition and @apollo/federation-internals.',
      },
    ]);
  });
});
