import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcileCursorSetting } from '../../shopify-app/src/reconcile/reconciler.ts';
import { webhookPaths } from '../../shopify-app/src/webhooks/webhook-routes.ts';
import { buildOrderPayload, captureAttribute } from './order-payload-builder.ts';
import { shopDomain, startHarness, type Harness } from './shopify-harness.ts';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
  await h.saveOffer();
});

afterEach(async () => {
  await h.close();
});

const vid = 'd'.repeat(32);

/** A customer who clicked, registered through the proxy while logged in, and ordered. */
async function customerWithOrder(customerId: number) {
  await h.proxy({ cartToken: 'c1-other-cart', id: 'tx-priv', p: 'transaction_id', t: '2026-03-02T11:00:00.000Z', vid, x: {} }, { customerId: String(customerId) });
  const order = buildOrderPayload({ customer: { id: customerId }, note_attributes: [captureAttribute({ id: 'tx-priv', vid })] });
  await h.webhook(webhookPaths.ordersPaid, 'orders/paid', order);
  return order;
}

describe('app/uninstalled', () => {
  it('stops the shop: status uninstalled, sessions removed, no more orders taken, proxy closed', async () => {
    const sessionsBefore = await h.handle.sessionStorage.storage.findSessionsByShop(shopDomain);
    expect(sessionsBefore).toHaveLength(1);
    const res = await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1, domain: shopDomain });
    expect(res.status).toBe(200);
    expect((await h.shop()).status).toBe('uninstalled');
    expect(await h.handle.sessionStorage.storage.findSessionsByShop(shopDomain)).toEqual([]);

    const after = await h.webhook(webhookPaths.ordersPaid, 'orders/paid', buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-after' })] }));
    expect(await after.json()).toEqual({ ok: true, ignored: 'shop not active' });
    expect(await h.jobs()).toEqual([]);
    expect((await h.proxy({ cartToken: 'c1-x', id: 'tx', p: 'transaction_id', t: '2026-03-02T11:00:00.000Z', x: {} })).status).toBe(404);
    expect(await h.handle.reconciler.runOnce()).toEqual([]);
  });

  it('sends nothing more: postbacks still waiting are settled failed, never sent', async () => {
    const order = await customerWithOrder(905);
    const [pending] = await h.jobs(String(order['id']));
    expect(pending).toMatchObject({ event: 'sale', status: 'pending' });

    const res = await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1, domain: shopDomain });
    expect(await res.json()).toMatchObject({ ok: true, postbacksCancelled: 1 });
    expect(await h.store.getJob(pending?.id ?? '')).toMatchObject({ status: 'failed', lastOutcome: 'shop uninstalled' });
    expect((await h.deliver()).claimed).toBe(0);
    h.clock.advance(86_400_000);
    expect((await h.deliver()).claimed).toBe(0);
    expect(h.tracker.requests).toHaveLength(0);
  });

  it('a reinstall makes the shop active again, with the same merchant', async () => {
    const before = await h.shop();
    await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1 });
    const again = await h.handle.installShop(shopDomain);
    expect(again).toMatchObject({ status: 'active', merchantId: before.merchantId });
  });

  it('a token exchange for an active shop keeps its reconciliation cursor; a reinstall starts it again', async () => {
    const cursor = '2026-03-01T08:00:00.000Z';
    const shop = await h.shop();
    await h.store.upsertStore({ ...shop, settings: { ...shop.settings, [reconcileCursorSetting]: cursor }, now: h.clock.now() });
    h.clock.advance(3_600_000);
    // afterAuth runs on every token exchange (a missing or expired session), not only at install
    expect((await h.handle.installShop(shopDomain)).settings[reconcileCursorSetting]).toBe(cursor);
    expect((await h.shop()).settings[reconcileCursorSetting]).toBe(cursor);

    await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1 });
    h.clock.advance(3_600_000);
    const reinstalled = await h.handle.installShop(shopDomain);
    expect(reinstalled.status).toBe('active');
    expect(reinstalled.settings[reconcileCursorSetting]).toBe(h.clock.now().toISOString());
  });
});

