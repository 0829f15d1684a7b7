import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { explorerDefaultQuery } from '../../gateway/http/explorer.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

/** What Chromium sends when a person opens the URL. */
const navigation = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';

const csp =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Apollo's CSRF prevention answer to a GET without a non-simple header: the normal GraphQL-over-HTTP answer. */
const csrfRefusal = {
  errors: [
    {
      message:
        "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value for one of the following headers: x-apollo-operation-name, apollo-require-preflight\n",
      extensions: { code: 'BAD_REQUEST' },
    },
  ],
};

const get = (url: string, accept: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { accept, ...headers } });

function packageFile(pkg: string, file: string): Buffer {
  return readFileSync(join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), file));
}

describe('the explorer page and its assets', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('a browser navigation to /graphql or / gets the page: no inline script, strict CSP, never framed, revalidated', async () => {
    for (const url of [stack.url, `${stack.base}/`]) {
      const res = await get(url, navigation);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('content-security-policy'), csp);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('vary'), 'Accept');
      const html = await res.text();
      // Every script is a file from the gateway; none is inline (script-src 'self' would refuse it).
      assert.deepEqual(
        [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!.replace(/\.[0-9a-f]{16}\./, '.<hash>.')),
        [
          ' src="graphql/_explorer/react.<hash>.production.min.js"',
          ' src="graphql/_explorer/react-dom.<hash>.production.min.js"',
          ' src="graphql/_explorer/graphiql.<hash>.min.js"',
          ' src="graphql/_explorer/explorer.<hash>.js"',
        ],
      );
      assert.ok(html.includes(`data-default-query="${explorerDefaultQuery.replace(/"/g, '&quot;')}"`));
    }
  });

  it('API clients on GET /graphql get GraphQL over HTTP, as before: */*, JSON first, or a query in the URL', async () => {
    for (const accept of ['*/*', 'application/json', 'application/graphql-response+json, text/html;q=0.5']) {
      const res = await get(stack.url, accept);
      assert.equal(res.status, 400, accept);
      assert.deepEqual(await res.json(), csrfRefusal, accept);
    }
    const withQuery = await get(
      `${stack.url}?query=${encodeURIComponent('{ topProducts(first: 1) { name } }')}`,
      navigation,
      { 'apollo-require-preflight': '1' },
    );
    assert.equal(withQuery.status, 200);
    assert.deepEqual(await withQuery.json(), { data: { topProducts: [{ name: 'Table' }] } });
    const root = await get(`${stack.base}/`, 'application/json');
    assert.equal(root.status, 404);
  });

  it("assets: the packages' own files, named by content hash, cached for a year, gzipped on request, GET and HEAD only", async () => {
    const html = await (await get(stack.url, navigation)).text();
    const paths = [...html.matchAll(/(?:src|href)="(graphql\/_explorer\/[^"]+)"/g)].map((m) => `/${m[1]}`);
    assert.equal(paths.length, 6);
    const file = (name: string, ext = '.js') => paths.find((p) => p.includes(`/${name}.`) && p.endsWith(ext))!;
    const expected: Record<string, Buffer> = {
      [file('react')]: packageFile('react', 'umd/react.production.min.js'),
      [file('react-dom')]: packageFile('react-dom', 'umd/react-dom.production.min.js'),
    };
    for (const path of paths) {
      const res = await fetch(`${stack.base}${path}`, { headers: { 'accept-encoding': 'identity' } });
      assert.equal(res.status, 200, path);
      assert.equal(
        res.headers.get('content-type'),
        path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      );
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('content-encoding'), null);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(Number(res.headers.get('content-length')), body.length);
      if (expected[path]) assert.ok(body.equals(expected[path]), `${path} is the package's file`);
      // The source maps are not served, so nothing may point at them.
      assert.doesNotMatch(body.subarray(-200).toString(), /sourceMappingURL/, path);

      const zipped = await fetch(`${stack.base}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(zipped.headers.get('vary'), 'Accept-Encoding');
      // The boot script and the layout CSS are too small to gain anything.
      const small = body.length < 1024;
      assert.equal(zipped.headers.get('content-encoding'), small ? null : 'gzip', path);
      if (!small) assert.ok(Number(zipped.headers.get('content-length')) < body.length, path);
      assert.ok(Buffer.from(await zipped.arrayBuffer()).equals(body), `${path} decompresses to the same bytes`);
    }
    const graphiql = await fetch(`${stack.base}${file('graphiql')}`, {
      method: 'HEAD',
      headers: { 'accept-encoding': 'identity' },
    });
    assert.equal(graphiql.status, 200);
    assert.equal(await graphiql.text(), '');
    assert.ok(Number(graphiql.headers.get('content-length')) > 1_000_000);

    const unknown = await fetch(`${stack.base}/graphql/_explorer/graphiql.0000000000000000.min.js`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), {
      errors: [{ message: 'No such explorer asset.', extensions: { code: 'NOT_FOUND' } }],
    });
    const posted = await fetch(`${stack.base}${file('graphiql')}`, { method: 'POST', body: 'x' });
    assert.equal(posted.status, 405);
    assert.equal(posted.headers.get('allow'), 'GET, HEAD');
  });

  for (const { name, config, env } of [
    { name: 'server.landingPage: false', config: { server: { landingPage: false } }, env: {} },
    { name: 'NODE_ENV=production', config: {}, env: { NODE_ENV: 'production' } },
  ]) {
    it(`${name}: no HTML anywhere; a browser on GET /graphql gets the GraphQL-over-HTTP answer`, async () => {
      const html = await (await get(stack.url, navigation)).text();
      const asset = /src="(graphql\/_explorer\/[^"]+)"/.exec(html)![1]!;
      const g = await stack.startGateway(config, env);
      const res = await get(g.url, navigation);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(res.headers.get('vary'), null);
      assert.deepEqual(await res.json(), csrfRefusal);
      assert.equal((await get(`${g.base}/`, navigation)).status, 404);
      const gone = await get(`${g.base}/${asset}`, '*/*');
      assert.equal(gone.status, 404);
      assert.deepEqual(await gone.json(), {
        errors: [
          { message: `No endpoint at /${asset}. GraphQL is served at /graphql.`, extensions: { code: 'NOT_FOUND' } },
        ],
      });
    });
  }

  it('NODE_ENV=production with server.landingPage: true serves the page (the key decides)', async () => {
    const g = await stack.startGateway({ server: { landingPage: true } }, { NODE_ENV: 'production' });
    const res = await get(g.url, navigation);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  });
});
