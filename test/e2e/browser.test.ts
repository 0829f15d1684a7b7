import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, print } from 'graphql';
import { chromiumAvailable, chromiumSkipMessage, launchChromium, type Chromium } from '../../harness/browser.ts';
import { gql } from '../../harness/http.ts';
import { repoRoot } from '../../harness/process.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const hasChromium = chromiumAvailable();

/** The README's example: the query its curl line sends and the JSON it shows as the answer. */
function readmeExample(): { query: string; answer: unknown } {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('The example query'));
  const curl = /```sh\n[\s\S]*?-d '([^']+)'\n```/.exec(section);
  const json = /```json\n(.+)\n```/.exec(section);
  assert.ok(curl && json, 'the README shows the example query and its answer');
  return { query: (JSON.parse(curl[1]!) as { query: string }).query, answer: JSON.parse(json[1]!) };
}

// The callbacks passed to page.$eval and waitForFunction run in the page; the project's types have
// no DOM (Node code), so they reach it through `any`.

/**
 * Set TESSERA_SCREENSHOT_DIR to keep the screenshots (to look at the page); otherwise they are
 * taken, checked to be non-trivial PNGs, and dropped.
 */
async function screenshot(page: import('puppeteer-core').Page, name: string): Promise<void> {
  const dir = process.env['TESSERA_SCREENSHOT_DIR'];
  if (dir) mkdirSync(dir, { recursive: true });
  const png = await page.screenshot({
    type: 'png',
    fullPage: true,
    ...(dir ? { path: join(dir, `${name}.png`) } : {}),
  });
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
}