describe('compliance webhooks', () => {
  it('customers/data_request answers from what is stored', async () => {
    const order = await customerWithOrder(901);
    const res = await h.webhook(webhookPaths.compliance, 'customers/data_request', {
      shop_id: 1,
      shop_domain: shopDomain,
      orders_requested: [order['id'] ?? null],
      customer: { id: 901, email: 'buyer@example.com', phone: null },
      data_request: { id: 42 },
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { data: unknown };
    expect(answer.data).toMatchObject({
      shop: shopDomain,
      customerId: '901',
      dataRequestId: '42',
      customerCapture: { transactionId: 'tx-priv' },
      orders: [{ orderId: String(order['id']), visitorToken: vid, visitorCapture: { transactionId: 'tx-priv' }, postbacks: [{ event: 'sale', transactionId: 'tx-priv', amount: '34.67', currency: 'USD' }] }],
    });
    // the record that the request came, with how much it concerns, and where the merchant reads the answer
    const entry = h.logger.entries.find((e) => e.msg === 'customers/data_request answered from stored data');
    expect(entry?.obj).toMatchObject({
      shop: shopDomain,
      dataRequestId: '42',
      customerCapture: true,
      orders: 1,
      linkedOrders: 1,
      postbacks: 1,
      answer: expect.stringMatching(/^\/api\/v1\/merchants\/[^/]+\/stores\/[^/]+\/customer-data$/),
    });
  });

  it('customers/data_request writes no personal data to the log', async () => {
    const order = await customerWithOrder(904);
    await h.webhook(webhookPaths.compliance, 'customers/data_request', {
      shop_id: 1,
      shop_domain: shopDomain,
      orders_requested: [order['id'] ?? null],
      customer: { id: 904, email: 'buyer@example.com', phone: null },
      data_request: { id: 43 },
    });
    const logged = JSON.stringify(h.logger.entries.filter((e) => e.msg?.startsWith('customers/data_request')));
    expect(logged).not.toBe('[]');
    for (const personal of ['904', vid, 'tx-priv', 'buyer@example.com', String(order['id'])]) expect(logged).not.toContain(personal);
  });

  it('customers/redact deletes the customer\'s captures and the visitor captures of the orders named', async () => {
    const order = await customerWithOrder(902);
    const merchantId = (await h.shop()).merchantId;
    expect(await h.store.getCapture(merchantId, 'customer', '902')).toBeDefined();
    const res = await h.webhook(webhookPaths.compliance, 'customers/redact', {
      shop_id: 1,
      shop_domain: shopDomain,
      customer: { id: 902, email: 'buyer@example.com', phone: null },
      orders_to_redact: [order['id'] ?? null],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, capturesDeleted: 2, orderLinksDeleted: 1 });
    expect(await h.store.getCapture(merchantId, 'customer', '902')).toBeUndefined();
    expect(await h.store.getCapture(merchantId, 'visitor', vid)).toBeUndefined();
    // the visitor token each order was linked to is personal data too
    expect(await h.store.getOrderLink((await h.shop()).id, String(order['id']))).toBeUndefined();
    // the cart registration went when the order was handled
    expect(await h.store.getCapture(merchantId, 'cart_token', 'c1-other-cart')).toBeDefined();
  });

  it('shop/redact deletes the shop, its merchant and everything they own', async () => {
    await customerWithOrder(903);
    const shop = await h.shop();
    await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1 });
    const res = await h.webhook(webhookPaths.compliance, 'shop/redact', { shop_id: 1, shop_domain: shopDomain });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, merchantDeleted: true, capturesDeleted: 3 });
    expect(await h.store.getStore(shop.id)).toBeUndefined();
    expect(await h.store.getMerchant(shop.merchantId)).toBeUndefined();
    expect(await h.store.getCapture(shop.merchantId, 'customer', '903')).toBeUndefined();
    expect(await h.store.listJobs({ storeId: shop.id })).toEqual([]);
  });

  it("shop/redact deletes the captures that shop reported even when its merchant keeps another store, and only those", async () => {
    await customerWithOrder(906);
    const shop = await h.shop();
    // an agency attached a WooCommerce site to the same merchant: the merchant stays, with the site's click
    await h.store.upsertStore({ id: 'wc_sibling', merchantId: shop.merchantId, platform: 'woocommerce', domain: 'sibling.example', status: 'active', settings: {}, secrets: null, now: h.clock.now() });
    const landingClick = { merchantId: shop.merchantId, kind: 'visitor' as const, key: 'f'.repeat(32), transactionId: 'tx-landing', param: 'transaction_id', extras: {}, capturedAt: h.clock.now(), domain: 'landing.example' };
    await h.store.putCapture(landingClick);
    await h.store.putCapture({ ...landingClick, key: 'e'.repeat(32), transactionId: 'tx-woo', domain: 'sibling.example', storeId: 'wc_sibling' });

    await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1 });
    const res = await h.webhook(webhookPaths.compliance, 'shop/redact', { shop_id: 1, shop_domain: shopDomain });
    expect(await res.json()).toEqual({ ok: true, merchantDeleted: false, capturesDeleted: 3 });
    expect(await h.store.getStore(shop.id)).toBeUndefined();
    expect(await h.store.getMerchant(shop.merchantId)).toBeDefined();
    // the shop's cart registration, its customer's map entry and the click on its storefront
    expect(await h.store.getCapture(shop.merchantId, 'cart_token', 'c1-other-cart')).toBeUndefined();
    expect(await h.store.getCapture(shop.merchantId, 'customer', '906')).toBeUndefined();
    expect(await h.store.getCapture(shop.merchantId, 'visitor', vid)).toBeUndefined();
    // what the merchant's other store and its own landing site reported stays
    expect(await h.store.getCapture(shop.merchantId, 'visitor', 'e'.repeat(32))).toMatchObject({ transactionId: 'tx-woo' });
    expect(await h.store.getCapture(shop.merchantId, 'visitor', 'f'.repeat(32))).toMatchObject({ transactionId: 'tx-landing' });
  });

  it('compliance webhooks for a shop Clickthread never knew are answered 200', async () => {
    const res = await h.webhook(webhookPaths.compliance, 'shop/redact', { shop_domain: 'never.myshopify.com' }, { shop: 'never.myshopify.com' });
    expect(res.status).toBe(200);
  });
});
