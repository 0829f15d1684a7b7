import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from './ports.ts';

/** Whether `redis-server` can run here. CI installs it and sets CI=true, so there a missing binary is a failure. */
export function redisAvailable(): boolean {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env['CI'])
    throw new Error('redis-server is not installed, but CI must run the Redis tests (apt-get install -y redis-server)');
  return found;
}

export const redisSkipMessage =
  'redis-server is not installed on this machine; install it (apt-get install -y redis-server) to run the Redis tests';

/** A real redis-server on loopback, with no persistence; can be killed and restarted on its port. */
export class RedisServer {
  port = 0;
  private child: ChildProcess | null = null;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
    return this;
  }

  /** SIGSTOP: the server hangs with its sockets open, so clients see no error, only silence. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after `pause()`: it answers everything that queued up meanwhile. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGKILL: the clients see the connection drop with no goodbye. */
  async kill(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}
