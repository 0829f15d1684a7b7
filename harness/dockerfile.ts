import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { basename, join, matchesGlob, posix } from 'node:path';
import { run, type Ran } from './package.ts';

export interface Instruction {
  op: string;
  /** `--name=value` options (COPY --from, RUN --mount, HEALTHCHECK --interval, ...). */
  flags: Record<string, string>;
  /** The rest: words for shell form, or the array for JSON (exec) form. */
  args: string[];
  json: boolean;
  raw: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Dockerfile → stages, with line continuations and comments handled (enough for ours; tested by replaying it). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const words = rest.split(/\s+/);
    const flags: Record<string, string> = {};
    while (words[0]?.startsWith('--')) {
      const [k, v = ''] = words.shift()!.slice(2).split(/=(.*)/s);
      flags[k!] = v;
    }
    let tail = words.join(' ');
    // HEALTHCHECK [options] CMD ["exec", "form"]
    const prefix = /^CMD\s+(?=\[)/.exec(tail)?.[0] ?? '';
    tail = tail.slice(prefix.length);
    const json = tail.startsWith('[');
    const args = json ? (JSON.parse(tail) as string[]) : words.filter(Boolean);
    const ins: Instruction = { op: op.toUpperCase(), flags, args: prefix ? ['CMD', ...args] : args, json, raw: line };
    if (ins.op === 'FROM') {
      stages.push({ from: ins.args[0]!, name: ins.args[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    if (!stages.length) continue; // `# syntax=` and ARGs before the first FROM
    stages.at(-1)!.instructions.push(ins);
  }
  return stages;
}

/** .dockerignore → a predicate over context-relative POSIX paths (patterns match a path or any folder above it; `!` re-includes). */
export function dockerIgnore(text: string): (path: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ include: l.startsWith('!'), pattern: posix.normalize(l.replace(/^!/, '').replace(/^\/+/, '')) }));
  return (path) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (prefixes.some((p) => matchesGlob(p, r.pattern))) ignored = !r.include;
    return ignored;
  };
}

