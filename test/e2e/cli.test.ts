import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../../bin/cli-commands.ts';
import { commandHelp, childrenOf, groupHelp, type Command } from '../../supergraph/cli-args.ts';
import { exampleSubgraphs } from '../../subgraphs/catalog.ts';
import { runCliToEnd } from '../../harness/process.ts';

/**
 * Generated from the command table: a command added there is covered here without a line of
 * test. Every run is a real `node bin/tessera.ts` process.
 */

/** Variables that would stand in for a missing flag: cleared, so each run sees only its arguments. */
const quietEnv = {
  TESSERA_REGISTRY_URL: '',
  TESSERA_REGISTRY_TOKEN: '',
  TESSERA_CONFIG: '',
  PORT: '',
  HOST: '',
  TESSERA_SUBGRAPH_ADMIN: '',
  LOG_LEVEL: '',
};

type Run = Awaited<ReturnType<typeof runCliToEnd>>;
const tessera = (args: readonly string[], env: Record<string, string> = {}) =>
  runCliToEnd(args, { env: { ...quietEnv, ...env } });

/** Runs the cases a few at a time (the machine is shared) and reports every failure, not just the first. */
async function each<T>(cases: readonly T[], name: (c: T) => string, check: (c: T) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        try {
          await check(c);
        } catch (err) {
          failures.push(`${name(c)}: ${(err as Error).message}`);
        }
      }
    }),
  );
  assert.deepEqual(failures, []);
}

const STACK_FRAME = /^\s+at .+[:(]\d+/m;

/** Every spelling that runs a command, and every group of commands (`supergraph`, `registry token`, `variant`). */
const spellings = commands.flatMap((c) => [c.path, ...(c.aliases ?? [])].map((path) => ({ path, command: c })));
const groups = [
  ...new Set(spellings.flatMap(({ path }) => path.slice(1).map((_, i) => path.slice(0, i + 1).join(' ')))),
]
  .filter((g) => !spellings.some(({ path }) => path.join(' ') === g))
  .map((g) => g.split(' '));

function assertOneLineThenUsage(r: Run, problem: RegExp | string, usage: string): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const [first, blank, ...rest] = r.stderr.split('\n');
  if (typeof problem === 'string') assert.equal(first, problem);
  else assert.match(first!, problem);
  assert.equal(blank, '');
  assert.equal(rest.join('\n'), usage);
  assert.doesNotMatch(r.stderr, STACK_FRAME);
}

