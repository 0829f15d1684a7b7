import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's package (`apt-get install chromium`); the tests never download a browser. */
export const chromiumPath = '/usr/bin/chromium';

/** Whether Chromium can run here. CI installs it and sets CI=true, so there a missing binary is a failure. */
export function chromiumAvailable(): boolean {
  const found = existsSync(chromiumPath);
  if (!found && process.env['CI'])
    throw new Error(
      `${chromiumPath} is not installed, but CI must run the browser tests (apt-get install -y chromium)`,
    );
  return found;
}

export const chromiumSkipMessage = `${chromiumPath} is not installed on this machine; install it (apt-get install -y chromium) to run the browser tests`;

export interface Chromium extends AsyncDisposable {
  readonly browser: Browser;
  /** A new tab whose console, errors and network are recorded. */
  open(): Promise<WatchedPage>;
}

export interface WatchedPage {
  readonly page: Page;
  /** `console.error`/`console.warn` lines and uncaught exceptions, as `type: text`. */
  readonly problems: string[];
  /** Every URL the page asked for, in order. */
  readonly requests: string[];
  /** Requests that got no response (refused, blocked, aborted) or an HTTP status ≥ 400. */
  readonly failures: string[];
}

/**
 * Headless Chromium with a fresh profile, and nothing that phones home (updates, sync, field
 * trials), so every request a test sees is one its page made.
 */
export async function launchChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async open() {
      const page = await browser.newPage();
      const watched: WatchedPage = { page, problems: [], requests: [], failures: [] };
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warn') watched.problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (err) => watched.problems.push(`uncaught: ${String(err)}`));
      page.on('request', (r) => void watched.requests.push(r.url()));
      page.on(
        'requestfailed',
        (r) => void watched.failures.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText ?? 'failed'}`),
      );
      page.on('response', (r) => {
        if (r.status() >= 400) watched.failures.push(`${r.request().method()} ${r.url()}: HTTP ${r.status()}`);
      });
      return watched;
    },
    async [Symbol.asyncDispose]() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
