// ESLint for Tessera: the layering of STYLE §8.1 written as rules, plus the few checks that catch real bugs
// tsc lets through. Style is Prettier's job (.prettierrc.json), unused names are tsc's (noUnusedLocals and
// noUnusedParameters), so nothing here is about formatting.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

// ---------------------------------------------------------------------------------------------------------------
// Layering, part 1: which folder may import which @apollo/* package (ESLint core `no-restricted-imports`).
//
// A flat config REPLACES a rule's options per matching block rather than merging them, so every folder gets the
// whole list minus the families it owns (`apolloImports(...owned)`).
// ---------------------------------------------------------------------------------------------------------------
const apolloFamilies = {
  // The GraphQL engine: gateway/engine/apollo/ is its one adapter, behind the Engine interface (issue 14 item 2).
  // A second engine is a new folder beside it; gateway/engine/engine.ts itself stays engine-neutral.
  engine: {
    regex: '^@apollo/(?!composition(/|$)|federation-internals(/|$)|subgraph(/|$))',
    message:
      'Only gateway/engine/apollo/ imports the GraphQL engine (@apollo/gateway, @apollo/server, ' +
      '@apollo/server-gateway-interface); the rest of Tessera goes through gateway/engine/engine.ts.',
  },
  // Composition runs in the registry, the CLI and their worker, never in the gateway's request path.
  composition: {
    regex: '^@apollo/(composition|federation-internals)(/|$)',
    message: 'Only supergraph/ (and test/) import @apollo/composition and @apollo/federation-internals.',
  },
  subgraph: {
    regex: '^@apollo/subgraph(/|$)',
    message: 'Only subgraphs/ (the example services) and test/ import @apollo/subgraph.',
  },
};

/** `no-restricted-imports` options that refuse every @apollo family except the ones named. */
function apolloImports(...owned) {
  const patterns = Object.entries(apolloFamilies)
    .filter(([family]) => !owned.includes(family))
    .map(([, { regex, message }]) => ({ regex, message }));
  return patterns.length === 0 ? 'off' : ['error', { patterns }];
}

// ---------------------------------------------------------------------------------------------------------------
// Layering, part 2: which folder may import which folder (import-x `no-restricted-paths`; paths are resolved, so
// `../../gateway/http/x.ts` and a deeper `../../../gateway/...` are the same import). Zones add up: a file in a
// zone's `target` may import nothing under its `from` except the `except` paths (relative to `from`).
// ---------------------------------------------------------------------------------------------------------------

