import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfigFile } from '../../gateway/config/load.ts';
import { exampleSubgraphs } from '../../subgraphs/catalog.ts';
import { loadSupergraphConfig } from '../../supergraph/supergraph-config.ts';
import { parseDockerfile } from '../../harness/dockerfile.ts';
import { repoRoot } from '../../harness/process.ts';

// No Docker engine runs here, so the file is checked against the repository it describes.
const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      build?: string;
      image?: string;
      pull_policy?: string;
      user?: string;
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      expose?: string[];
      volumes?: string[];
      healthcheck?: { test: string[] };
      depends_on?: Record<string, { condition: string }>;
    }
  >;
  volumes: Record<string, unknown>;
};
const finalStage = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).at(-1)!;
const workdir = finalStage.instructions
  .filter((i) => i.op === 'WORKDIR')
  .reduce((dir, i) => posix.resolve(dir, i.args[0]!), '/');
const cliCommands = ['compose', 'gateway', 'subgraph', 'registry'];
const tessera = Object.entries(compose.services).filter(([, s]) => s.image === 'tessera');
/** The in-repo file a path inside the image comes from (the build copies sources' assets to dist/ unchanged). */
const sourceOf = (imagePath: string) => join(repoRoot, imagePath.replace(/^dist\//, ''));

describe('docker-compose.yml describes a stack that can run', () => {
  it('has the four subgraphs, the compose step, the gateway and redis', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'accounts',
      'compose',
      'gateway',
      'inventory',
      'products',
      'redis',
      'reviews',
    ]);
  });

  it('builds the one tessera image once: every other Tessera service runs it and never pulls it', () => {
    assert.deepEqual(tessera.map(([n]) => n).sort(), [
      'accounts',
      'compose',
      'gateway',
      'inventory',
      'products',
      'reviews',
    ]);
    assert.deepEqual(
      Object.entries(compose.services)
        .filter(([, s]) => s.build)
        .map(([n, s]) => [n, s.build, s.pull_policy]),
      [['gateway', '.', 'build']],
    );
    for (const [name, svc] of tessera) if (!svc.build) assert.equal(svc.pull_policy, 'never', name);
  });

  it('every Tessera service runs a real CLI command with config files the image has (test/e2e/docker-image.test.ts runs them)', () => {
    for (const [name, svc] of tessera) {
      const [command, ...args] = svc.command ?? [];
      assert.ok(cliCommands.includes(command!), `${name}: unknown command ${command}`);
      if (args.includes('--config'))
        assert.ok(existsSync(sourceOf(args[args.indexOf('--config') + 1]!)), `${name}: its config exists`);
    }
  });

  it('each subgraph service listens where the gateway config routes it, with a health check', () => {
    const gatewayArgs = compose.services['gateway']!.command!;
    const config = loadConfigFile(sourceOf(gatewayArgs[gatewayArgs.indexOf('--config') + 1]!), {});
    for (const [name, { port }] of Object.entries(exampleSubgraphs)) {
      const svc = compose.services[name]!;
      assert.deepEqual(svc.command, ['subgraph', name, '--port', String(port)]);
      assert.equal(svc.environment?.['HOST'], '0.0.0.0');
      assert.equal(svc.environment?.['PORT'], String(port));
      assert.ok(svc.healthcheck?.test.join(' ').includes('/health'));
      assert.equal(config.subgraphs[name]?.url, `http://${name}:${port}/graphql`);
      assert.equal(compose.services['gateway']!.depends_on?.[name]?.condition, 'service_healthy');
    }
  });

  it('the gateway reads the supergraph the compose step writes into the shared volume, and waits for it', () => {
    const composeArgs = compose.services['compose']!.command!;
    const output = posix.resolve(workdir, composeArgs[composeArgs.indexOf('--output') + 1]!);
    const gatewayArgs = compose.services['gateway']!.command!;
    const configPath = gatewayArgs[gatewayArgs.indexOf('--config') + 1]!;
    const configFile = posix.resolve(workdir, configPath);
    loadConfigFile(sourceOf(configPath), {});
    // The config names the supergraph relative to itself; in the container that must be `output`.
    const raw = parse(readFileSync(sourceOf(configPath), 'utf8')) as { supergraph: { file: string } };
    assert.equal(posix.resolve(posix.dirname(configFile), raw.supergraph.file), output);
    assert.ok(loadSupergraphConfig(sourceOf(composeArgs[composeArgs.indexOf('--config') + 1]!)).length === 4);
    const volumeDir = posix.dirname(output);
    assert.deepEqual(compose.services['gateway']!.volumes, [`supergraph:${volumeDir}:ro`]);
    assert.deepEqual(compose.services['compose']!.volumes, [`supergraph:${volumeDir}`]);
    assert.ok('supergraph' in compose.volumes);
    assert.equal(compose.services['compose']!.user, 'root', 'a fresh named volume belongs to root');
    assert.equal(compose.services['gateway']!.depends_on?.['compose']?.condition, 'service_completed_successfully');
    assert.equal(compose.services['gateway']!.depends_on?.['redis']?.condition, 'service_healthy');
    assert.deepEqual(compose.services['gateway']!.ports, ['4000:4000']);
    assert.match(compose.services['gateway']!.healthcheck!.test.join(' '), /\/ready/);
  });
});
