import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config, type ConfigInput } from './schema.ts';

/** Start-up refusal: every problem, each with the key path it concerns. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`CONFIG_INVALID: ${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** The environment overrides we honour; applied before validation so a bad value names its key. */
const envOverrides: ReadonlyArray<{ env: string; path: readonly string[]; parse: (v: string) => unknown }> = [
  { env: 'PORT', path: ['server', 'port'], parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
  { env: 'HOST', path: ['server', 'host'], parse: (v) => v },
  { env: 'LOG_LEVEL', path: ['log', 'level'], parse: (v) => v },
  { env: 'REDIS_URL', path: ['redis', 'url'], parse: (v) => v },
  // Keeps the registry token out of the config file (the Helm chart sets it from a Secret).
  { env: 'TESSERA_SUPERGRAPH_REGISTRY_TOKEN', path: ['supergraph', 'registry', 'token'], parse: (v) => v },
];

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseConfig(raw, { source: file, baseDir: dirname(resolve(file)), env });
}

/** Validates a config object (from YAML or from code), applies env overrides and freezes it. */
export function parseConfig(raw: unknown, opts: { source?: string; baseDir?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const source = opts.source ?? 'config';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(source, ['(root): expected a mapping of keys']);
  }
  const input = structuredClone(raw) as Record<string, unknown>;
  for (const o of envOverrides) {
    const value = opts.env?.[o.env];
    if (value !== undefined && value !== '') setPath(input, o.path, o.parse(value));
  }
  const result = configSchema.safeParse(input as ConfigInput);
  if (!result.success) throw new ConfigError(source, result.error.issues.flatMap(describeIssue));
  const config = result.data;
  const baseDir = opts.baseDir ?? process.cwd();
  if (config.supergraph.file !== undefined && !isAbsolute(config.supergraph.file)) config.supergraph.file = resolve(baseDir, config.supergraph.file);
  const registry = config.supergraph.registry;
  if (registry && !isAbsolute(registry.cacheFile)) registry.cacheFile = resolve(baseDir, registry.cacheFile);
  const pemProblems = loadPemFiles(config, baseDir);
  const fileProblems = [...(pemProblems.length ? [] : checkTls(config)), ...checkPolicyFiles(config, baseDir)];
  if (pemProblems.length || fileProblems.length) throw new ConfigError(source, [...pemProblems, ...fileProblems]);
  return deepFreeze(config) as Config;
}

/**
 * Certificates and keys are parsed as TLS will parse them, and a client certificate is matched
 * against its key: otherwise a bad one stops start-up (server) or fails every request (subgraphs).
 */
function checkTls(config: z.output<typeof configSchema>): string[] {
  const problems: string[] = [];
  const check = (path: string, tls: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined }) => {
    const before = problems.length;
    // OpenSSL skips a CA block it cannot parse without a word; each block is parsed on its own here.
    for (const field of ['ca', 'cert'] as const) {
      const pem = tls[field];
      if (pem === undefined) continue;
      const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (!blocks.length) problems.push(`${path}.${field}: no certificate in it`);
      for (const block of blocks) {
        try {
          new X509Certificate(block);
        } catch (err) {
          problems.push(`${path}.${field}: not a valid certificate (${(err as Error).message})`);
          break;
        }
      }
    }
    if (tls.key !== undefined) {
      try {
        createPrivateKey(tls.key);
      } catch (err) {
        problems.push(`${path}.key: not a valid private key (${(err as Error).message})`);
      }
    }
    if (problems.length > before) return;
    try {
      createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    } catch (err) {
      problems.push(`${path}: the certificate and key do not work together (${(err as Error).message})`);
    }
  };
  // A subgraph's own settings are checked merged with `all`, as its client will use them.
  const all = config.subgraphs['all']?.tls;
  for (const [name, sub] of Object.entries(config.subgraphs)) if (sub.tls) check(`subgraphs.${name}.tls`, { ...all, ...sub.tls });
  if (config.server.tls) check('server.tls', config.server.tls);
  return problems;
}

/** Files policies read at start-up, checked (and made absolute) here so a bad path names its key. */
function checkPolicyFiles(config: z.output<typeof configSchema>, baseDir: string): string[] {
  const problems: string[] = [];
  const at = (file: string) => (isAbsolute(file) ? file : resolve(baseDir, file));
  config.policies.auth?.issuers.forEach((issuer, i) => {
    if (issuer.jwksFile === undefined) return;
    const file = at(issuer.jwksFile);
    const path = `policies.auth.issuers.${i}.jwksFile`;
    try {
      const jwks = JSON.parse(readFileSync(file, 'utf8')) as { keys?: unknown };
      if (!Array.isArray(jwks.keys)) problems.push(`${path}: ${file} is not a JWKS (no "keys" array)`);
      issuer.jwksFile = file;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(`${path}: ${code ? `cannot read ${file} (${code})` : `${file} is not JSON`}`);
    }
  });
  const authorization = config.policies.authorization;
  if (authorization.policyModule !== undefined) {
    const file = at(authorization.policyModule);
    try {
      if (!statSync(file).isFile()) problems.push(`policies.authorization.policyModule: ${file} is not a file`);
      authorization.policyModule = file;
    } catch (err) {
      problems.push(`policies.authorization.policyModule: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return problems;
}

/**
 * TLS values are PEM text or a file path. Files are read once here, so a bad path stops start-up
 * with its key named instead of failing on the first request.
 */
function loadPemFiles(config: z.output<typeof configSchema>, baseDir: string): string[] {
  const problems: string[] = [];
  const read = (owner: Record<string, unknown>, key: string, path: string) => {
    const value = owner[key];
    if (typeof value !== 'string' || value.includes('-----BEGIN')) return;
    const file = isAbsolute(value) ? value : resolve(baseDir, value);
    try {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('-----BEGIN')) problems.push(`${path}: ${file} is not a PEM file`);
      owner[key] = text;
    } catch (err) {
      problems.push(`${path}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  for (const [name, sub] of Object.entries(config.subgraphs)) {
    if (!sub.tls) continue;
    for (const k of ['ca', 'cert', 'key']) read(sub.tls, k, `subgraphs.${name}.tls.${k}`);
  }
  if (config.server.tls) for (const k of ['ca', 'cert', 'key']) read(config.server.tls, k, `server.tls.${k}`);
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${[...at, key].join('.')}: unknown key`);
  }
  // A bad record key: its own check's message says what a key must be, the wrapper's does not.
  if (issue.code === 'invalid_key') return [`${at.join('.')}: not allowed as a name here: ${issue.issues.map((i) => i.message).join('; ')}`];
  return [`${at.length ? at.join('.') : '(root)'}: ${issue.message}`];
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
