import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** The demo issuer `npm start` trusts (tessera.yaml): a key pair made on first start, kept in .tessera/. */
export const demoIssuer = {
  issuer: 'https://demo.tessera.local',
  audience: 'tessera-demo',
  kid: 'tessera-demo-1',
  alg: 'ES256',
} as const;

/** Creates the demo key pair once: the private JWK for `tessera token`, the public JWKS for the gateway. */
export async function ensureDemoKeys(privateFile: string, jwksFile: string): Promise<void> {
  if (existsSync(privateFile) && existsSync(jwksFile)) return;
  const { privateKey, publicKey } = await generateKeyPair(demoIssuer.alg, { extractable: true });
  const meta = { kid: demoIssuer.kid, alg: demoIssuer.alg, use: 'sig' };
  mkdirSync(dirname(privateFile), { recursive: true });
  writeFileSync(privateFile, JSON.stringify({ ...(await exportJWK(privateKey)), ...meta }), { mode: 0o600 });
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), ...meta }] }, null, 2));
}

/** `tessera token`: signs a demo token with the key `npm start` created. */
export async function mintDemoToken(
  privateFile: string,
  opts: { sub: string; scope: string; claims: Record<string, string>; ttlSec: number },
): Promise<string> {
  if (!existsSync(privateFile))
    throw new Error(`${privateFile} does not exist: run \`npm start\` once to create the demo issuer's keys`);
  const jwk = JSON.parse(readFileSync(privateFile, 'utf8')) as JWK;
  const key = await importJWK(jwk, demoIssuer.alg);
  return new SignJWT({ ...opts.claims, ...(opts.scope ? { scope: opts.scope } : {}) })
    .setProtectedHeader({ alg: demoIssuer.alg, kid: demoIssuer.kid, typ: 'JWT' })
    .setIssuer(demoIssuer.issuer)
    .setAudience(demoIssuer.audience)
    .setSubject(opts.sub)
    .setIssuedAt()
    .setExpirationTime(`${opts.ttlSec}s`)
    .sign(key);
}
