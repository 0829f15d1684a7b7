import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export async function makeKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    publicPem: await exportSPKI(publicKey),
  };
}

/**
 * A real JWKS endpoint on loopback: serves whatever keys the test sets, counts fetches, and can
 * be stopped and started again on the same port (an IdP outage).
 */
export class JwksServer {
  keys: SigningKey[] = [];
  fetches = 0;
  port = 0;
  /** While set, requests wait for it and are then answered with the keys of that moment (a slow IdP). */
  gate: Promise<void> | null = null;
  private server: Server | null = null;

  get url(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  async start(port = this.port): Promise<this> {
    // node:http ignores a listener's promise: a rejected gate answers 500, not an unhandled rejection.
    const server = createServer((req, res) => {
      this.answer(req, res).catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    if (this.gate) await this.gate;
    this.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

export const ISSUER = 'https://idp.test.local';
export const AUDIENCE = 'tessera-tests';

/** Signs a token; `claims` overrides the defaults (set a claim to undefined to drop it). */
export async function sign(
  key: SigningKey,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
  opts: { crit?: Record<string, boolean> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: '1', iat: now, exp: now + 600, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey, opts.crit ? { crit: opts.crit } : undefined);
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** The classic algorithm-confusion token: HS256, with the issuer's RSA public key (PEM) as the HMAC secret. */
export function hs256WithPublicKey(key: SigningKey, claims: JWTPayload): string {
  const head = b64url({ alg: 'HS256', typ: 'JWT', kid: key.kid });
  const body = b64url(claims);
  const sig = createHmac('sha256', key.publicPem).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
