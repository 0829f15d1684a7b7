import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { z } from 'zod';
import { readConfigFile, validateConfig, type ConfigSpec, type ValidateOptions } from './config-file.ts';
import { configSchema, layeredSubgraph, type Config } from './schema.ts';

export { ConfigError } from './config-file.ts';

/** The gateway's `tessera.yaml`: its schema, the environment variables that set keys, and the files it names. */
export const gatewayConfigSpec: ConfigSpec<typeof configSchema> = {
  schema: configSchema,
  env: [
    { env: 'PORT', path: ['server', 'port'], parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
    { env: 'HOST', path: ['server', 'host'], parse: (v) => v },
    { env: 'LOG_LEVEL', path: ['log', 'level'], parse: (v) => v },
    { env: 'REDIS_URL', path: ['redis', 'url'], parse: (v) => v },
    // Lets a whole test run (or a deployment) pick the engine without editing each config file.
    { env: 'TESSERA_ENGINE', path: ['engine'], parse: (v) => v },
    // Keeps the registry token out of the config file (the Helm chart sets it from a Secret).
    { env: 'TESSERA_SUPERGRAPH_REGISTRY_TOKEN', path: ['supergraph', 'registry', 'token'], parse: (v) => v },
  ],
  resolveFiles(config, baseDir) {
    if (config.supergraph.file !== undefined && !isAbsolute(config.supergraph.file))
      config.supergraph.file = resolve(baseDir, config.supergraph.file);
    const registry = config.supergraph.registry;
    if (registry && !isAbsolute(registry.cacheFile)) registry.cacheFile = resolve(baseDir, registry.cacheFile);
    const manifests = config.persistedOperations.manifests;
    if (manifests && !isAbsolute(manifests.cacheFile)) manifests.cacheFile = resolve(baseDir, manifests.cacheFile);
    const pemProblems = loadPemFiles(config, baseDir);
    return [...pemProblems, ...(pemProblems.length ? [] : checkTls(config)), ...checkPolicyFiles(config, baseDir)];
  },
};

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  return readConfigFile(file, gatewayConfigSpec, env);
}

/** Validates a config object (from YAML or from code), applies env overrides and freezes it. */
export function parseConfig(raw: unknown, opts: ValidateOptions = {}): Config {
  return validateConfig(raw, gatewayConfigSpec, opts);
}

/**
 * Certificates and keys are parsed as TLS will parse them, and a client certificate is matched
 * against its key: otherwise a bad one stops start-up (server) or fails every request (subgraphs).
 */
function checkTls(config: z.output<typeof configSchema>): string[] {
  const problems: string[] = [];
  const check = (
    path: string,
    tls: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined },
  ) => {
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
  for (const [name, sub] of Object.entries(config.subgraphs))
    if (sub.tls) check(`subgraphs.${name}.tls`, layeredSubgraph(config.subgraphs, name).tls ?? {});
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
      problems.push(
        `policies.authorization.policyModule: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
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
