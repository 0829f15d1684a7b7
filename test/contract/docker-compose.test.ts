import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfigFile } from '../../gateway/config/load.ts';
import { exampleSubgraphs } from '../../subgraphs/catalog.ts';
import { loadSupergraphConfig } from '../../supergraph/supergraph-config.ts';
import { repoRoot } from '../harness/process.ts';

// No Docker engine runs here, so the file is checked against the repository it describes.
const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { build?: string; image?: string; command?: string[]; environment?: Record<string, string>; ports?: string[]; expose?: string[]; volumes?: string[]; healthcheck?: { test: string[] }; depends_on?: Record<string, { condition: string }> }>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const cliCommands = ['compose', 'gateway', 'subgraph', 'dev'];

describe('docker-compose.yml describes a stack that can run', () => {
  it('has the four subgraphs, the compose step, the gateway and redis', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['accounts', 'compose', 'gateway', 'inventory', 'products', 'redis', 'reviews']);
  });

  it('runs a Node 24 image whose entrypoint is the tessera CLI, copying every folder the CLI imports', () => {
    assert.match(dockerfile, /^FROM node:24/m);
    assert.match(dockerfile, /ENTRYPOINT \["node", "bin\/tessera\.ts"\]/);
    for (const dir of ['bin', 'gateway', 'supergraph', 'subgraphs', 'deploy']) {
      assert.match(dockerfile, new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'));
      assert.ok(existsSync(join(repoRoot, dir)));
    }
  });

  it('every built service runs a real CLI command with real files', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (!svc.build) continue;
      const [command, ...args] = svc.command ?? [];
      assert.ok(cliCommands.includes(command!), `${name}: unknown command ${command}`);
      const config = args[args.indexOf('--config') + 1];
      if (args.includes('--config')) assert.ok(existsSync(join(repoRoot, config!)), `${name}: ${config} exists`);
    }
  });

  it('each subgraph service listens where the gateway config routes it, with a health check', () => {
    const gatewayArgs = compose.services['gateway']!.command!;
    const config = loadConfigFile(join(repoRoot, gatewayArgs[gatewayArgs.indexOf('--config') + 1]!), {});
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

  it('the gateway reads the supergraph the compose step writes, and waits for it', () => {
    const composeArgs = compose.services['compose']!.command!;
    const output = composeArgs[composeArgs.indexOf('--output') + 1];
    const gatewayArgs = compose.services['gateway']!.command!;
    const config = loadConfigFile(join(repoRoot, gatewayArgs[gatewayArgs.indexOf('--config') + 1]!), {});
    assert.equal(config.supergraph.file, output);
    assert.ok(loadSupergraphConfig(join(repoRoot, composeArgs[composeArgs.indexOf('--config') + 1]!)).length === 4);
    assert.deepEqual(compose.services['gateway']!.volumes, ['supergraph:/supergraph:ro']);
    assert.deepEqual(compose.services['compose']!.volumes, ['supergraph:/supergraph']);
    assert.ok('supergraph' in compose.volumes);
    assert.equal(compose.services['gateway']!.depends_on?.['compose']?.condition, 'service_completed_successfully');
    assert.equal(compose.services['gateway']!.depends_on?.['redis']?.condition, 'service_healthy');
    assert.deepEqual(compose.services['gateway']!.ports, ['4000:4000']);
    assert.match(compose.services['gateway']!.healthcheck!.test.join(' '), /\/ready/);
  });
});
