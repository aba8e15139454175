import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseCaptureScriptConfig, type CaptureScriptConfig, type CaptureScriptConfigInput } from '@clickthread/core/storefront';
import { loadFeaturesCallsExpression, startFakeStorefronts, type ConsentMode, type FakeStorefronts, type StoreSetup } from './fake-storefronts.ts';
import { cartOf, clickOf, closeSessions, launchChromium, openSession, screenshot, settle, storedClick, until, untilReported, type Session } from './browser.ts';

const day = 86_400_000;
const t0 = Date.parse('2026-03-02T09:00:00.000Z');

function shopConfig(overrides: Partial<CaptureScriptConfigInput> = {}): CaptureScriptConfig {
  const parsed = parseCaptureScriptConfig({
    platform: 'shopify',
    params: ['transaction_id', 'click_id'],
    extraParams: ['aff_sub', 'source'],
    windowDays: 7,
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.reason.join('\n'));
  return parsed.value;
}

let browser: Browser;
let stores: FakeStorefronts;
const sessions: Session[] = [];

async function shopper(): Promise<Session> {
  const session = await openSession(browser);
  sessions.push(session);
  return session;
}

// One shopper for the cases that must leave nothing behind: if one did, the next would see it too.
let untouched: Session | undefined;
async function untouchedShopper(): Promise<Session> {
  untouched ??= await openSession(browser);
  return untouched;
}

function addStore(host: string, setup: Partial<StoreSetup> = {}): void {
  stores.stores.set(host, { config: shopConfig(), ...setup });
}

/** A shop with this consent mode and consent fallback (unset: the default). */
function fallbackStore(consent: ConsentMode, consentFallback?: 'deny' | 'allow'): void {
  addStore('fallback.test', { consent, config: shopConfig(consentFallback === undefined ? {} : { consentFallback }) });
}

const count = (method: string, path: string) => stores.log.filter((r) => r.method === method && r.path === path).length;

beforeAll(async () => {
  [stores, browser] = await Promise.all([startFakeStorefronts(), launchChromium()]);
});

afterAll(async () => {
  if (untouched) await closeSessions([untouched]);
  await browser?.close();
  await stores?.close();
});

beforeEach(() => {
  stores.reset();
  stores.stores.clear();
  addStore('shop-a.test');
  addStore('www.shop-a.test');
  addStore('first.test', { config: shopConfig({ model: 'first_click' }) });
  addStore('eu.test', { consent: 'banner' });
  addStore('late.test', { consent: 'late' });
});

afterEach(() => closeSessions(sessions.splice(0)));

describe('Shopify storefront: capture to order', () => {
  it('lands with the ID, buys three pages later: one cart update, one proxy registration, the order carries the click', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=abc123&aff_sub=sub-1&utm_source=news'));
    await untilReported(s, stores.proxy, 1, 'the app proxy registration');

    const cart = await cartOf(stores, s, 'shop-a.test');
    const click = clickOf(cart?.attributes ?? {});
    expect(click).toMatchObject({ v: 1, id: 'abc123', p: 'transaction_id', x: { aff_sub: 'sub-1' } });
    expect(Object.keys(click ?? {})).toEqual(['v', 'id', 'p', 't', 'vid', 'x']);
    expect(click?.vid).toMatch(/^[0-9a-f]{32}$/);
    expect(new Date(click?.t ?? '').toISOString()).toBe(click?.t);

    const registration = stores.proxy[0];
    expect(registration?.contentType).toBe('application/json');
    expect(registration?.body).toEqual({ cartToken: cart?.token, id: 'abc123', p: 'transaction_id', t: click?.t, vid: click?.vid, x: { aff_sub: 'sub-1' } });
    expect(Object.keys(registration?.body as object)).toEqual(['cartToken', 'id', 'p', 't', 'vid', 'x']);

    const stored = await storedClick(s, stores.url('shop-a.test'));
    expect(stored.cookie).toEqual(click);
    expect(stored.local).toEqual(click);

    await s.page.click('#product');
    await s.page.waitForURL(/\/products\/shirt$/);
    await s.page.click('#collection');
    await s.page.waitForURL(/\/collections\/all$/);
    await s.page.click('#add-button');
    await s.page.waitForURL(/\/cart$/);
    await s.page.click('#checkout');
    await s.page.waitForURL(/\/checkout$/);
    await settle(s.page);

    expect(stores.orders).toHaveLength(1);
    expect(stores.orders[0]?.noteAttributes).toEqual([{ name: '_clickthread', value: JSON.stringify(click) }]);
    expect(count('POST', '/cart/update.js')).toBe(1);
    expect(stores.proxy).toHaveLength(1);
    // each later page only looked at the cart
    expect(count('GET', '/cart.js')).toBe(5);
    await screenshot(s.page, 'shopify-order-note-attributes');
  });

  it('keeps the click on the registrable domain for what is left of the window', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('www.shop-a.test', '/?click_id=sub-domain-1'));
    await untilReported(s, stores.proxy, 1, 'the app proxy registration');
    const cookie = (await s.context.cookies(stores.url('www.shop-a.test'))).find((c) => c.name === '_clickthread');
    expect(cookie?.domain).toBe('.shop-a.test');
    expect(cookie?.sameSite).toBe('Lax');
    expect((cookie?.expires ?? 0) * 1000 - Date.now()).toBeGreaterThan(7 * day - 60_000);
    expect((cookie?.expires ?? 0) * 1000 - Date.now()).toBeLessThanOrEqual(7 * day);
    // the sibling sub-domain sees it: no handoff needed inside one registrable domain
    expect((await s.context.cookies(stores.url('shop-a.test'))).some((c) => c.name === '_clickthread')).toBe(true);
    expect((await s.context.cookies()).some((c) => c.name === '_ctd')).toBe(false);
  });

  it('makes no request and stores nothing on a page without an ID', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', '/?utm_source=news&clickid=not-a-configured-name'));
    await settle(s.page);
    await s.page.click('#product');
    await s.page.waitForURL(/\/products\/shirt$/);
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
    expect(await storedClick(s, stores.url('shop-a.test'))).toEqual({});
  });

  it('reads a parameter in another case, like the server does', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', '/?Transaction_ID=case-1'));
    await untilReported(s, stores.proxy, 1, 'the app proxy registration');
    expect(clickOf((await cartOf(stores, s, 'shop-a.test'))?.attributes ?? {})).toMatchObject({ id: 'case-1', p: 'transaction_id' });
  });
});

