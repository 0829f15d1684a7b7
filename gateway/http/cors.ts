import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.ts';

export type CorsConfig = NonNullable<Config['server']['cors']>;

/** The methods GraphQL over HTTP uses; a preflight for any other is answered without them, so the browser refuses. */
const methods = 'GET, POST';

/**
 * An origin pattern is matched against the whole `Origin` value: an unanchored
 * `https://app\.example\.com` would otherwise also admit `https://app.example.com.evil.test`.
 */
export function compileOriginPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Origins longer than this are never allowed, so no pattern runs on an unbounded string. */
const maxOriginLength = 2048;

export interface Cors {
  /**
   * Call before routing, for every request. A preflight (`OPTIONS` with `Origin` and
   * `Access-Control-Request-Method`) is answered here and `true` returned; any other request gets
   * its CORS headers set on `res` (so every answer carries them, errors included) and `false`.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * CORS as the Fetch standard describes it (fetch.spec.whatwg.org, "CORS protocol"). An origin that
 * is not allowed gets no `Access-Control-Allow-*` header at all: the browser then refuses to hand
 * the response to the page, which is the whole enforcement (the request itself is served as for
 * any other client; CSRF prevention, not CORS, is what keeps simple cross-site requests out).
 */
export function createCors(config: CorsConfig | undefined): Cors | null {
  if (!config) return null;
  const anyOrigin = config.origins.includes('*');
  const exact = new Set(config.origins.filter((o): o is string => typeof o === 'string'));
  const patterns = config.origins.flatMap((o) => (typeof o === 'string' ? [] : [compileOriginPattern(o.matching)]));
  const anyHeader = config.allowedHeaders.includes('*');
  const allowedHeaders = new Set(config.allowedHeaders.map((h) => h.toLowerCase()));
  const exposed = config.exposedHeaders.join(', ');
  const allowed = (origin: string) =>
    anyOrigin || exact.has(origin) || (origin.length <= maxOriginLength && patterns.some((p) => p.test(origin)));

  /** `*` when any origin may read without credentials (a cache may then share one answer); else the origin itself. */
  const allowOrigin = (res: ServerResponse, origin: string) => {
    res.setHeader('access-control-allow-origin', anyOrigin ? '*' : origin);
    // The config refuses `*` with credentials: a credentialed response must name its origin.
    if (config.credentials) res.setHeader('access-control-allow-credentials', 'true');
  };

  return {
    handle(req, res) {
      const origin = req.headers.origin;
      const requestedMethod = req.headers['access-control-request-method'];
      if (req.method === 'OPTIONS' && origin !== undefined && requestedMethod !== undefined) {
        req.resume();
        res.setHeader('vary', 'Origin, Access-Control-Request-Headers');
        if (allowed(origin)) {
          allowOrigin(res, origin);
          res.setHeader('access-control-allow-methods', methods);
          // Echo what was asked and is allowed: a header left out names itself in the browser's console error.
          const requested = (req.headers['access-control-request-headers'] ?? '')
            .split(',')
            .map((h) => h.trim().toLowerCase())
            .filter((h) => h !== '' && (anyHeader || allowedHeaders.has(h)));
          if (requested.length) res.setHeader('access-control-allow-headers', requested.join(', '));
          res.setHeader('access-control-max-age', String(config.maxAgeSec));
        }
        res.writeHead(204).end();
        return true;
      }
      // With `*` the answer is the same for every origin; otherwise a cache must key it by Origin.
      if (!anyOrigin) res.setHeader('vary', 'Origin');
      if (origin !== undefined && allowed(origin)) {
        allowOrigin(res, origin);
        if (exposed) res.setHeader('access-control-expose-headers', exposed);
      }
      return false;
    },
  };
}
