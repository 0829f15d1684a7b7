import type { IncomingHttpHeaders } from 'node:http';
import { tesseraError } from '../../gateway/errors/tessera-error.ts';
import type { Policy, PolicyModule } from '../policy.ts';
import { authConfigSchema, type AuthConfig } from './config.ts';
import { JwksUnavailableError } from './jwks.ts';
import { InvalidTokenError, TokenVerifier } from './verify.ts';

/**
 * End-user authentication: verifies the caller's JWT and sets the request's identity. No token →
 * anonymous (or 401 when `required`); a token that fails any check → 401 with the reason.
 */
export const authPolicy: PolicyModule<AuthConfig> = {
  key: 'auth',
  configSchema: authConfigSchema,
  create(config, deps) {
    const verifier = new TokenVerifier(config, deps);
    verifier.warmUp();
    const readToken = tokenReader(config.token);
    const forwarded = config.forwardClaims.map((f) => ({ claim: f.claim, header: f.header.toLowerCase() }));
    const jsonHeader = config.forwardClaimsAsJson?.toLowerCase();
    const outcomes = deps.metrics.counter(
      'tessera_auth_tokens_total',
      'Tokens seen by the auth policy, by outcome: valid, invalid, missing (when required), jwks_unavailable.',
      ['outcome'],
    );

    const policy: Policy = {
      name: 'auth',
      async onRequest(req) {
        const token = readToken(req.headers);
        if (token === undefined) {
          if (config.required) {
            outcomes.inc({ outcome: 'missing' });
            throw tesseraError('UNAUTHENTICATED', 'This gateway requires a bearer token.', {
              headers: { 'www-authenticate': 'Bearer' },
            });
          }
          return;
        }
        try {
          req.identity = await verifier.verify(token);
          outcomes.inc({ outcome: 'valid' });
        } catch (err) {
          if (err instanceof JwksUnavailableError) {
            outcomes.inc({ outcome: 'jwks_unavailable' });
            req.log.warn({ requestId: req.requestId, err: err.message }, 'token not verified: JWKS unavailable');
            throw tesseraError(
              'AUTH_UNAVAILABLE',
              "The token cannot be verified right now: the identity provider's keys are unavailable.",
              { headers: { 'retry-after': '5' } },
            );
          }
          if (!(err instanceof InvalidTokenError)) throw err;
          outcomes.inc({ outcome: 'invalid' });
          req.log.info({ requestId: req.requestId, reason: err.message }, 'invalid token refused');
          throw tesseraError('UNAUTHENTICATED', `Invalid token: ${err.message}.`, {
            headers: {
              'www-authenticate': `Bearer error="invalid_token", error_description="${err.message.replaceAll('"', "'")}"`,
            },
          });
        }
      },
    };
    if (forwarded.length || jsonHeader) {
      policy.wrapSubgraphFetch = (next) => (call) => {
        // Fetches outside a client request (health checks) carry no identity and no client headers.
        if (!call.context) return next(call);
        const outgoingHeaders = call.headers;
        // Whatever the client sent under these names is dropped: only verified claims travel.
        for (const f of forwarded) delete outgoingHeaders[f.header];
        if (jsonHeader) delete outgoingHeaders[jsonHeader];
        const { claims, authenticated } = call.context.identity;
        if (authenticated) {
          for (const f of forwarded) {
            const v = claims[f.claim];
            if (v !== undefined && v !== null)
              outgoingHeaders[f.header] = typeof v === 'string' ? v : JSON.stringify(v);
          }
          if (jsonHeader) outgoingHeaders[jsonHeader] = JSON.stringify(claims);
        }
        return next(call);
      };
    }
    return policy;
  },
};

function tokenReader(source: AuthConfig['token']): (headers: IncomingHttpHeaders) => string | undefined {
  if ('cookie' in source) {
    const prefix = `${source.cookie}=`;
    return (headers) => {
      const cookie = headers.cookie;
      if (!cookie) return undefined;
      for (const part of cookie.split(';')) {
        const p = part.trim();
        if (p.startsWith(prefix)) return decodeURIComponent(p.slice(prefix.length));
      }
      return undefined;
    };
  }
  const name = source.header.toLowerCase();
  const scheme = source.scheme.toLowerCase();
  return (headers) => {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined) return undefined;
    if (!scheme) return value.trim();
    const space = value.indexOf(' ');
    // Another scheme (e.g. Basic for an API key) is not ours to judge: the caller stays anonymous.
    if (space === -1) return value.toLowerCase() === scheme ? '' : undefined;
    if (value.slice(0, space).toLowerCase() !== scheme) return undefined;
    return value.slice(space + 1).trim();
  };
}