describe('Shopify storefront: values', () => {
  it.each([
    ['an encoded plus', 'a%2Bb', 'a+b'],
    ['an encoded percent', '50%25off', '50%off'],
    ['unicode', '%C3%BCber-%E2%9C%93', 'über-✓'],
    ['an emoji', '%F0%9F%98%80-1', '😀-1'],
    ['256 characters', 'a'.repeat(256), 'a'.repeat(256)],
    ['256 astral characters', '%F0%9F%98%80'.repeat(256), '😀'.repeat(256)],
  ])('keeps %s exactly', async (_name, raw, expected) => {
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', `/?transaction_id=${raw}`));
    await untilReported(s, stores.proxy, 1, 'the app proxy registration');
    expect(clickOf((await cartOf(stores, s, 'shop-a.test'))?.attributes ?? {})?.id).toBe(expected);
    expect(stores.proxy[0]?.body).toMatchObject({ id: expected });
    const stored = await storedClick(s, stores.url('shop-a.test'));
    expect(stored.local?.id).toBe(expected);
    expect(stored.cookie?.id).toBe(expected);
  });

  it.each([
    ['a raw plus (a space once decoded)', 'a+b'],
    ['257 characters', 'a'.repeat(257)],
    ['markup', '%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
    ['an attribute breakout', '%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E'],
    ['a line break', 'x%0Ay'],
    ['a NUL', 'a%00b'],
    ['a bidi override', '%E2%80%AEabc'],
    ['a quote', '%27x'],
    ['an empty value', ''],
  ])('refuses %s: nothing stored, nothing sent', async (_name, raw) => {
    const s = await untouchedShopper();
    await s.page.goto(stores.url('shop-a.test', `/?transaction_id=${raw}&aff_sub=fine`));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
    expect(await storedClick(s, stores.url('shop-a.test'))).toEqual({});
  });

  it('drops a sub ID that fails the check but keeps the click', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=ok-1&aff_sub=%3Cb%3E&source=mail'));
    await untilReported(s, stores.proxy, 1, 'the app proxy registration');
    expect(clickOf((await cartOf(stores, s, 'shop-a.test'))?.attributes ?? {})?.x).toEqual({ source: 'mail' });
  });
});

