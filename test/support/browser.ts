import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page, Request, Route } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (no browser download). Each test gets its own context,
 * i.e. its own cookie jar. Behalf's local CA is not in Chromium's store, so certificate errors are
 * ignored for these loopback-only tests; everything else (cookies' __Host- rules, CSP, SameSite)
 * behaves as in a real browser because it is one.
 */
export const CHROMIUM_PATH = process.env.BEHALF_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = new URL('../../test-output/screenshots/', import.meta.url).pathname;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true });
}

/** Saves a full-page screenshot under test-output/screenshots/ (git-ignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Fills and submits Behalf's sign-in page (the page must be showing it). */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Email or username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([
    page.waitForEvent('framenavigated'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/** Presses Accept (optionally "on behalf of your organization") on the consent page. */
export async function acceptConsent(page: Page, options: { organization?: boolean } = {}): Promise<void> {
  if (options.organization) await page.getByLabel('Consent on behalf of your organization').check();
  await Promise.all([
    page.waitForEvent('framenavigated'),
    page.getByRole('button', { name: 'Accept' }).click(),
  ]);
}

/**
 * Navigates to `url` and follows Behalf's pages until the browser is sent to `redirectPrefix`, whose
 * request is intercepted (no server needs to listen there) and returned as a URL.
 */
export async function captureRedirect(
  page: Page,
  redirectPrefix: string,
  drive: () => Promise<void>,
): Promise<URL> {
  let captured: URL | undefined;
  const matcher = (url: URL) => url.toString().startsWith(redirectPrefix);
  const handler = async (route: Route) => {
    captured = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'captured' });
  };
  // A redirect that ends a page.goto is not always offered to route handlers, so requests are watched too;
  // the navigation may then fail (nothing resolves client.example), which is expected.
  const onRequest = (request: Request) => {
    if (!captured && request.url().startsWith(redirectPrefix)) captured = new URL(request.url());
  };
  page.on('request', onRequest);
  await page.route(matcher, handler);
  try {
    await drive().catch((error: unknown) => {
      if (!captured) throw error;
    });
    const deadline = Date.now() + 10_000;
    while (!captured && Date.now() < deadline) await page.waitForTimeout(50);
  } finally {
    // One interception per call: a later call must not find this handler in the way.
    await page.unroute(matcher, handler);
    page.off('request', onRequest);
  }
  if (!captured) throw new Error(`the browser never reached ${redirectPrefix}; it is at ${page.url()}`);
  return captured;
}
