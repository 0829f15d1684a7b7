import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashToken } from '../supergraph/registry/server.ts';
import { parseOr } from './http.ts';
import { runCli, type Proc } from './process.ts';

export const tokens = { admin: 'tok-admin-7f3a', reader: 'tok-reader-19c2', checker: 'tok-checker-55d0' } as const;

export interface RegistryOptions {
  /** 0 (default): any free port. Pass the old port to restart a registry on the same database. */
  port?: number;
  /** Files are `<name>.sqlite` and `<name>.yaml` in `dir`: several registries can share a directory. */
  name?: string;
  /** Merged over the generated config, one level deep (`server`, `limits`, `composition`…). */
  config?: Record<string, Record<string, unknown>>;
  env?: Record<string, string>;
}

/** A real `tessera registry` process on a SQLite file in `dir`. */
export async function startRegistry(
  dir: string,
  opts: RegistryOptions = {},
): Promise<{ proc: Proc; url: string; db: string; port: number }> {
  const name = opts.name ?? 'registry';
  const db = join(dir, `${name}.sqlite`);
  const config = join(dir, `${name}.yaml`);
  const base: Record<string, unknown> = {
    server: { host: '127.0.0.1', port: opts.port ?? 0 },
    storage: { sqlite: db },
    tokens: [
      { name: 'ci', graph: '*', sha256: hashToken(tokens.admin), permissions: ['read', 'check', 'publish'] },
      { name: 'gateway', graph: 'shop', sha256: hashToken(tokens.reader), permissions: ['read'] },
      { name: 'pr-checks', graph: 'shop', sha256: hashToken(tokens.checker), permissions: ['check'] },
    ],
  };
  for (const [key, value] of Object.entries(opts.config ?? {}))
    base[key] = { ...(base[key] as object | undefined), ...value };
  writeFileSync(config, stringify(base));
  const proc = runCli(['registry', '--config', config], { env: opts.env });
  const line = await proc.waitForLog('registry listening');
  const url = String(line['url']);
  return { proc, url, db, port: Number(new URL(url).port) };
}

export async function api(
  url: string,
  path: string,
  opts: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(`${url}/v1/graphs/${path}`, {
    method: opts.method ?? (opts.body ? 'POST' : 'GET'),
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseOr(text, undefined) };
}
