import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseCaptureScriptConfig, type CaptureScriptConfig, type CaptureScriptConfigInput } from '@clickthread/core/storefront';
import { bridgeHost, startFakeStorefronts, type FakeStorefronts } from './fake-storefronts.ts';
import { closeSessions, launchChromium, openSession, screenshot, settle, storedClick, untilReported, type Session } from './browser.ts';

let browser: Browser;
let stores: FakeStorefronts;
const sessions: Session[] = [];

function wooConfig(overrides: Partial<CaptureScriptConfigInput> = {}): CaptureScriptConfig {
  const parsed = parseCaptureScriptConfig({
    platform: 'woocommerce',
    params: ['click_id', 'transaction_id'],
    extraParams: ['sub1'],
    windowDays: 30,
    endpoint: stores.url(bridgeHost, '/capture'),
    merchant: 'm_demo',
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.reason.join('\n'));
  return parsed.value;
}

async function shopper(): Promise<Session> {
  const session = await openSession(browser);
  sessions.push(session);
  return session;
}

const bodies = () => stores.bridge.map((r) => r.body as Record<string, unknown>);

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
  stores.stores.set('woo.test', { config: wooConfig() });
  stores.stores.set('woo-eu.test', { config: wooConfig({ consent: { global: 'cmpAllowed', event: 'cmp:changed' } }), consent: 'custom' });
});

afterEach(() => closeSessions(sessions.splice(0)));

describe('WooCommerce storefront', () => {
  it('reports the click to the bridge once, then the order from the order-received page', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('woo.test', '/?click_id=woo-777&sub1=summer&utm_medium=cpc'));
    await untilReported(s, stores.bridge, 1, 'the click report');

    const stored = await storedClick(s, stores.url('woo.test'));
    expect(stored.local).toMatchObject({ v: 1, id: 'woo-777', p: 'click_id', x: { sub1: 'summer' } });
    const click = stores.bridge[0];
    // a simple request: no preflight, no CORS answer needed from the bridge
    expect(click?.contentType).toBe('text/plain;charset=UTF-8');
    expect(click?.origin).toBe(stores.url('woo.test', '').replace(/\/$/, ''));
    expect(click?.body).toEqual({
      type: 'click',
      merchant: 'm_demo',
      id: 'woo-777',
      p: 'click_id',
      t: stored.local?.t,
      vid: stored.local?.vid,
      x: { sub1: 'summer' },
      domain: 'woo.test',
    });

    await s.page.click('#product');
    await s.page.waitForURL(/\/products\/shirt$/);
    await s.page.click('#cart');
    await s.page.waitForURL(/\/cart$/);
    await s.page.goto(stores.url('woo.test', '/checkout/order-received/1234/?key=wc_order_Ab12Cd34'));
    await untilReported(s, stores.bridge, 2, 'the order report');
    expect(stores.bridge[1]?.body).toEqual({
      type: 'order',
      merchant: 'm_demo',
      vid: stored.local?.vid,
      orderId: '1234',
      orderKey: 'wc_order_Ab12Cd34',
      domain: 'woo.test',
    });
    await screenshot(s.page, 'woocommerce-order-received');

    // a reload of the thank-you page does not report the order again
    await s.page.reload();
    await settle(s.page);
    expect(stores.bridge).toHaveLength(2);
  });

  it('reports an order from a plain-permalink order-received URL', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('woo.test', '/?transaction_id=plain-1'));
    await untilReported(s, stores.bridge, 1, 'the click report');
    await s.page.goto(stores.url('woo.test', '/?page_id=7&order-received=55&key=wc_order_xyz9'));
    await untilReported(s, stores.bridge, 2, 'the order report');
    expect(bodies()[1]).toMatchObject({ type: 'order', orderId: '55', orderKey: 'wc_order_xyz9' });
  });

  it('sends a new click when the ID changes, and nothing when it is the same', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('woo.test', '/?click_id=one'));
    await untilReported(s, stores.bridge, 1, 'the first click');
    await s.page.goto(stores.url('woo.test', '/?click_id=one'));
    await settle(s.page);
    expect(stores.bridge).toHaveLength(1);
    await s.page.goto(stores.url('woo.test', '/?click_id=two'));
    await untilReported(s, stores.bridge, 2, 'the second click');
    expect(bodies().map((b) => b['id'])).toEqual(['one', 'two']);
    expect(new Set(bodies().map((b) => b['vid'])).size).toBe(1);
  });

  it('reports no order, and makes no request, without a click before it', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('woo.test', '/checkout/order-received/99/?key=wc_order_abc'));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
  });

  it.each([
    ['an order key of the wrong shape', '/checkout/order-received/99/?key=abc'],
    ['an order id that is not a number', '/checkout/order-received/x9/?key=wc_order_abc'],
    ['no order key', '/checkout/order-received/99/'],
  ])('reports no order with %s', async (_name, path) => {
    const s = await shopper();
    await s.page.goto(stores.url('woo.test', '/?click_id=c-1'));
    await untilReported(s, stores.bridge, 1, 'the click');
    await s.page.goto(stores.url('woo.test', path));
    await settle(s.page);
    expect(bodies().filter((b) => b['type'] === 'order')).toEqual([]);
  });

  it('makes no request and stores nothing on pages without an ID', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('woo.test', '/?utm_source=news'));
    await settle(s.page);
    await s.page.click('#product');
    await s.page.waitForURL(/\/products\/shirt$/);
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await s.context.cookies()).toEqual([]);
    expect(await storedClick(s, stores.url('woo.test'))).toEqual({});
  });

  it('waits for a custom consent signal, then reports', async () => {
    const s = await shopper();
    await s.page.goto(stores.url('woo-eu.test', '/?click_id=eu-1'));
    await settle(s.page);
    expect(stores.scriptRequests()).toEqual([]);
    expect(await storedClick(s, stores.url('woo-eu.test'))).toEqual({});

    await s.page.evaluate(`window.cmpAllowed = () => true; document.dispatchEvent(new Event('cmp:changed'))`);
    await untilReported(s, stores.bridge, 1, 'the click after consent');
    expect(bodies()[0]).toMatchObject({ type: 'click', id: 'eu-1', domain: 'woo-eu.test' });
  });
});