describe('Shopify storefront: attribution window and model', () => {
  it('still attributes a new cart six days later, and forgets the click after the 7-day window', async () => {
    const s = await shopper();
    await s.page.clock.setFixedTime(t0);
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=win-1'));
    await untilReported(s, stores.proxy, 1, 'the app proxy registration');

    // the shopper comes back six days later with a new cart
    await s.context.clearCookies({ name: 'cart' });
    await s.page.clock.setFixedTime(t0 + 6 * day);
    await s.page.goto(stores.url('shop-a.test', '/products/shirt'));
    await untilReported(s, stores.proxy, 2, 'the new cart registered');
    const sixDays = clickOf((await cartOf(stores, s, 'shop-a.test'))?.attributes ?? {});
    expect(sixDays).toMatchObject({ id: 'win-1', t: new Date(t0).toISOString() });

    // and again after eight days: the click is gone, nothing is written
    await s.context.clearCookies({ name: 'cart' });
    await s.page.clock.setFixedTime(t0 + 8 * day);
    const before = stores.log.length;
    await s.page.goto(stores.url('shop-a.test', '/collections/all'));
    await settle(s.page);
    expect(stores.scriptRequests().filter((r) => stores.log.indexOf(r) >= before)).toEqual([]);
    expect(await storedClick(s, stores.url('shop-a.test'))).toEqual({});
  });

  it('last click: a new ID replaces the old one; the same ID again keeps its first capture time', async () => {
    const s = await shopper();
    await s.page.clock.setFixedTime(t0);
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=first-id'));
    await untilReported(s, stores.proxy, 1, 'the first registration');
    await s.page.clock.setFixedTime(t0 + day);
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=second-id'));
    await untilReported(s, stores.proxy, 2, 'the second registration');
    await s.page.clock.setFixedTime(t0 + 2 * day);
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=second-id'));
    await settle(s.page);

    const click = clickOf((await cartOf(stores, s, 'shop-a.test'))?.attributes ?? {});
    expect(click).toMatchObject({ id: 'second-id', t: new Date(t0 + day).toISOString() });
    expect(stores.proxy).toHaveLength(2);
    expect(count('POST', '/cart/update.js')).toBe(2);
    // one visitor throughout
    expect(new Set(stores.proxy.map((p) => (p.body as { vid: string }).vid)).size).toBe(1);
  });

  it('first click: a later ID does not replace the first inside the window, but does after it', async () => {
    const s = await shopper();
    await s.page.clock.setFixedTime(t0);
    await s.page.goto(stores.url('first.test', '/?transaction_id=first-id'));
    await untilReported(s, stores.proxy, 1, 'the first registration');
    await s.page.clock.setFixedTime(t0 + day);
    await s.page.goto(stores.url('first.test', '/?transaction_id=second-id'));
    await settle(s.page);
    expect(clickOf((await cartOf(stores, s, 'first.test'))?.attributes ?? {})).toMatchObject({ id: 'first-id', t: new Date(t0).toISOString() });
    expect(stores.proxy).toHaveLength(1);

    await s.page.clock.setFixedTime(t0 + 9 * day);
    await s.page.goto(stores.url('first.test', '/?transaction_id=third-id'));
    await untilReported(s, stores.proxy, 2, 'the registration after the window');
    expect(clickOf((await cartOf(stores, s, 'first.test'))?.attributes ?? {})).toMatchObject({ id: 'third-id', t: new Date(t0 + 9 * day).toISOString() });
  });
});