export interface Replayed {
  stages: Stage[];
  final: Stage;
  /** The final stage's filesystem root on this machine, and its WORKDIR there. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  entrypoint: string[];
  cmd: string[];
  healthcheck: Instruction | undefined;
  runs: Array<{ stage: string; command: string; ran: Ran | 'linked' }>;
}

/**
 * Replays a Dockerfile without a Docker engine: each stage's filesystem is a folder, COPY copies
 * from the build context (minus .dockerignore) or from an earlier stage, RUN runs in the stage's
 * WORKDIR. The base image's own files are not reproduced: this machine's Node stands in for it.
 * One substitution: a full `npm ci` (dev dependencies included) links the repository's
 * node_modules, which .ci/run installed with `npm ci` from the same package-lock.json.
 */
export async function replayDockerfile(opts: {
  context: string;
  dir: string;
  env: NodeJS.ProcessEnv;
}): Promise<Replayed> {
  const stages = parseDockerfile(readFileSync(join(opts.context, 'Dockerfile'), 'utf8'));
  const ignored = existsSync(join(opts.context, '.dockerignore'))
    ? dockerIgnore(readFileSync(join(opts.context, '.dockerignore'), 'utf8'))
    : () => false;
  const roots = new Map<string, string>();
  const runs: Replayed['runs'] = [];
  let state = {
    workdir: '/',
    env: {} as Record<string, string>,
    user: undefined as string | undefined,
    entrypoint: [] as string[],
    cmd: [] as string[],
    healthcheck: undefined as Instruction | undefined,
  };
  let root = '';
  const inRoot = (r: string, p: string) => join(r, p);
  for (const [i, stage] of stages.entries()) {
    root = join(opts.dir, `stage-${i}-${stage.name.replace(/\W/g, '_')}`);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    state = { workdir: '/', env: {}, user: undefined, entrypoint: [], cmd: [], healthcheck: undefined };
    for (const ins of stage.instructions) {
      switch (ins.op) {
        case 'WORKDIR':
          state.workdir = posix.resolve(state.workdir, ins.args[0]!);
          mkdirSync(inRoot(root, state.workdir), { recursive: true });
          break;
        case 'ENV':
          for (const kv of ins.args) {
            const [k, v = ''] = kv.split(/=(.*)/s);
            state.env[k!] = v;
          }
          break;
        case 'COPY': {
          if (ins.json) throw new Error(`COPY in JSON form is not replayed: ${ins.raw}`);
          const sources = ins.args.slice(0, -1);
          const dest = posix.resolve(state.workdir, ins.args.at(-1)!);
          const toDir = ins.args.at(-1)!.endsWith('/') || sources.length > 1;
          for (const src of sources) {
            if (/[*?[]/.test(src)) throw new Error(`COPY wildcards are not replayed: ${ins.raw}`);
            if (ins.flags['from'] !== undefined) {
              const fromRoot = roots.get(ins.flags['from']);
              if (!fromRoot) throw new Error(`COPY --from names no earlier stage: ${ins.raw}`);
              copyInto(inRoot(fromRoot, posix.resolve('/', src)), inRoot(root, dest), toDir, () => false, '');
            } else {
              copyInto(
                join(opts.context, src),
                inRoot(root, dest),
                toDir,
                ignored,
                posix.normalize(src) === '.' ? '' : posix.normalize(src),
              );
            }
          }
          break;
        }
        case 'RUN': {
          if (ins.json) throw new Error(`RUN in JSON form is not replayed: ${ins.raw}`);
          const command = ins.args.join(' ');
          // This runs on the machine itself: it must not empty the npm cache every install here reads.
          if (/npm cache clean/.test(command))
            throw new Error(
              `RUN ${command}: use a cache mount (RUN --mount=type=cache,target=/root/.npm) instead of cleaning the cache`,
            );
          const cwd = inRoot(root, state.workdir);
          if (/^npm ci\b/.test(command) && !/--omit=dev/.test(command) && !command.includes('&&')) {
            symlinkSync(join(opts.context, 'node_modules'), join(cwd, 'node_modules'), 'dir');
            runs.push({ stage: stage.name, command, ran: 'linked' });
            break;
          }
          const ran = await run('sh', ['-c', command], {
            cwd,
            env: { ...opts.env, ...state.env, npm_config_prefer_offline: 'true' },
            timeoutMs: 300_000,
          });
          runs.push({ stage: stage.name, command, ran });
          if (ran.code !== 0)
            throw new Error(
              `RUN ${command} failed (${ran.code}) in stage ${stage.name}:\n${ran.stdout}\n${ran.stderr}`,
            );
          break;
        }
        case 'USER':
          state.user = ins.args[0];
          break;
        case 'ENTRYPOINT':
          state.entrypoint = ins.args;
          break;
        case 'CMD':
          state.cmd = ins.args;
          break;
        case 'HEALTHCHECK':
          state.healthcheck = ins;
          break;
        case 'EXPOSE':
        case 'LABEL':
        case 'ARG':
          break;
        default:
          throw new Error(`instruction not replayed: ${ins.raw}`);
      }
    }
  }
  const final = stages.at(-1)!;
  return {
    stages,
    final,
    root,
    workdir: inRoot(root, state.workdir),
    env: state.env,
    user: state.user,
    entrypoint: state.entrypoint,
    cmd: state.cmd,
    healthcheck: state.healthcheck,
    runs,
  };
}

/** Docker's COPY: a folder's contents go into `dest`; a file goes to `dest` (or into it, when `dest` is a folder). */
function copyInto(src: string, dest: string, destIsDir: boolean, ignored: (rel: string) => boolean, rel: string): void {
  if (!existsSync(src)) throw new Error(`COPY source ${src} does not exist`);
  if (statSync(src).isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const name of readdirSync(src)) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (ignored(childRel)) continue;
      const child = join(src, name);
      if (lstatSync(child).isDirectory()) copyInto(child, join(dest, name), true, ignored, childRel);
      else if (lstatSync(child).isSymbolicLink()) cpSync(child, join(dest, name), { verbatimSymlinks: true });
      else copyFileSync(child, join(dest, name));
    }
    return;
  }
  const target = destIsDir ? join(dest, basename(src)) : dest;
  mkdirSync(destIsDir ? dest : join(target, '..'), { recursive: true });
  copyFileSync(src, target);
}
