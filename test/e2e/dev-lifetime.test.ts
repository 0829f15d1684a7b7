import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, run, startService, waitForOk } from '../../harness/package.ts';
import { freePort } from '../../harness/ports.ts';
import { repoRoot } from '../../harness/process.ts';

const launcher = join(repoRoot, 'bin/tessera.js');

/** The processes whose parent is `pid`, from /proc: pid and command line. */
function childrenOf(pid: number): Array<{ pid: number; cmd: string }> {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid
          ? [{ pid: Number(d), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim() }]
          : [];
      } catch {
        return []; // exited while we looked
      }
    });
}

/** Running: exists and is not a zombie waiting to be reaped (a dead process whose parent is gone too). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && pids.some(running)) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(running);
}

/** Five consecutive free loopback ports: the gateway's and the four subgraphs'. */
async function freeRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + 4 > 65_535) continue;
    const free = await Promise.all([1, 2, 3, 4].map((i) => listenable(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no run of five free ports');
}

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const devEnv = (port: number) => cleanEnv({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });

describe('tessera dev leaves no process behind', () => {
  it('SIGKILL of tessera dev takes its four subgraph processes with it, and frees their ports', async () => {
    const port = await freeRun();
    const dev = startService(process.execPath, [launcher, 'dev'], { cwd: repoRoot, env: devEnv(port) });
    try {
      await waitForOk(`http://127.0.0.1:${port}/ready`, dev);
      const subgraphs = childrenOf(dev.pid).filter((c) => c.cmd.includes('dev-subgraph'));
      assert.deepEqual(subgraphs.map((c) => c.cmd.split(' ').slice(-2).join(' ')).sort(), [
        `accounts ${port + 1}`,
        `inventory ${port + 4}`,
        `products ${port + 2}`,
        `reviews ${port + 3}`,
      ]);
      process.kill(dev.pid, 'SIGKILL');
      assert.deepEqual(
        await waitUntilGone(
          subgraphs.map((c) => c.pid),
          10_000,
        ),
        [],
        'every subgraph process exited',
      );
      for (let i = 0; i <= 4; i++) assert.ok(await listenable(port + i), `port ${port + i} is free again`);
    } finally {
      await dev.stop();
    }
  });

  it('npm start killed with SIGKILL (an IDE stop button): tessera dev and its subgraphs stop', async () => {
    const port = await freeRun();
    const npm = startService('npm', ['start'], { cwd: repoRoot, env: devEnv(port) });
    try {
      await waitForOk(`http://127.0.0.1:${port}/ready`, npm);
      const [dev, ...others] = childrenOf(npm.pid);
      assert.deepEqual(others, [], 'npm runs one process');
      assert.match(dev!.cmd, /bin\/tessera\.js dev$/, 'npm start execs tessera dev: no shell in between');
      const subgraphs = childrenOf(dev!.pid).filter((c) => c.cmd.includes('dev-subgraph'));
      assert.equal(subgraphs.length, 4);
      process.kill(npm.pid, 'SIGKILL');
      assert.deepEqual(
        await waitUntilGone([dev!.pid, ...subgraphs.map((c) => c.pid)], 20_000),
        [],
        'tessera dev and every subgraph exited',
      );
    } finally {
      await npm.stop();
    }
  });

  it('a port in use: one line naming it, exit code 1, nothing started', async () => {
    const port = await freeRun();
    for (const [taken, host, what] of [
      [port + 2, '127.0.0.1', 'the products subgraph'],
      [port, '127.0.0.1', 'the gateway'],
    ] as const) {
      const holder: Server = createServer();
      await new Promise<void>((r) => holder.listen(taken, host, r));
      try {
        const res = await run(process.execPath, [launcher, 'dev'], {
          cwd: repoRoot,
          env: devEnv(port),
          timeoutMs: 60_000,
        });
        assert.deepEqual(res, {
          code: 1,
          stdout: '',
          stderr: `tessera dev: port ${taken} (${what}) is already in use (EADDRINUSE); stop what holds it, or run on other ports: PORT=5000 npm start (the subgraphs take the four after it)\n`,
        });
      } finally {
        await new Promise((r) => holder.close(r));
      }
    }
  });
});