describe('tessera CLI: help, usage errors, exit codes (every command, from the command table)', () => {
  it('the table has every command docs/cli.md promises, and groups are found', () => {
    assert.deepEqual(spellings.map(({ path }) => path.join(' ')).sort(), [
      'compose',
      'dev',
      'gateway',
      'operations publish',
      'registry',
      'registry hash-token',
      'registry token create',
      'subgraph',
      'subgraph check',
      'subgraph publish',
      'subgraph rollback',
      'supergraph fetch',
      'token',
      'variant history',
      'variant rollback',
    ]);
    assert.deepEqual(groups.map((g) => g.join(' ')).sort(), ['operations', 'registry token', 'supergraph', 'variant']);
  });

  it('`--help` and `-h` print the usage naming every option on stdout, exit 0', async () => {
    await each(
      spellings.flatMap((s) => ['--help', '-h'].map((flag) => ({ ...s, flag }))),
      ({ path, flag }) => `${path.join(' ')} ${flag}`,
      async ({ path, command, flag }) => {
        const r = await tessera([...path, flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.equal(r.stdout, commandHelp(command, childrenOf(commands, path)));
        assert.ok(r.stdout.startsWith(`Usage: tessera ${command.path.join(' ')}`), r.stdout);
        for (const [name, spec] of Object.entries(command.options)) {
          assert.match(
            r.stdout,
            new RegExp(`^  ${spec.short ? `-${spec.short}, ` : ''}--${name}\\b`, 'm'),
            `--${name} in the help of ${path.join(' ')}`,
          );
        }
        assert.match(r.stdout, /^ {2}-h, --help /m);
        assert.match(r.stdout, new RegExp(`^Exit codes: ${command.exitCodes.replace(/[()]/g, '\\$&')}$`, 'm'));
      },
    );
  });

  it('an unknown option: one line naming it, then the usage, on stderr; exit 2, no stack', async () => {
    await each(
      [
        ...spellings.map(({ path, command }) => ({ path, usage: commandHelp(command, childrenOf(commands, path)) })),
        ...groups.map((path) => ({ path, usage: groupHelp(path, childrenOf(commands, path)) })),
      ],
      ({ path }) => path.join(' '),
      async ({ path, usage }) => {
        const r = await tessera([...path, '--no-such-flag', 'x']);
        assertOneLineThenUsage(r, `tessera ${path.join(' ')}: unknown option '--no-such-flag'`, usage);
      },
    );
  });

  it('a bad value for any option that checks its value names the option and what it must be; exit 2', async () => {
    const cases = commands.flatMap((command) =>
      Object.entries(command.options)
        .filter(([, spec]) => spec.parse && spec.type === 'string')
        .map(([name]) => ({ command, name })),
    );
    assert.ok(cases.length >= 15, `${cases.length} validated options`);
    await each(
      cases,
      ({ command, name }) => `${command.path.join(' ')} --${name}`,
      async ({ command, name }) => {
        const r = await tessera([...command.path, `--${name}`, 'not valid!']);
        assertOneLineThenUsage(
          r,
          new RegExp(`^tessera ${command.path.join(' ')}: --${name} must be .+ \\(got "not valid!"\\)$`),
          commandHelp(command, childrenOf(commands, command.path)),
        );
      },
    );
  });

  it('a missing required option or argument is named (with its variable, where one stands in); exit 2', async () => {
    const cases = commands.filter((c) => Object.values(c.options).some((o) => o.required) || c.positional?.required);
    assert.ok(cases.length >= 8);
    await each(
      cases,
      (c) => c.path.join(' '),
      async (command: Command) => {
        const [name, spec] = Object.entries(command.options).find(([, o]) => o.required) ?? [];
        const r = await tessera(command.path);
        const missing = spec ? `--${name}${spec.env ? ` (or ${spec.env})` : ''}` : `<${command.positional!.name}>`;
        assertOneLineThenUsage(
          r,
          `tessera ${command.path.join(' ')}: ${missing} is required`,
          commandHelp(command, childrenOf(commands, command.path)),
        );
      },
    );
  });

  it('`tessera token --ttl abc`: one line, exit 2 (it used to be a jose stack trace)', async () => {
    const r = await tessera(['token', '--ttl', 'abc']);
    const token = commands.find((c) => c.path.join(' ') === 'token')!;
    assertOneLineThenUsage(
      r,
      'tessera token: --ttl must be a whole number of seconds from 1 to 31536000 (got "abc")',
      commandHelp(token),
    );
  });

  it('a missing value, a value for a switch, a stray argument, a bad env value and a mistyped flag each get their own line', async () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['compose', '--config'], {}, 'tessera compose: --config needs a value'],
      [['subgraph', 'accounts', '--admin=yes'], {}, 'tessera subgraph: --admin takes no value'],
      [['gateway', 'extra'], {}, "tessera gateway: unexpected argument 'extra'"],
      [['registry', 'hash-token', 'a', 'b'], {}, "tessera registry hash-token: unexpected argument 'b'"],
      [
        ['supergraph', 'fetch', '--grpah', 'shop'],
        {},
        "tessera supergraph fetch: unknown option '--grpah' (did you mean --graph?)",
      ],
      [
        ['supergraph', 'fetch', '--graph', 'shop', '--token', 't'],
        { TESSERA_REGISTRY_URL: 'registry:4100' },
        'tessera supergraph fetch: TESSERA_REGISTRY_URL must be an http(s) URL (got "registry:4100")',
      ],
      [
        ['subgraph', 'accounts'],
        { PORT: 'eighty' },
        'tessera subgraph: PORT must be a whole number from 0 to 65535 (got "eighty")',
      ],
      [
        ['subgraph', 'rollback', '--graph', 'shop', '--token', 't', '--registry', 'http://x', '--to', '0'],
        {},
        'tessera subgraph rollback: --to must be a whole number, 1 or more (got "0")',
      ],
      [
        ['subgraph', 'check', '--graph', 'shop', '--token', 't', '--registry', 'http://x'],
        {},
        'tessera subgraph check: --name and --schema (or --config supergraph.yaml) are required',
      ],
      [
        ['subgraph', 'invenotry'],
        {},
        "tessera subgraph: unknown subgraph 'invenotry': one of accounts, products, reviews, inventory (or a command: check, publish, rollback)",
      ],
      [['subgraph', 'accounts', '--tls-cert', 'c.pem'], {}, 'tessera subgraph: --tls-cert and --tls-key go together'],
      [
        ['registry', 'token', 'create', '--name', 'x', '--graph', '*', '--graph', 'shop', '--permissions', 'read'],
        {},
        "tessera registry token create: --graph '*' already means every graph: give it alone",
      ],
    ];
    await each(
      cases,
      ([args]) => args.join(' '),
      async ([args, env, line]) => {
        const r = await tessera(args, env);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr.split('\n')[0], line);
        assert.match(r.stderr.split('\n')[2]!, /^Usage: tessera /);
        assert.doesNotMatch(r.stderr, STACK_FRAME);
      },
    );
  });

  it('the example subgraph names in help are the catalog', () => {
    const subgraph = commands.find((c) => c.path.join(' ') === 'subgraph')!;
    assert.equal(
      subgraph.positional!.help,
      `${Object.keys(exampleSubgraphs).slice(0, -1).join(', ')} or ${Object.keys(exampleSubgraphs).at(-1)}.`,
    );
  });

  it("`tessera --help`, `-h` and `help` list every command; `help <command>` is that command's help; unknown or no command exits 2", async () => {
    const help = await tessera(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tessera <command> \[options\]\n\nCommands:\n/);
    for (const c of commands)
      assert.match(
        help.stdout,
        new RegExp(`^  ${c.path.join(' ')}\\b.*${c.summary.slice(0, 20).replace(/[()`.*?]/g, '\\$&')}`, 'm'),
      );
    assert.deepEqual(await tessera(['-h']), help);
    assert.deepEqual(await tessera(['help']), help);

    const check = await tessera(['help', 'subgraph', 'check']);
    assert.deepEqual(check, await tessera(['subgraph', 'check', '--help']));
    const group = await tessera(['help', 'variant']);
    assert.equal(group.code, 0);
    assert.equal(group.stdout, groupHelp(['variant'], childrenOf(commands, ['variant'])));

    assertOneLineThenUsage(await tessera(['deploy']), "tessera: unknown command 'deploy'", help.stdout);
    assertOneLineThenUsage(
      await tessera(['gatway']),
      "tessera: unknown command 'gatway' (did you mean 'gateway'?)",
      help.stdout,
    );
    assertOneLineThenUsage(await tessera([]), 'tessera: missing command', help.stdout);
    assertOneLineThenUsage(
      await tessera(['variant', 'rolback']),
      "tessera variant: unknown command 'variant rolback' (did you mean 'rollback'?)",
      group.stdout,
    );
  });

  it('an unexpected error (a port in use) is one line, exit 1; the stack only with --verbose or LOG_LEVEL=debug', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const config = join(dir, 'registry.yaml');
      writeFileSync(
        config,
        `server: { host: 127.0.0.1, port: ${port} }\nstorage: { sqlite: ${join(dir, 'r.sqlite')} }\nlog: { level: silent }\ntokens:\n  - { name: a, graph: '*', sha256: ${'a'.repeat(64)}, permissions: [read] }\n`,
      );
      const plain = await tessera(['registry', '--config', config]);
      assert.equal(plain.code, 1);
      assert.equal(
        plain.stderr,
        `error[EADDRINUSE]: listen EADDRINUSE: address already in use 127.0.0.1:${port} (--verbose shows the stack)\n`,
      );
      const verbose = await tessera(['registry', '--config', config, '--verbose']);
      assert.equal(verbose.code, 1);
      assert.match(verbose.stderr, /^Error: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\n\s+at /);
      const debug = await tessera(['registry', '--config', config], { LOG_LEVEL: 'debug' });
      assert.match(debug.stderr, STACK_FRAME);
    } finally {
      blocker.close();
    }
  });
});