describe('Shopify storefront: carts and storage', () => {
  it.each([['fetch', '#fetch-add'], ['XMLHttpRequest', '#xhr-add']])('writes the click into a cart an AJAX add (%s) creates after the landing, without a page load', async (_how, button) => {
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=ajax-1'));
    await untilReported(s, stores.proxy, 1, 'the first registration');
    const first = await cartOf(stores, s, 'shop-a.test');

    // the cart goes away (checkout completed, expired); the theme's quick add makes a new one
    await s.context.clearCookies({ name: 'cart' });
    await s.page.click(button);
    await untilReported(s, stores.proxy, 2, 'the new cart registered');

    const second = await cartOf(stores, s, 'shop-a.test');
    expect(second?.token).not.toBe(first?.token);
    expect(second?.items).toHaveLength(1);
    expect(clickOf(second?.attributes ?? {})?.id).toBe('ajax-1');
    expect(stores.proxy[1]?.body).toMatchObject({ cartToken: second?.token });
    expect(s.page.url()).toBe(stores.url('shop-a.test', '/?transaction_id=ajax-1'));
  });

  it('restores the cookie from localStorage when cookies were cleared', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=restore-1'));
    await untilReported(s, stores.proxy, 1, 'the first registration');
    const before = await storedClick(s, stores.url('shop-a.test'));

    await s.context.clearCookies();
    await s.page.goto(stores.url('shop-a.test', '/products/shirt'));
    await untilReported(s, stores.proxy, 2, 'the new cart registered');

    const after = await storedClick(s, stores.url('shop-a.test'));
    expect(after.cookie).toEqual(before.local);
    expect(after.local).toEqual(before.local);
    expect(clickOf((await cartOf(stores, s, 'shop-a.test'))?.attributes ?? {})).toEqual(before.local);
  });

  it('survives a hostile page: localStorage that throws, a garbage cookie, the script twice, a fetch that rejects', async () => {
    addStore('hostile.test', {
      head: `<script src="/clickthread.js" defer></script><script>
        document.cookie = '_clickthread=%E0%A4%A; path=/; domain=hostile.test';
        Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('denied', 'SecurityError'); } });
      </script>`,
    });
    const s = await shopper();
    await s.page.goto(stores.url('hostile.test', '/?transaction_id=hostile-1'));
    await until(() => stores.proxy.length === 1, 'the registration'); // localStorage throws here: nothing to wait for in the page
    await settle(s.page);
    expect(stores.proxy).toHaveLength(1);
    expect(count('POST', '/cart/update.js')).toBe(1);
    expect(clickOf((await cartOf(stores, s, 'hostile.test'))?.attributes ?? {})?.id).toBe('hostile-1');
    const cookie = (await s.context.cookies()).find((c) => c.name === '_clickthread');
    expect(JSON.parse(decodeURIComponent(cookie?.value ?? '""'))).toMatchObject({ id: 'hostile-1' });

    addStore('offline.test', { head: `<script>window.fetch = () => Promise.reject(new TypeError('offline'))</script>` });
    await s.page.goto(stores.url('offline.test', '/?transaction_id=offline-1'));
    await settle(s.page);
    expect(stores.log.filter((r) => r.host === 'offline.test' && r.path.endsWith('.js') && r.path !== '/clickthread.js')).toEqual([]);
  });

  it.each([
    ['broken JSON', '{"platform":'],
    ['no params', '{"platform":"shopify"}'],
    ['params that are not a list', '{"platform":"shopify","params":"transaction_id"}'],
  ])('does nothing, quietly, with %s as config', async (_name, rawConfig) => {
    addStore('misconfigured.test', { rawConfig });
    const s = await untouchedShopper();
    await s.page.goto(stores.url('misconfigured.test', '/?transaction_id=abc'));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
  });
});

describe('Shopify storefront: app proxy path', () => {
  it('registers the cart through the app proxy where the merchant moved it', async () => {
    addStore('renamed.test', { proxyPath: '/a/ct', config: shopConfig({ endpoint: '/a/ct/capture' }) });
    const s = await shopper();
    await s.page.goto(stores.url('renamed.test', '/?transaction_id=renamed-1'));
    await untilReported(s, stores.proxy, 1, 'the registration at /a/ct/capture');
    expect(stores.proxy[0]?.body).toMatchObject({ cartToken: (await cartOf(stores, s, 'renamed.test'))?.token, id: 'renamed-1' });
    expect(count('POST', '/apps/clickthread/capture')).toBe(0);
  });

  it('(the stand-in proxies only the path the merchant chose: the default path reaches nothing there)', async () => {
    addStore('renamed.test', { proxyPath: '/a/ct' });
    const s = await shopper();
    await s.page.goto(stores.url('renamed.test', '/?transaction_id=renamed-2'));
    await until(() => count('POST', '/apps/clickthread/capture') === 1, 'the attempt at the default path');
    expect(stores.proxy).toEqual([]);
  });
});