// Each policy is a folder under policies/; the top-level files are what policies share.
const policyFolders = readdirSync(join(root, 'policies'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const sharedPolicyFiles = readdirSync(join(root, 'policies')).filter(
  (name) => name.endsWith('.ts') && name !== 'registry.ts',
);

const zones = [
  // A policy sees the gateway through one door: policies/policy.ts (the plugin contract). From gateway/ it may
  // import gateway/errors/ directly (the catalog and tesseraError), nothing else, so it can be read and tested
  // alone. Only policy.ts itself re-exports the pipeline's contract (gateway/pipeline/plugin.ts) and the shared
  // operation analysis.
  {
    target: ['policies/*/**', 'policies/!(policy).ts'],
    from: 'gateway',
    except: ['./errors'],
    message: 'A policy imports from gateway/ only gateway/errors/; the rest comes through policies/policy.ts.',
  },
  {
    target: 'policies/policy.ts',
    from: 'gateway',
    except: ['./errors', './pipeline/plugin.ts', './pipeline/operation-analysis.ts'],
    message:
      'The policy contract re-exports only gateway/pipeline/plugin.ts, gateway/pipeline/operation-analysis.ts ' +
      'and gateway/errors/.',
  },
  // One policy does not reach into another: what two policies share lives in a top-level policies/*.ts file
  // (the contract, the operation analysis, config helpers, typed slots such as cost → rate limit).
  ...policyFolders.map((name) => ({
    target: `policies/${name}/**`,
    from: 'policies',
    except: [`./${name}`, ...sharedPolicyFiles.map((file) => `./${file}`)],
    message: `A policy imports only its own folder (policies/${name}/) and the shared top-level policies/*.ts files.`,
  })),
  // Production code never depends on tests, benchmarks, the CLI launchers or the repo scripts.
  {
    target: ['gateway/**', 'policies/**', 'supergraph/**', 'subgraphs/**'],
    from: ['test', 'harness', 'bench', 'bin', 'scripts'],
    message:
      'Production code (gateway, policies, supergraph, subgraphs) does not import test/, harness/, bench/, bin/ or scripts/.',
  },
  // The example subgraphs are stand-alone services: they share nothing with the gateway or its policies.
  {
    target: 'subgraphs/**',
    from: ['gateway', 'policies'],
    message: 'The example subgraphs import nothing from gateway/ or policies/.',
  },
  // The gateway fetches published supergraphs through the registry's HTTP client and reuses one composition-free
  // helper; everything else in supergraph/ (composition, checks, the registry server and store) loads
  // @apollo/composition or SQLite and stays out of the gateway process. registry/client.ts imports the
  // CheckReport type from check.ts only as a type (erased at run time).
  {
    target: 'gateway/**',
    from: 'supergraph',
    except: ['./registry/client.ts', './write-file-atomic.ts', './operations/manifest.ts'],
    message:
      'gateway/ imports from supergraph/ only the registry client (registry/client.ts), write-file-atomic.ts and the operation manifests (operations/manifest.ts, graphql-js only).',
  },
  // Benchmarks share helpers with tests through harness/ (real processes on loopback), not by reaching into test/.
  {
    target: 'bench/**',
    from: 'test',
    message: 'bench/ does not import test/.',
  },
];

export default defineConfig(
  {
    ignores: ['dist/', 'coverage/', '.tessera/', 'test/fixtures/', 'bench/results/', 'deploy/', 'schemas/', 'docs/'],
  },
  {
    files: ['**/*.ts', '**/*.js'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 'latest',
      sourceType: 'module',
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones }],
      'no-restricted-imports': apolloImports(),
      // Node 24 strips types without looking at other files, so a type must be imported as a type.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'import-x/no-duplicates': 'error',
      'import-x/no-self-import': 'error',
      'no-self-compare': 'error',
      'no-template-curly-in-string': 'error',
      'no-constant-binary-expression': 'error',
      'no-unsafe-finally': 'error',
      'no-unsafe-optional-chaining': 'error',
      'no-async-promise-executor': 'error',
      'no-dupe-keys': 'error',
      'no-duplicate-case': 'error',
      'no-cond-assign': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // Type-aware rules (one TypeScript program for the whole tsconfig.json, through the project service): only the
  // checks whose bugs tsc cannot see.
  {
    files: ['**/*.ts'],
    ignores: ['bench/baselines/hive-gateway.ts'], // outside tsconfig.json (it type-checks against Hive's own types)
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: {
      // A promise nobody awaits or catches turns a rejection into an unhandledRejection crash (or a lost error).
      // node:test's describe/it return promises the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          ignoreVoid: true,
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after'] },
          ],
        },
      ],
      // An async function passed where a void callback is expected (an event listener) drops its rejection.
      '@typescript-eslint/no-misused-promises': 'error',
      // A `switch` over a union (phase, error code, outcome) must name every member or say `default`.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      // `throw 'text'` and `reject({ code })` lose the stack; passing on a caught `unknown` is fine.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
    },
  },
  // Who owns which @apollo package (see apolloFamilies above).
  { files: ['gateway/engine/apollo/**'], rules: { 'no-restricted-imports': apolloImports('engine') } },
  { files: ['supergraph/**'], rules: { 'no-restricted-imports': apolloImports('composition') } },
  { files: ['subgraphs/**'], rules: { 'no-restricted-imports': apolloImports('subgraph') } },
  // The public benchmark's subgraphs are services too (the bench's backend, like subgraphs/).
  { files: ['bench/public/**'], rules: { 'no-restricted-imports': apolloImports('subgraph') } },
  // Tests build supergraphs and stand-in subgraphs; they reach the engine only through Tessera.
  { files: ['test/**', 'harness/**'], rules: { 'no-restricted-imports': apolloImports('composition', 'subgraph') } },
  // The baselines ARE Apollo Gateway and Hive Gateway: they import what they benchmark.
  { files: ['bench/baselines/**'], rules: { 'no-restricted-imports': 'off' } },
);
