import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { parse, print } from 'graphql';
import type { Logger } from '../observability/log.ts';
import { sendError } from './respond.ts';

/** The README's example query (it touches all four example subgraphs), as the editor's first text. */
export const explorerDefaultQuery = print(
  parse(
    '{ topProducts(first: 2) { name price inStock shippingEstimate reviews(first: 1) { body author { username name } } } }',
  ),
);

/** Every asset lives under this prefix, named by its content hash, so it can be cached for good. */
const assetPrefix = '/graphql/_explorer/';

/**
 * The page runs nothing inline and loads nothing from elsewhere. Styles allow 'unsafe-inline':
 * GraphiQL's dialogs (react-remove-scroll) append a <style> measured at run time, with a nonce
 * only webpack's own runtime could set, so neither a nonce nor a hash can admit it.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  // GraphiQL's fonts and icons are data: URLs inside its CSS.
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Boots GraphiQL once the three bundles have defined React, ReactDOM and GraphiQL. */
const bootScript = `'use strict';
(function () {
  var root = document.getElementById('graphiql');
  var endpoint = new URL(root.getAttribute('data-endpoint'), document.baseURI).href;
  // GraphiQL's fetcher POSTs application/json, a non-simple type: CSRF prevention lets it through.
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: root.getAttribute('data-default-query') })
  );
})();
`;

// No `overflow: hidden` on body (GraphiQL's CDN example has it): its dialogs measure the scrollbar there.
const layoutCss = `html, body { height: 100%; margin: 0; }
#graphiql { height: 100vh; }
`;

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  /** Compressed on first request, then kept. */
  gzipped: Promise<Buffer> | null;
}

export interface Explorer {
  /**
   * Call before routing with the request's path and query string. Answers (and returns `true`)
   * the explorer page for a browser's `GET /graphql` or `GET /` and every `/graphql/_explorer/…`
   * asset; anything else is left to the router (`false`).
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<boolean>;
}

/**
 * GraphiQL served by the gateway itself: graphiql@3's self-contained bundle and React 18's UMD
 * builds, read from node_modules once at start, so the page needs no network but the gateway.
 * (graphiql@4 and later ship only ES modules that expect an import map to a CDN.)
 */
export function createExplorer(enabled: boolean, log: Logger): Explorer | null {
  if (!enabled) return null;
  try {
    return loadExplorer();
  } catch (err) {
    // A dev tool must not keep the gateway from serving: say why, and go on without it.
    log.error(
      { key: 'server.landingPage', err: (err as Error).message },
      "the explorer's files cannot be read (reinstall the dependencies); serving without it",
    );
    return null;
  }
}

function loadExplorer(): Explorer {
  const assets = new Map<string, Asset>();
  const add = (name: string, type: string, body: Buffer) => {
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    const dot = name.indexOf('.');
    const file = `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
    assets.set(file, { body, type, gzipped: null });
    // Relative to the page (at /graphql or /), so a gateway behind a path prefix still finds them.
    return `graphql/_explorer/${file}`;
  };
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  const scripts = [
    add('react.production.min.js', js, readPackageFile('react', 'umd/react.production.min.js')),
    add('react-dom.production.min.js', js, readPackageFile('react-dom', 'umd/react-dom.production.min.js')),
    add('graphiql.min.js', js, withoutSourceMap(readPackageFile('graphiql', 'graphiql.min.js'))),
    add('explorer.js', js, Buffer.from(bootScript)),
  ];
  const styles = [
    add('graphiql.min.css', css, withoutSourceMap(readPackageFile('graphiql', 'graphiql.min.css'))),
    add('explorer.css', css, Buffer.from(layoutCss)),
  ];
  const page = Buffer.from(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera · GraphiQL</title>
<link rel="icon" href="data:,">
${styles.map((href) => `<link rel="stylesheet" href="${href}">`).join('\n')}
</head>
<body>
<div id="graphiql" data-endpoint="graphql" data-default-query="${escapeAttribute(explorerDefaultQuery)}">Loading GraphiQL…</div>
${scripts.map((src) => `<script src="${src}"></script>`).join('\n')}
</body>
</html>
`);

  return {
    async handle(req, res, path, search) {
      const method = req.method;
      if (path.startsWith(assetPrefix)) {
        const asset = assets.get(path.slice(assetPrefix.length));
        if (!asset) {
          sendError(res, 'NOT_FOUND', 'No such explorer asset.', req.headers.accept);
        } else if (method !== 'GET' && method !== 'HEAD') {
          req.resume();
          sendError(
            res,
            'METHOD_NOT_ALLOWED',
            `${method} is not supported on explorer assets; use GET.`,
            req.headers.accept,
            { allow: 'GET, HEAD' },
          );
        } else {
          await sendAsset(req, res, asset);
        }
        return true;
      }
      if ((path !== '/graphql' && path !== '/') || (method !== 'GET' && method !== 'HEAD')) return false;
      // The same URL answers HTML or GraphQL by Accept: a cache must keep both apart.
      res.appendHeader('vary', 'Accept');
      // A browser's navigation lists text/html; fetch(), curl and GraphQL clients send */* or JSON.
      const accept = req.headers.accept;
      const html = quality(accept, 'text/html');
      if (
        html === 0 ||
        html < Math.max(quality(accept, 'application/json'), quality(accept, 'application/graphql-response+json'))
      )
        return false;
      // `GET /graphql?query=…` from a browser is an operation, answered as GraphQL over HTTP.
      if (new URLSearchParams(search).has('query')) return false;
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.length,
        // The asset names change with their content; the page itself is always revalidated.
        'cache-control': 'no-cache',
        'content-security-policy': contentSecurityPolicy,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      });
      res.end(page);
      return true;
    },
  };
}

const gzipAsync = promisify(gzip);

async function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): Promise<void> {
  let body = asset.body;
  const headers: Record<string, string | number> = {
    'content-type': asset.type,
    'cache-control': 'public, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    'cross-origin-resource-policy': 'same-origin',
    vary: 'Accept-Encoding',
  };
  // Below a kilobyte gzip's framing eats what it saves.
  if (asset.body.length >= 1024 && quality(req.headers['accept-encoding'], 'gzip') > 0) {
    body = await (asset.gzipped ??= gzipAsync(asset.body));
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The weight an Accept-style header gives `token` (0 when absent or refused), wildcards ignored. */
function quality(header: string | undefined, token: string): number {
  let best = 0;
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.split(';');
    if (name?.trim().toLowerCase() !== token) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (weight > best) best = weight;
  }
  return best;
}

function readPackageFile(pkg: string, file: string): Buffer {
  const dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  return readFileSync(join(dir, file));
}

/** The maps are not served (they are 6 MB), so the comment pointing at them would only 404 in DevTools. */
function withoutSourceMap(body: Buffer): Buffer {
  const text = body.toString('utf8');
  return Buffer.from(text.replace(/\n\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n'));
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
