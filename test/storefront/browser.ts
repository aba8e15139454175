import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { vi } from 'vitest';
import type { CapturedClick } from '@clickthread/core/storefront';
import type { FakeStorefronts } from './fake-storefronts.ts';

/** One headless Chromium per test file; every *.test host name resolves to loopback. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP *.test 127.0.0.1',
    ],
  });
}

export interface Session {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors of every page of the session: the script must never add one. */
  readonly errors: string[];
}

/** A fresh shopper: its own cookies and storage. */
export async function openSession(browser: Browser): Promise<Session> {
  const context = await browser.newContext();
  const errors: string[] = [];
  context.on('weberror', (e) => errors.push(e.error().message));
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Closes the sessions; fails the test if any page saw an uncaught error (the script must never throw). */
export async function closeSessions(sessions: readonly Session[]): Promise<void> {
  const errors = sessions.flatMap((s) => s.errors);
  await Promise.all(sessions.map((s) => s.context.close()));
  if (errors.length > 0) throw new Error(`uncaught errors in the page:\n${errors.join('\n')}`);
}

export const storageKey = '_clickthread';

/** The click as the script stored it, from the cookie and from localStorage. */
export async function storedClick(session: Session, origin: string): Promise<{ cookie?: CapturedClick; local?: CapturedClick; cookieDomain?: string }> {
  const cookie = (await session.context.cookies(origin)).find((c) => c.name === storageKey);
  const local = await session.page.evaluate<string | null>(`localStorage.getItem(${JSON.stringify(storageKey)})`);
  return {
    ...(cookie ? { cookie: JSON.parse(decodeURIComponent(cookie.value)) as CapturedClick, cookieDomain: cookie.domain } : {}),
    ...(local === null ? {} : { local: JSON.parse(local) as CapturedClick }),
  };
}

/**
 * Lets the page finish, so that "no request" assertions mean something. The script is deferred, so
 * it has run (and started any request it wanted) before `load`; the margin covers the trip to the server.
 */
export async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.waitForTimeout(250);
}

export function until<T>(check: () => T | undefined | false, what: string): Promise<T> {
  return vi.waitFor(
    () => {
      const value = check();
      if (value === undefined || value === false) throw new Error(`still waiting for ${what}`);
      return value;
    },
    { timeout: 5000, interval: 20 },
  );
}

export const artifactsDir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = `${artifactsDir}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

export function clickOf(attributes: Record<string, string>, name = storageKey): CapturedClick | undefined {
  const value = attributes[name];
  return value === undefined ? undefined : (JSON.parse(value) as CapturedClick);
}

/** The one cart the session's shop holds (by its cart cookie). */
export async function cartOf(stores: FakeStorefronts, session: Session, host: string) {
  const token = (await session.context.cookies(stores.url(host))).find((c) => c.name === 'cart')?.value;
  return token === undefined ? undefined : stores.carts.get(`${host} ${token}`);
}

/**
 * Waits until the server holds `count` reports and the page has marked the last one as delivered.
 * The server sees a report before the page sees the answer; a navigation in between leaves the
 * script's "already sent" mark unwritten and the next page sends the report again (harmless for the
 * apps, which dedupe, but it makes counts in tests race), so tests that navigate next wait for both.
 */
export async function untilReported(session: Session, received: readonly { readonly body: unknown }[], count: number, what: string): Promise<void> {
  const last = await until(() => received.length >= count && received[count - 1], what);
  // a string, not a function: the test project is type-checked without the DOM library
  const expected = JSON.stringify(JSON.stringify(last.body));
  await session.page.waitForFunction(
    `Object.keys(localStorage).some((k) => { try { return JSON.stringify(JSON.parse(localStorage.getItem(k))) === ${expected}; } catch { return false; } })`,
    undefined,
    { timeout: 5000 },
  );
}