describe('in a real browser', { skip: hasChromium ? false : chromiumSkipMessage }, () => {
  let stack: Stack;
  let chromium: Chromium;
  before(async () => {
    [stack, chromium] = await Promise.all([startStack(), launchChromium()]);
  });
  after(async () => {
    await chromium?.[Symbol.asyncDispose]();
    await stack?.[Symbol.asyncDispose]();
  });

  it('GET /graphql is GraphiQL: it loads from the gateway alone, runs the README example and shows the exact answer', async () => {
    const { query, answer } = readmeExample();
    const { page, problems, requests, failures } = await chromium.open();
    await page.setViewport({ width: 1280, height: 800 });
    const navigation = await page.goto(stack.url, { waitUntil: 'networkidle0' });
    assert.equal(navigation?.status(), 200);
    assert.equal(await page.title(), 'Tessera · GraphiQL');

    const editor = '.graphiql-query-editor .CodeMirror';
    const response = '.graphiql-response .CodeMirror';
    await page.waitForSelector(editor, { visible: true });
    // The editor opens on the README's example, formatted.
    assert.equal(await page.$eval(editor, (el) => (el as any).CodeMirror.getValue()), print(parse(query)));

    // The schema came through the gateway's introspection.
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('.graphiql-doc-explorer-root-type');
    assert.match(
      await page.$eval('.graphiql-doc-explorer', (el) => (el as any).innerText),
      /Root Types\nquery: Query\nmutation: Mutation\n/,
    );
    // A dialog injects a <style> at run time: the page's Content-Security-Policy must let it.
    await page.click('[aria-label="Open settings dialog"]');
    await page.waitForSelector('.graphiql-dialog', { visible: true });
    await page.keyboard.press('Escape');
    await page.waitForSelector('.graphiql-dialog', { hidden: true });

    await page.$eval(editor, (el, text) => (el as any).CodeMirror.setValue(text), query);
    await page.click('button[aria-label^="Prettify"]');
    assert.equal(await page.$eval(editor, (el) => (el as any).CodeMirror.getValue()), print(parse(query)));
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.postData()?.includes('topProducts') === true);
    await page.click('.graphiql-execute-button');
    const operation = await sent;
    // A non-simple content type: CSRF prevention lets it through without any extra header.
    assert.equal(operation.headers()['content-type'], 'application/json');
    await page.waitForFunction(
      (sel) => ((globalThis as any).document.querySelector(sel)?.CodeMirror.getValue() ?? '') !== '',
      {},
      response,
    );

    const shown = JSON.parse(await page.$eval(response, (el) => (el as any).CodeMirror.getValue()));
    const direct = await gql(stack.url, { query });
    assert.equal(direct.status, 200);
    assert.deepEqual(shown, direct.body);
    assert.deepEqual(shown, answer, 'the README shows what the gateway answers');
    // Rendered, not only held by the editor.
    const visible = await page.$eval('.graphiql-response', (el) => (el as any).innerText);
    assert.match(visible, /"name": "Ada Lovelace"/);
    assert.ok(
      await page.$eval('.graphiql-container', (el) => (globalThis as any).getComputedStyle(el).display === 'flex'),
      "GraphiQL's stylesheet applies",
    );

    await screenshot(page, 'explorer');
    assert.deepEqual(problems, []);
    assert.deepEqual(failures, []);
    const base = new URL(stack.url).origin;
    assert.deepEqual(
      requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith('data:')),
      [],
      'nothing is fetched from anywhere but the gateway',
    );
    // The page, its six assets, the schema introspection and the operation.
    assert.deepEqual(
      requests
        .filter((u) => u.startsWith(`${base}/`))
        .map((u) => u.slice(base.length).replace(/\.[0-9a-f]{16}\./, '.<hash>.'))
        .sort(),
      [
        '/graphql',
        '/graphql',
        '/graphql',
        '/graphql/_explorer/explorer.<hash>.css',
        '/graphql/_explorer/explorer.<hash>.js',
        '/graphql/_explorer/graphiql.<hash>.min.css',
        '/graphql/_explorer/graphiql.<hash>.min.js',
        '/graphql/_explorer/react-dom.<hash>.production.min.js',
        '/graphql/_explorer/react.<hash>.production.min.js',
      ],
    );
    await page.close();
  });

  describe('a page on another origin calls the gateway with fetch', () => {
    let pageServer: Server;
    let pageOrigin: string;
    before(async () => {
      // A second loopback origin (another port) serving an empty page the test scripts.
      pageServer = createServer((_req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>another origin</title>'),
      );
      await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
      pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    });
    after(() => {
      // Chromium keeps its connections open.
      pageServer.closeAllConnections();
      return new Promise<void>((r) => pageServer.close(() => r()));
    });

    const query = '{ topProducts(first: 1) { name } }';
    const callFrom = async (gatewayUrl: string) => {
      const { page, problems } = await chromium.open();
      await page.goto(`${pageOrigin}/app`);
      const result = await page.evaluate(
        async (url, q) => {
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query: q }),
            });
            return { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() };
          } catch (err) {
            return { error: String(err) };
          }
        },
        gatewayUrl,
        query,
      );
      await page.close();
      return { result, problems };
    };

    it('with the page origin in server.cors.origins: the page reads the data and x-request-id', async () => {
      const g = await stack.startGateway({ server: { cors: { origins: [pageOrigin] } }, log: { requests: true } });
      const { result, problems } = await callFrom(g.url);
      assert.equal(result.status, 200);
      assert.deepEqual(result.body, { data: { topProducts: [{ name: 'Table' }] } });
      assert.match(String(result.requestId), /^[0-9a-f-]{36}$/);
      assert.deepEqual(problems, []);
      // The browser asked first (content-type: application/json is not a simple request), then sent it.
      const seen = await waitForRequests(g.proc, 2);
      assert.deepEqual(seen, [
        { method: 'OPTIONS', status: 204 },
        { method: 'POST', status: 200 },
      ]);
      assert.equal(g.proc.logs().find((l) => l['method'] === 'POST')?.['requestId'], result.requestId);
    });

    it('with CORS off (the default): the browser blocks it, and the operation is never sent', async () => {
      const g = await stack.startGateway({ log: { requests: true } });
      const { result, problems } = await callFrom(g.url);
      assert.deepEqual(result, { error: 'TypeError: Failed to fetch' });
      assert.ok(
        problems.some((p) => p.includes('has been blocked by CORS policy')),
        problems.join('\n'),
      );
      assert.deepEqual(await waitForRequests(g.proc, 1), [{ method: 'OPTIONS', status: 405 }]);
    });
  });
});

/** The gateway's `request completed` lines, once there are `n` of them. */
async function waitForRequests(
  proc: Stack['gateway'],
  n: number,
): Promise<Array<{ method: unknown; status: unknown }>> {
  await proc.waitForLog(
    (l) => proc.logs().filter((x) => x['msg'] === 'request completed').length >= n && l['msg'] === 'request completed',
  );
  return proc
    .logs()
    .filter((l) => l['msg'] === 'request completed')
    .map((l) => ({ method: l['method'], status: l['status'] }));
}
