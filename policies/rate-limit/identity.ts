import { createHash } from 'node:crypto';
import { BlockList, isIPv6 } from 'node:net';
import type { RequestPhase } from '../policy.ts';
import type { IdentitySource } from './config.ts';

/** Resolves who a request is billed to, from the configured sources in order. */
export function identityResolver(sources: readonly IdentitySource[], trustedProxies: readonly string[]): (req: RequestPhase) => string {
  const trusted = new BlockList();
  for (const p of trustedProxies) {
    const [addr, bits] = p.split('/');
    const type = isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) trusted.addAddress(addr!, type);
    else trusted.addSubnet(addr!, Number(bits), type);
  }
  const isTrusted = (ip: string) => trustedProxies.length > 0 && trusted.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');

  const clientIp = (req: RequestPhase): string => {
    const peer = normalize(req.remoteAddress);
    const xff = req.headers['x-forwarded-for'];
    if (!xff || !isTrusted(peer)) return peer;
    // Right to left: the first address not one of our proxies is the client; the rest is theirs to forge.
    const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => normalize(s.trim())).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) if (!isTrusted(hops[i]!)) return hops[i]!;
    return hops[0] ?? peer;
  };

  return (req) => {
    for (const s of sources) {
      if (s === 'ip') return `ip:${clientIp(req)}`;
      if ('claim' in s) {
        const v = req.identity.authenticated ? req.identity.claims[s.claim] : undefined;
        if (typeof v === 'string' || typeof v === 'number') return `claim:${s.claim}:${v}`;
      } else {
        const raw = req.headers[s.header.toLowerCase()];
        const v = Array.isArray(raw) ? raw[0] : raw;
        // Keys are secrets: only a digest ends up in the store.
        if (v) return `header:${s.header.toLowerCase()}:${createHash('sha256').update(v).digest('base64url').slice(0, 22)}`;
      }
    }
    return 'anonymous';
  };
}

function normalize(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
