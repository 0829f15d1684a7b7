import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const cli = fileURLToPath(new URL('../bin/tessera.ts', import.meta.url));

export interface Proc extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** First stdout JSON log line whose `msg` matches (or that the predicate accepts), waiting up to `timeoutMs`. */
  waitForLog(
    msg: string | RegExp | ((line: Record<string, unknown>) => boolean),
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  logs(): Array<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs `node bin/tessera.ts …` and collects its output; disposing kills it. */
export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Proc {
  return runScript(cli, args, opts);
}

/** Runs `node <script> …` (a test service of harness/) and collects its output; disposing kills it. */
export function runScript(
  script: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Proc {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, NODE_ENV: 'test', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    stdout.push(...lines);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of waiters) w();
      resolve(code ?? signal ?? -1);
    }),
  );

  const logs = () =>
    stdout.flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

  const proc: Proc = {
    child,
    stdout,
    stderr,
    exited,
    logs,
    waitForLog(msg, timeoutMs = 20_000) {
      const match = (o: Record<string, unknown>) =>
        typeof msg === 'string' ? o['msg'] === msg : typeof msg === 'function' ? msg(o) : msg.test(String(o['msg']));
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = logs().find(match);
          if (hit) return done(() => resolve(hit));
          if (child.exitCode !== null || child.signalCode !== null) {
            return done(() =>
              reject(
                new Error(
                  `process exited (${child.exitCode ?? child.signalCode}) before logging "${msg}"\nstderr: ${stderr.join('')}\nstdout: ${stdout.slice(-20).join('\n')}`,
                ),
              ),
            );
          }
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(
                new Error(
                  `timed out waiting for "${msg}"\nstderr: ${stderr.join('')}\nstdout: ${stdout.slice(-20).join('\n')}`,
                ),
              ),
            ),
          timeoutMs,
        );
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async [Symbol.asyncDispose]() {
      await proc.kill('SIGKILL');
    },
  };
  return proc;
}

/** Runs `node bin/tessera.ts …` to its end: exit code and the whole of stdout and stderr, as written. */
export function runCliToEnd(
  args: readonly string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: repoRoot,
      env: { ...process.env, NODE_ENV: 'test', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A command that should answer at once but started serving instead fails its test rather than hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
