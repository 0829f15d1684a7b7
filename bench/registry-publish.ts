// `node bench/registry-publish.ts --sdl-bytes 4700000`: publishes one very large subgraph SDL to a
// real `tessera registry` process and reports what the operator sees: how long the publish takes
// and what it answers, how long /health polls (every 100 ms, sequential) wait meanwhile, and the
// registry's peak RSS. Extra registry config keys: --config-json '{"limits":{"maxSdlBytes":…}}'.
import { get } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bigSubgraphSdl } from '../harness/big-sdl.ts';
import { api, startRegistry, tokens } from '../harness/registry.ts';

const { values: opts } = parseArgs({
  options: {
    'sdl-bytes': { type: 'string', default: '4700000' },
    'config-json': { type: 'string', default: '{}' },
    'health-timeout-ms': { type: 'string', default: '120000' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-registry-'));
const registry = await startRegistry(dir, {
  config: { server: { bodyLimitBytes: 64 * 1024 * 1024 }, ...JSON.parse(opts['config-json']!) },
});
const pid = registry.proc.child.pid!;
const rssMb = (field: 'VmRSS' | 'VmHWM') =>
  Number(
    /(\d+) kB/.exec(
      readFileSync(`/proc/${pid}/status`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(field))!,
    )![1],
  ) / 1024;

try {
  const sdl = bigSubgraphSdl(Number(opts['sdl-bytes']));
  const baselineRss = rssMb('VmRSS');
  const health: number[] = [];
  let done = false;
  const poller = (async () => {
    while (!done) {
      const t0 = performance.now();
      // A fresh connection per poll: a keep-alive socket the blocked server times out would turn a
      // slow answer into a reset, and this measures the wait.
      await new Promise<void>((resolve, reject) => {
        get(`${registry.url}/health`, { agent: false, timeout: Number(opts['health-timeout-ms']) }, (res) =>
          res.resume().once('end', resolve),
        ).once('error', reject);
      });
      health.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const t0 = performance.now();
  const res = await api(registry.url, 'bench/variants/main/subgraphs/big', {
    token: tokens.admin,
    body: { url: 'http://big.local/graphql', sdl },
  });
  const publishMs = performance.now() - t0;
  done = true;
  await poller;
  const peakRss = rssMb('VmHWM');
  const sorted = [...health].sort((a, b) => a - b);
  const result = {
    sdlBytes: Buffer.byteLength(sdl),
    publish: {
      status: res.status,
      body: res.text.length > 300 ? `${res.text.slice(0, 300)}…` : res.text,
      ms: Math.round(publishMs),
    },
    health: {
      polls: health.length,
      maxMs: Math.round(sorted.at(-1) ?? 0),
      p50Ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      over500ms: health.filter((h) => h > 500).length,
    },
    rssMb: { before: Math.round(baselineRss), peak: Math.round(peakRss) },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} catch (err) {
  process.stderr.write(
    `${String(err)}\nregistry exit: ${registry.proc.child.exitCode ?? registry.proc.child.signalCode}\nregistry stderr: ${registry.proc.stderr.join('').slice(-3000)}\n`,
  );
  process.exitCode = 1;
} finally {
  await registry.proc.kill();
  rmSync(dir, { recursive: true, force: true });
}
