import { createHash } from 'node:crypto';
import { BlockList, isIP, SocketAddress } from 'node:net';
import type { RequestScope } from '../policy.ts';
import type { ApiKey, IdentitySource } from './config.ts';

/** Who a request is billed to: `key` names the budget, `apiKey` is set when a verified API key decided it. */
export interface BilledIdentity {
  readonly key: string;
  readonly apiKey: ApiKey | null;
}

/** A presented API key that is not in `apiKeys`. The message names the header, never the key. */
export class UnknownApiKeyError extends Error {}

export interface IdentityOptions {
  readonly sources: readonly IdentitySource[];
  readonly trustedProxies: readonly string[];
  readonly ipv6PrefixLength: number;
  /** The accepted keys; undefined when none are configured (header sources then bill by IP). */
  readonly apiKeys: readonly ApiKey[] | undefined;
}

/**
 * Resolves who a request is billed to, from the configured sources in order. Only verified facts
 * make an identity: a claim of a verified token, a configured API key, or the client address. A
 * header nobody verified would hand every new value a fresh budget, so without `apiKeys` a header
 * source bills the client IP instead.
 */
export function identityResolver(opts: IdentityOptions): {
  resolve(req: RequestScope): BilledIdentity;
  checkApiKey(req: RequestScope): void;
} {
  const trusted = new BlockList();
  for (const p of opts.trustedProxies) {
    const [addr, bits] = p.split('/');
    const type = isIP(addr!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) trusted.addAddress(addr!, type);
    else trusted.addSubnet(addr!, Number(bits), type);
  }
  const isTrusted = (a: SocketAddress) => opts.trustedProxies.length > 0 && trusted.check(a.address, a.family);

  const clientAddress = (req: RequestScope): SocketAddress | undefined => {
    const peer = parseAddress(req.remoteAddress);
    const xff = req.headers['x-forwarded-for'];
    if (!xff || !peer || !isTrusted(peer)) return peer;
    // Right to left: the first address not one of our proxies is the client; the rest is theirs to
    // forge. A hop that is not an address is where the chain stops being ours to believe.
    const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',');
    let last = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseAddress(hops[i]!);
      if (!hop) return last;
      if (!isTrusted(hop)) return hop;
      last = hop;
    }
    return last;
  };
  const ipIdentity = (req: RequestScope): BilledIdentity => {
    const a = clientAddress(req);
    return { key: `ip:${a ? addressKey(a, opts.ipv6PrefixLength) : 'unknown'}`, apiKey: null };
  };

  const keys = opts.apiKeys ? new Map(opts.apiKeys.map((k) => [k.sha256, k])) : null;
  const headerValue = (req: RequestScope, header: string) => {
    const raw = req.headers[header.toLowerCase()];
    return Array.isArray(raw) ? raw[0] : raw;
  };
  const lookUp = (req: RequestScope, header: string): ApiKey | null => {
    const v = headerValue(req, header);
    if (!v) return null;
    const key = keys!.get(createHash('sha256').update(v).digest('hex'));
    if (!key) throw new UnknownApiKeyError(`The API key in ${header.toLowerCase()} is not valid.`);
    return key;
  };
  const headerSources = opts.sources.filter((s): s is { header: string } => typeof s === 'object' && 'header' in s);

  return {
    /** Refuses an unknown API key before any other work; a no-op when no keys are configured. */
    checkApiKey(req) {
      if (keys) for (const s of headerSources) lookUp(req, s.header);
    },
    resolve(req) {
      for (const s of opts.sources) {
        if (s === 'ip') return ipIdentity(req);
        if ('claim' in s) {
          const v = req.identity.authenticated ? req.identity.claims[s.claim] : undefined;
          if (typeof v === 'string' || typeof v === 'number') return { key: `claim:${s.claim}:${v}`, apiKey: null };
        } else if (keys) {
          const key = lookUp(req, s.header);
          if (key) return { key: `api-key:${key.name}`, apiKey: key };
        } else if (headerValue(req, s.header)) {
          return ipIdentity(req);
        }
      }
      return { key: 'anonymous', apiKey: null };
    },
  };
}

/** An address as peers and proxies write it (`1.2.3.4`, `1.2.3.4:5678`, `[::1]:1234`, `::ffff:1.2.3.4`), without the port; undefined if it is none. */
export function parseAddress(raw: string): SocketAddress | undefined {
  const s = raw.trim();
  const family = isIP(s);
  if (family === 0) return SocketAddress.parse(s);
  try {
    return new SocketAddress({ address: s, family: family === 6 ? 'ipv6' : 'ipv4' });
  } catch {
    return undefined;
  }
}

const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

/**
 * The budget key of a client address: an IPv4 address as is (also when written IPv4-mapped), an
 * IPv6 address as its network of `prefixLength` bits (`2001:db8:1:2::/64`), since one host can
 * rotate through every address of its prefix.
 */
export function addressKey(a: SocketAddress, prefixLength: number): string {
  if (a.family === 'ipv4') return a.address;
  const words = ipv6Words(a.address);
  if (ipv4Mapped.check(a.address, 'ipv6'))
    return `${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`;
  const masked = words.map((w, i) => {
    const keep = Math.min(16, Math.max(0, prefixLength - i * 16));
    return keep === 0 ? 0 : w & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${new SocketAddress({ address: masked.map((w) => w.toString(16)).join(':'), family: 'ipv6' }).address}/${prefixLength}`;
}

/** The eight 16-bit words of a valid IPv6 address (the WHATWG serializer writes it in hex, `::` at most once). */
function ipv6Words(address: string): number[] {
  const hex = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head, tail] = hex.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w, 16));
}
