import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../../harness/stack.ts';

const app = 'https://app.example.com';
const cors = {
  origins: [app, { matching: 'https://pr-[0-9]+\\.preview\\.example\\.com' }],
  credentials: true,
  maxAgeSec: 300,
};
const query = JSON.stringify({ query: '{ topProducts(first: 1) { name } }' });
const data = { data: { topProducts: [{ name: 'Table' }] } };

/** The CORS part of a response's head: every `access-control-*` header, and `vary`. */
function corsHead(res: Response): Record<string, string> {
  return Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));
}

const preflight = (url: string, origin: string, method = 'POST', requestHeaders = 'content-type') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders },
  });

const post = (url: string, origin: string | null, headers: Record<string, string> = {}, body = query) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}), ...headers },
    body,
  });

/** What an allowed origin's answer carries, whatever its status. */
const allowedHead = (origin: string) => ({
  'access-control-allow-origin': origin,
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': 'x-request-id, ratelimit, ratelimit-policy, retry-after',
  vary: 'Origin',
});

describe('server.cors answers browsers as the Fetch standard says', () => {
  let stack: Stack;
  let gateway: string;
  before(async () => {
    stack = await startStack({ config: { server: { cors } } });
    gateway = stack.url;
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('a preflight from an allowed origin: 204 naming that origin, the methods, the asked headers, max-age and Vary', async () => {
    const res = await preflight(gateway, app, 'POST', 'content-type,authorization');
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.deepEqual(corsHead(res), {
      'access-control-allow-origin': app,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': '300',
      vary: 'Origin, Access-Control-Request-Headers',
    });
  });

  it('a preflight asking for a header that is not allowed: only the allowed ones are named, so the browser refuses', async () => {
    const res = await preflight(gateway, app, 'POST', 'content-type, x-internal-debug');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type');
  });

  it('an origin pattern matches the whole origin: a preview origin passes, the same text with a suffix does not', async () => {
    const preview = 'https://pr-42.preview.example.com';
    assert.equal((await preflight(gateway, preview)).headers.get('access-control-allow-origin'), preview);
    for (const origin of [
      'https://pr-42.preview.example.com.evil.test',
      'https://evil.test/https://pr-42.preview.example.com',
      'http://pr-42.preview.example.com',
    ]) {
      const res = await preflight(gateway, origin);
      assert.equal(res.status, 204);
      assert.deepEqual(corsHead(res), { vary: 'Origin, Access-Control-Request-Headers' }, origin);
    }
  });

  it('a preflight from another origin gets no CORS header at all (the browser blocks the call)', async () => {
    const res = await preflight(gateway, 'https://evil.test');
    assert.equal(res.status, 204);
    assert.deepEqual(corsHead(res), { vary: 'Origin, Access-Control-Request-Headers' });
  });

  it('the actual request from an allowed origin: the data, and the headers that let the page read it', async () => {
    const res = await post(gateway, app);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), data);
    assert.deepEqual(corsHead(res), allowedHead(app));
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('a request from another origin, or with none, is served as before but carries no CORS header (only Vary)', async () => {
    for (const origin of ['https://evil.test', null]) {
      const res = await post(gateway, origin);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), data);
      assert.deepEqual(corsHead(res), { vary: 'Origin' });
    }
  });

  it('an OPTIONS that is not a preflight (no Access-Control-Request-Method) is still 405', async () => {
    const res = await fetch(gateway, { method: 'OPTIONS', headers: { origin: app } });
    assert.equal(res.status, 405);
    assert.deepEqual(await res.json(), {
      errors: [
        {
          message: 'OPTIONS is not supported on /graphql; use GET or POST.',
          extensions: { code: 'METHOD_NOT_ALLOWED' },
        },
      ],
    });
    assert.deepEqual(corsHead(res), allowedHead(app));
  });

  it('error answers carry the CORS headers too, so a page can read its 401, 429, 415, 400 and 404', async () => {
    const keys = ['known-key'];
    const limited = await stack.startGateway({
      server: { cors },
      policies: {
        rateLimit: {
          windowMs: 60_000,
          costPerWindow: 1_000,
          requestsPerWindow: 1,
          identifyBy: [{ header: 'x-api-key' }],
          apiKeys: keys.map((k) => ({ sha256: createHash('sha256').update(k).digest('hex'), name: k })),
        },
      },
    });
    const cases: Array<{ name: string; send: () => Promise<Response>; status: number; code: string; vary?: string }> = [
      {
        name: 'unknown API key',
        send: () => post(limited.url, app, { 'x-api-key': 'stolen' }),
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'first request with a key',
        send: () => post(limited.url, app, { 'x-api-key': 'known-key' }),
        status: 200,
        code: '',
      },
      {
        name: 'over the budget',
        send: () => post(limited.url, app, { 'x-api-key': 'known-key' }),
        status: 429,
        code: 'RATE_LIMITED',
      },
      {
        name: 'wrong media type',
        send: () => post(limited.url, app, { 'content-type': 'text/plain' }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'GET without a CSRF header',
        send: () => fetch(`${limited.url}?query=%7B__typename%7D`, { headers: { origin: app } }),
        status: 400,
        code: 'BAD_REQUEST',
        vary: 'Origin, Accept',
      },
      {
        name: 'unknown path',
        send: () => fetch(`${limited.base}/nope`, { headers: { origin: app } }),
        status: 404,
        code: 'NOT_FOUND',
      },
    ];
    for (const c of cases) {
      const res = await c.send();
      const body = (await res.json()) as { errors?: Array<{ extensions: { code: string } }> };
      assert.equal(res.status, c.status, c.name);
      assert.equal(body.errors?.[0]?.extensions.code ?? '', c.code, c.name);
      // GET /graphql also varies by Accept: a browser's navigation there gets the explorer.
      assert.deepEqual(corsHead(res), { ...allowedHead(app), vary: c.vary ?? 'Origin' }, c.name);
    }
    // And the page can read why it was limited: the headers it needs are exposed and present.
    const refused = await post(limited.url, app, { 'x-api-key': 'known-key' });
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(refused.headers.get('ratelimit') ?? '', /^"cost";r=\d+;t=\d+, "requests";r=0;t=\d+$/);
  });

  it('`origins: [*]` without credentials: any origin, `*` in the answer and no Vary (one cached answer fits all)', async () => {
    const open = await stack.startGateway({ server: { cors: { origins: ['*'] } } });
    const pre = await preflight(open.url, 'https://anyone.test');
    assert.deepEqual(corsHead(pre), {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Headers',
    });
    const res = await post(open.url, 'https://anyone.test');
    assert.deepEqual(await res.json(), data);
    assert.deepEqual(corsHead(res), {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-request-id, ratelimit, ratelimit-policy, retry-after',
    });
  });

  it('without server.cors (the default): a preflight is 405 and nothing carries a CORS header', async () => {
    const off = await stack.startGateway();
    const pre = await preflight(off.url, app);
    assert.equal(pre.status, 405);
    assert.deepEqual(await pre.json(), {
      errors: [
        {
          message: 'OPTIONS is not supported on /graphql; use GET or POST.',
          extensions: { code: 'METHOD_NOT_ALLOWED' },
        },
      ],
    });
    assert.deepEqual(corsHead(pre), {});
    const res = await post(off.url, app);
    assert.deepEqual(await res.json(), data);
    assert.deepEqual(corsHead(res), {});
  });
});
