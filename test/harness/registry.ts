import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashToken } from '../../supergraph/registry/server.ts';
import { parseOr } from './http.ts';
import { runCli, type Proc } from './process.ts';

export const tokens = { admin: 'tok-admin-7f3a', reader: 'tok-reader-19c2', checker: 'tok-checker-55d0' } as const;

/** A real `tessera registry` process on a SQLite file in `dir`. */
export async function startRegistry(dir: string, port = 0): Promise<{ proc: Proc; url: string; db: string }> {
  const db = join(dir, 'registry.sqlite');
  const config = join(dir, 'registry.yaml');
  writeFileSync(config, stringify({
    server: { host: '127.0.0.1', port },
    storage: { sqlite: db },
    tokens: [
      { name: 'ci', graph: '*', sha256: hashToken(tokens.admin), permissions: ['read', 'check', 'publish'] },
      { name: 'gateway', graph: 'shop', sha256: hashToken(tokens.reader), permissions: ['read'] },
      { name: 'pr-checks', graph: 'shop', sha256: hashToken(tokens.checker), permissions: ['check'] },
    ],
  }));
  const proc = runCli(['registry', '--config', config]);
  const line = await proc.waitForLog('registry listening');
  return { proc, url: String(line['url']), db };
}

export async function api(url: string, path: string, opts: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(`${url}/v1/graphs/${path}`, {
    method: opts.method ?? (opts.body ? 'POST' : 'GET'),
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.body ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseOr(text, undefined) };
}
