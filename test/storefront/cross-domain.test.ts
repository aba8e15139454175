import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseCaptureScriptConfig, type CaptureScriptConfig } from '@clickthread/core/storefront';
import { startFakeStorefronts, type FakeStorefronts } from './fake-storefronts.ts';
import { cartOf, clickOf, closeSessions, launchChromium, openSession, settle, storedClick, until, untilReported, type Session } from './browser.ts';

let browser: Browser;
let stores: FakeStorefronts;
const sessions: Session[] = [];

function shopConfig(siblingDomains: string[]): CaptureScriptConfig {
  const parsed = parseCaptureScriptConfig({ platform: 'shopify', params: ['transaction_id'], extraParams: ['aff_sub'], siblingDomains });
  if (!parsed.ok) throw new Error(parsed.reason.join('\n'));
  return parsed.value;
}

async function shopper(): Promise<Session> {
  const session = await openSession(browser);
  sessions.push(session);
  return session;
}

/** Lands on shop A with a click and waits until shop A has registered it. */
async function landOnShopA(s: Session, id = 'hop-1') {
  await s.page.goto(stores.url('shop-a.test', `/?transaction_id=${id}&aff_sub=s1`));
  await untilReported(s, stores.proxy, 1, 'shop A registered the click');
  const stored = await storedClick(s, stores.url('shop-a.test'));
  if (!stored.local) throw new Error('shop A stored nothing');
  return stored.local;
}

const handoffsSeen = () => stores.log.filter((r) => r.search.includes('_ctv='));

beforeAll(async () => {
  [stores, browser] = await Promise.all([startFakeStorefronts(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await stores?.close();
});

beforeEach(() => {
  stores.reset();
  stores.stores.clear();
  stores.stores.set('shop-a.test', { config: shopConfig(['shop-b.test']) });
  stores.stores.set('shop-b.test', { config: shopConfig(['shop-a.test']) });
  stores.stores.set('elsewhere.test', { config: shopConfig([]) });
});

afterEach(() => closeSessions(sessions.splice(0)));

describe('cross-domain handoff', () => {
  it('carries the click over a link to a sibling domain, adopts it there and cleans the address bar', async () => {
    const s = await shopper();
    const click = await landOnShopA(s);

    await s.page.click('#sibling');
    await s.page.waitForURL((u) => u.hostname === 'shop-b.test' && !u.search.includes('_ctv'));
    expect(s.page.url()).toBe(stores.url('shop-b.test', '/products/shirt?ref=nav'));
    expect(handoffsSeen().map((r) => r.host)).toEqual(['shop-b.test']);
    await until(() => stores.proxy.some((p) => p.host === 'shop-b.test'), 'shop B registered the click');

    // the same click, the same visitor, the same capture time: one thread across both domains
    const onB = await storedClick(s, stores.url('shop-b.test'));
    expect(onB.local).toEqual(click);
    expect(onB.cookie).toEqual(click);
    expect(clickOf((await cartOf(stores, s, 'shop-b.test'))?.attributes ?? {})).toEqual(click);

    // and back: shop B decorates its links to shop A too, shop A keeps what it had
    await s.page.click('#sibling');
    await s.page.waitForURL((u) => u.hostname === 'shop-a.test' && !u.search.includes('_ctv'));
    await settle(s.page);
    expect((await storedClick(s, stores.url('shop-a.test'))).local).toEqual(click);
  });

  it('carries the click through a GET form to a sibling domain', async () => {
    const s = await shopper();
    const click = await landOnShopA(s, 'form-1');
    await s.page.click('#sibling-search-button');
    await s.page.waitForURL((u) => u.hostname === 'shop-b.test' && u.pathname === '/search' && !u.search.includes('_ctv'));
    expect(new URL(s.page.url()).searchParams.get('q')).toBe('shirt');
    await until(() => stores.proxy.some((p) => p.host === 'shop-b.test'), 'shop B registered the click');
    expect((await storedClick(s, stores.url('shop-b.test'))).local).toEqual(click);
  });

  it('does not decorate links to domains that are not siblings', async () => {
    const s = await shopper();
    await landOnShopA(s);
    await s.page.click('#elsewhere');
    await s.page.waitForURL((u) => u.hostname === 'elsewhere.test');
    await settle(s.page);
    expect(handoffsSeen()).toEqual([]);
    expect(await storedClick(s, stores.url('elsewhere.test'))).toEqual({});
  });

  it('a newer click on the arriving domain wins over an older handed-off one (last click)', async () => {
    const s = await shopper();
    const t0 = Date.parse('2026-03-02T09:00:00.000Z');
    await s.page.clock.setFixedTime(t0);
    await landOnShopA(s, 'older');
    await s.page.clock.setFixedTime(t0 + 3_600_000);
    await s.page.goto(stores.url('shop-b.test', '/?transaction_id=newer'));
    await until(() => stores.proxy.some((p) => p.host === 'shop-b.test'), 'shop B registered its own click');

    await s.page.goto(stores.url('shop-a.test', '/'));
    await settle(s.page);
    await s.page.click('#sibling');
    await s.page.waitForURL((u) => u.hostname === 'shop-b.test' && !u.search.includes('_ctv'));
    await settle(s.page);
    expect((await storedClick(s, stores.url('shop-b.test'))).local?.id).toBe('newer');
  });

  it.each([
    ['issued eleven minutes ago', { i: -11 * 60_000 }],
    ['issued in the future', { i: 5 * 60_000 }],
    ['carrying a hostile ID', { id: '<script>x</script>' }],
    ['carrying an unknown parameter name', { p: 'not_configured' }],
    ['carrying a malformed visitor token', { vid: 'x'.repeat(32) }],
    ['carrying a capture time outside the window', { t: '2020-01-01T00:00:00.000Z' }],
  ])('refuses a token %s, and still strips it', async (_name, change) => {
    const s = await shopper();
    const now = Date.now();
    const token = {
      v: 1,
      id: 'token-1',
      p: 'transaction_id',
      t: new Date(now - 60_000).toISOString(),
      vid: 'a'.repeat(32),
      x: {},
      ...change,
      i: now + ('i' in change ? change.i : 0),
    };
    await s.page.goto(stores.url('shop-b.test', `/products/shirt?ref=mail&_ctv=${encodeURIComponent(JSON.stringify(token))}#reviews`));
    await settle(s.page);
    expect(s.page.url()).toBe(stores.url('shop-b.test', '/products/shirt?ref=mail#reviews'));
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
  });

  it('adopts a fresh token typed into the address bar by hand, so its shape is the contract', async () => {
    const s = await shopper();
    const now = Date.now();
    const token = { v: 1, id: 'by-hand', p: 'transaction_id', t: new Date(now - 60_000).toISOString(), vid: 'b'.repeat(32), x: { aff_sub: 'q' }, i: now };
    await s.page.goto(stores.url('shop-b.test', `/?_ctv=${encodeURIComponent(JSON.stringify(token))}`));
    await untilReported(s, stores.proxy, 1, 'shop B registered the click');
    expect(s.page.url()).toBe(stores.url('shop-b.test', '/'));
    expect((await storedClick(s, stores.url('shop-b.test'))).local).toEqual({ v: 1, id: 'by-hand', p: 'transaction_id', t: token.t, vid: token.vid, x: { aff_sub: 'q' } });
  });
});