describe('Shopify storefront: consent', () => {
  it('stores and sends nothing while consent is missing, then captures when the banner grants it', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('eu.test', '/?transaction_id=consent-1'));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
    expect(await storedClick(s, stores.url('eu.test'))).toEqual({});

    await s.page.evaluate(`document.cookie = 'test_consent=yes; path=/';
      document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: { analyticsAllowed: true } }));`);
    await untilReported(s, stores.proxy, 1, 'the registration after consent');
    expect(clickOf((await cartOf(stores, s, 'eu.test'))?.attributes ?? {})?.id).toBe('consent-1');
    expect((await storedClick(s, stores.url('eu.test'))).local?.id).toBe('consent-1');
  });

  it('keeps refusing on the next pages while consent stays denied', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('eu.test', '/?transaction_id=consent-2'));
    await settle(s.page);
    await s.page.evaluate(`document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: { analyticsAllowed: false } }))`);
    await s.page.click('#product');
    await s.page.waitForURL(/\/products\/shirt$/);
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
  });

  it("on a shop without a consent banner (Shopify's default), asks Shopify's loader for the API once and captures", async () => {
    // shop-a.test has only Shopify.loadFeatures, as a real storefront before anything asked for the API
    const s = await shopper();
    await s.page.goto(stores.url('shop-a.test', '/?transaction_id=no-banner-1'));
    await untilReported(s, stores.proxy, 1, 'the registration once the API allowed it');
    expect(clickOf((await cartOf(stores, s, 'shop-a.test'))?.attributes ?? {})?.id).toBe('no-banner-1');
    await settle(s.page);
    expect(await s.page.evaluate(loadFeaturesCallsExpression)).toEqual([[{ name: 'consent-tracking-api', version: '0.1' }]]);
  });

  it('does not ask for the API when a banner already loaded it', async () => {
    addStore('banner-loaded.test', { consent: 'granted' });
    const s = await shopper();
    await s.page.goto(stores.url('banner-loaded.test', '/?transaction_id=loaded-1'));
    await untilReported(s, stores.proxy, 1, 'the registration');
    await settle(s.page);
    expect(await s.page.evaluate(loadFeaturesCallsExpression)).toBeUndefined();
  });

  it('loads the API, then waits while it says consent is required, and captures once the shopper consents', async () => {
    addStore('eu-loader.test', { consent: 'loader-banner' });
    const s = await shopper();
    await s.page.goto(stores.url('eu-loader.test', '/?transaction_id=eu-loader-1'));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
    expect(await storedClick(s, stores.url('eu-loader.test'))).toEqual({});
    // asked once, although consent was checked at start, at load and after the loader answered
    expect(await s.page.evaluate(loadFeaturesCallsExpression)).toHaveLength(1);

    await s.page.evaluate(`document.cookie = 'test_consent=yes; path=/';
      document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: { analyticsAllowed: true } }));`);
    await untilReported(s, stores.proxy, 1, 'the registration after consent');
    expect(clickOf((await cartOf(stores, s, 'eu-loader.test'))?.attributes ?? {})?.id).toBe('eu-loader-1');
  });

  it.each<[string, ConsentMode, 'deny' | undefined]>([
    ['no Shopify.loadFeatures (headless), default fallback', 'late', undefined],
    ['no Shopify.loadFeatures (headless), fallback deny', 'late', 'deny'],
    ['a loader that fails, default fallback', 'loader-error', undefined],
  ])('without the API: %s: stores and sends nothing', async (_name, consent, consentFallback) => {
    fallbackStore(consent, consentFallback);
    const s = await untouchedShopper();
    await s.page.goto(stores.url('fallback.test', '/?transaction_id=fallback-1'));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
    expect(await storedClick(s, stores.url('fallback.test'))).toEqual({});
  });

  it.each<[string, ConsentMode, 'deny' | 'allow']>([
    ['no Shopify.loadFeatures (headless), fallback allow', 'late', 'allow'],
    ['a loader that fails, fallback allow', 'loader-error', 'allow'],
    ['a loader that works, fallback deny (the API decides)', 'loader', 'deny'],
  ])('without the API: %s: captures', async (_name, consent, consentFallback) => {
    fallbackStore(consent, consentFallback);
    const s = await shopper();
    await s.page.goto(stores.url('fallback.test', '/?transaction_id=fallback-2'));
    await untilReported(s, stores.proxy, 1, 'the registration');
    expect(clickOf((await cartOf(stores, s, 'fallback.test'))?.attributes ?? {})?.id).toBe('fallback-2');
  });

  it('waits for a Customer Privacy API that loads after the script', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('late.test', '/?transaction_id=late-1'));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    await s.page.evaluate(`window.Shopify = { customerPrivacy: { analyticsProcessingAllowed: () => true } };
      document.dispatchEvent(new Event('shopifyCustomerPrivacyApiLoaded'));`);
    await untilReported(s, stores.proxy, 1, 'the registration once the API is there');
  });
});
