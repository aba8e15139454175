import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookPaths } from '@clickthread/shopify-app';
import { signedDelivery, wooOrderAt } from '@clickthread/woocommerce-bridge/testing';
import { buildOrderPayload, captureAttribute } from '../shopify/order-payload-builder.ts';
import { adminToken, shopA, shopB, startSystemWorld, type SystemWorld } from './support/system-world.ts';

/**
 * The agency API and the admin UI in the whole system (`pnpm start`): the operator token on the
 * bridge, a merchant and an offer made through the API, a signed WooCommerce webhook and a signed
 * Shopify orders/paid turned into postbacks the API shows; Shopify session tokens scoped to their
 * shop; the UI served by both apps.
 */

let w: SystemWorld;

beforeAll(async () => {
  w = await startSystemWorld();
});
afterAll(async () => {
  await w.close();
});

/** Reads the body too: an unread answer keeps its connection busy and the server's graceful stop waiting. */
async function statusOf(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

const trackerOffer = (id: string, path: string) => ({
  id,
  name: `Network ${id}`,
  network: 'custom',
  captureParams: ['transaction_id', 'click_id'],
  allowHttp: true,
  postbacks: { sale: { url: `${w.tracker.url}${path}?tid={transaction_id}&amount={amount}&order={order_id}&cur={currency}` } },
});

type Postback = { status: string; transactionId: string; idSource: string; orderId: string; storeId: string };
const postbacksOf = (body: Record<string, unknown>): Postback[] => body['postbacks'] as Postback[];

describe('the agency API on the bridge (operator token)', () => {
  it('GET /api/v1/me answers for the operator token, 401 without it or with a wrong one', async () => {
    const me = await w.api('bridge', 'GET', '/me', adminToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ scope: { kind: 'operator' }, actor: 'operator' });
    expect((await w.api('bridge', 'GET', '/me', undefined)).status).toBe(401);
    expect((await w.api('bridge', 'GET', '/me', `${adminToken}x`)).status).toBe(401);
    expect((await w.api('bridge', 'GET', '/me', 'ct_abcdefgh_0000000000000000000000000000000000000000')).status).toBe(401);
  });

  it('merchant, offer and store through the API; a signed Woo webhook becomes a postback the log shows', async () => {
    expect((await w.api('bridge', 'POST', '/merchants', adminToken, { id: 'acme', name: 'Acme' })).status).toBe(201);
    expect((await w.api('bridge', 'POST', '/merchants/acme/offers', adminToken, trackerOffer('net-woo', '/woo'))).status).toBe(201);
    const connected = await w.api('bridge', 'POST', '/merchants/acme/stores', adminToken, {
      url: w.woo.url,
      consumerKey: w.woo.consumerKey,
      consumerSecret: w.woo.consumerSecret,
      idMetaKeys: ['_transaction_id_demo'],
    });
    expect(connected.status).toBe(201);
    const store = (connected.body['store'] ?? {}) as { id: string; snippet: string; health: Record<string, unknown> };
    expect(store.snippet).toBe(`<script src="http://localhost:0/capture.js?m=acme" async></script>`);
    expect(store.health).toMatchObject({ lastDeliveryAt: null, pendingOrders: 0, reconcileLagSeconds: null, warnings: [] });
    expect((store.health['webhooks'] as Array<{ topic: string; status: string }>).map((h) => `${h.topic} ${h.status}`).toSorted()).toEqual([
      'order.created active',
      'order.deleted active',
      'order.restored active',
      'order.updated active',
    ]);

    // the order exists in the store (the write-back reads it); Woo's own delivery is replaced by ours,
    // because the bridge's public URL (port 0) is not where it listens
    w.woo.deliveryMode = 'drop';
    const order = wooOrderAt(w.clock.now(), { id: 31, status: 'processing' });
    await w.woo.addOrder(order);
    const secret = w.woo.webhooks()[0]?.secret ?? '';
    const delivery = signedDelivery(order, { secret, topic: 'order.updated', source: w.woo.url });
    // Woo escapes slashes: only the raw bytes verify, so nothing may parse the body before the route
    expect(delivery.body.toString('utf8')).toContain('\\/');
    const res = await fetch(`${w.bridgeUrl}/webhooks/woocommerce/${store.id}`, { method: 'POST', headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, outcome: 'planned' });

    await w.running.worker.runOnce();
    const log = await w.eventually(
      () => w.api('bridge', 'GET', '/merchants/acme/postbacks', adminToken),
      (a) => postbacksOf(a.body).some((p) => p.status === 'succeeded'),
    );
    expect(postbacksOf(log.body)).toEqual([expect.objectContaining({ status: 'succeeded', transactionId: 'abc', idSource: 'order_meta', orderId: '31', storeId: store.id })]);
    expect(w.tracker.requestsTo('/woo').map((r) => r.query['tid'])).toEqual(['abc']);
    // written back to the order
    expect(await w.eventually(async () => w.woo.notes(31).length, (n) => n > 0)).toBe(1);

    const described = await w.api('bridge', 'GET', `/merchants/acme/stores/${store.id}`, adminToken);
    expect((described.body['store'] as { health: Record<string, unknown> }).health['lastDeliveryAt']).toBe(w.clock.now().toISOString());
  });

  it('a test-fire queued through the outbox is delivered and never written back, even with a real store id', async () => {
    const stores = await w.api('bridge', 'GET', '/merchants/acme/stores', adminToken);
    const storeId = ((stores.body['stores'] as Array<{ id: string }>)[0] ?? { id: '' }).id;
    const requestsBefore = w.woo.requests.length;
    const fired = await w.api('bridge', 'POST', '/merchants/acme/offers/net-woo/test-fire', adminToken, { via: 'outbox', storeId });
    expect(fired.status).toBe(202);
    await w.running.worker.runOnce();
    const log = await w.eventually(
      () => w.api('bridge', 'GET', '/merchants/acme/postbacks?limit=10', adminToken),
      (a) => postbacksOf(a.body).some((p) => p.idSource === 'manual' && p.status === 'succeeded'),
    );
    expect(postbacksOf(log.body).find((p) => p.idSource === 'manual')).toMatchObject({ status: 'succeeded', storeId });
    // no note, no meta, no order read: the bridge did not call the store at all
    expect(w.woo.requests.slice(requestsBefore)).toEqual([]);
  });

  it('serves the standalone admin UI at /admin (never framed)', async () => {
    const redirect = await fetch(`${w.bridgeUrl}/admin`, { redirect: 'manual' });
    await redirect.arrayBuffer();
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/admin/');
    const page = await fetch(`${w.bridgeUrl}/admin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('id="clickthread-admin-config"');
    expect(html).toContain('"mode":"standalone"');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(await statusOf(`${w.bridgeUrl}/admin/${script ?? ''}`)).toBe(200);
  });
});

describe('the agency API on the Shopify app (session tokens)', () => {
  it('a session token is its shop\'s merchant: an offer made with it, an orders/paid, the postback in its log', async () => {
    const tokenA = w.sessionToken(shopA);
    const me = await w.api('shopify', 'GET', '/me', tokenA);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ scope: { kind: 'merchant', merchantId: 'shopify-shop-a' }, actor: `shopify:${shopA}/42` });
    expect((me.body['merchants'] as Array<{ id: string }>).map((m) => m.id)).toEqual(['shopify-shop-a']);

    const created = await w.api('shopify', 'POST', '/merchants/shopify-shop-a/offers', tokenA, trackerOffer('net-shop', '/shop'));
    expect(created.status).toBe(201);
    const audit = await w.api('shopify', 'GET', '/merchants/shopify-shop-a/offers/net-shop/audit', tokenA);
    expect(audit.body['entries']).toEqual([expect.objectContaining({ action: 'create', actor: `shopify:${shopA}/42` })]);

    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-shop-a' })] });
    const res = await w.shopifyWebhook(webhookPaths.ordersPaid, 'orders/paid', order, shopA);
    expect(res.status).toBe(200);
    await w.running.worker.runOnce();
    const log = await w.eventually(
      () => w.api('shopify', 'GET', '/merchants/shopify-shop-a/postbacks', w.sessionToken(shopA)),
      (a) => postbacksOf(a.body).some((p) => p.status === 'succeeded'),
    );
    expect(postbacksOf(log.body)).toEqual([expect.objectContaining({ status: 'succeeded', transactionId: 'tx-shop-a', idSource: 'note_attribute', orderId: String(order['id']) })]);
    expect(w.tracker.requestsTo('/shop').map((r) => r.query['tid'])).toEqual(['tx-shop-a']);
  });

  it('another shop\'s token sees only its own merchant: the first shop\'s resources are 404', async () => {
    const tokenB = w.sessionToken(shopB);
    const me = await w.api('shopify', 'GET', '/me', tokenB);
    expect((me.body['merchants'] as Array<{ id: string }>).map((m) => m.id)).toEqual(['shopify-shop-b']);
    for (const path of [
      '/merchants/shopify-shop-a',
      '/merchants/shopify-shop-a/offers',
      '/merchants/shopify-shop-a/offers/net-shop',
      '/merchants/shopify-shop-a/postbacks',
      '/merchants/shopify-shop-a/stores',
      `/merchants/shopify-shop-a/stores/${encodeURIComponent(`shopify:${shopA}`)}`,
    ]) {
      const answer = await w.api('shopify', 'GET', path, tokenB);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(JSON.stringify(answer.body)).not.toContain('tx-shop-a');
    }
    const write = await w.api('shopify', 'PUT', '/merchants/shopify-shop-a/offers/net-shop', tokenB, trackerOffer('net-shop', '/stolen'));
    expect(write.status).toBe(404);
    // the bridge's operator sees both shops' merchants (one store behind both apps)
    const all = await w.api('bridge', 'GET', '/merchants', adminToken);
    expect((all.body['merchants'] as Array<{ id: string }>).map((m) => m.id)).toEqual(expect.arrayContaining(['acme', 'shopify-shop-a', 'shopify-shop-b']));
  });

  it.each([
    ['signed with another secret', () => w.sessionToken(shopA, {}).replace(/\.[^.]+$/, '.AAAA')],
    ['for another app', () => w.sessionToken(shopA, { aud: 'another-app' })],
    ['expired', () => w.sessionToken(shopA, { exp: Math.floor(Date.now() / 1000) - 60, nbf: Math.floor(Date.now() / 1000) - 120 })],
    ['naming no shop', () => w.sessionToken(shopA, { dest: 'https://example.com' })],
  ])('refuses a session token %s', async (_what, token) => {
    const answer = await w.api('shopify', 'GET', '/me', token());
    expect(answer.status).toBe(401);
  });

  it('the operator token and API tokens work beside session tokens; shop/redact takes the merchant\'s tokens along', async () => {
    expect((await w.api('shopify', 'GET', '/me', adminToken)).body).toMatchObject({ scope: { kind: 'operator' } });
    const issued = await w.api('shopify', 'POST', '/tokens', w.sessionToken(shopB), { scope: { kind: 'merchant', merchantId: 'shopify-shop-b' }, label: 'reporting' });
    expect(issued.status).toBe(201);
    const apiToken = String(issued.body['token']);
    expect(apiToken).toMatch(/^ct_/);
    expect((await w.api('shopify', 'GET', '/me', apiToken)).body).toMatchObject({ scope: { kind: 'merchant', merchantId: 'shopify-shop-b' } });
    expect((await w.api('bridge', 'GET', '/merchants/shopify-shop-b', apiToken)).status).toBe(200);

    // uninstall keeps everything (Shopify may still send shop/redact, the merchant may reinstall)
    expect((await w.shopifyWebhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 2, domain: shopB }, shopB)).status).toBe(200);
    expect(await w.running.access.listTokens({ merchantId: 'shopify-shop-b' })).toHaveLength(1);
    expect((await w.api('bridge', 'GET', '/merchants/shopify-shop-b', apiToken)).status).toBe(200);

    expect((await w.shopifyWebhook(webhookPaths.compliance, 'shop/redact', { shop_id: 2, shop_domain: shopB }, shopB)).status).toBe(200);
    expect(await w.running.store.getMerchant('shopify-shop-b')).toBeUndefined();
    expect(await w.running.access.listTokens({ merchantId: 'shopify-shop-b' })).toEqual([]);
    expect((await w.api('bridge', 'GET', '/me', apiToken)).status).toBe(401);
  });

  it('serves the embedded admin UI at the app URL inside the Shopify admin, framed by the shop and the admin only', async () => {
    const page = await fetch(`${w.shopifyUrl}/?shop=${shopA}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc2hvcC1h&embedded=1`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(
      `frame-ancestors https://${shopA} https://admin.shopify.com https://*.spin.dev https://admin.myshopify.io https://admin.shop.dev;`,
    );
    const html = await page.text();
    expect(html).toContain('<meta name="shopify-api-key" content="system-test-client-id" />');
    expect(html).toContain('"mode":"embedded"');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(await statusOf(`${w.shopifyUrl}/${script ?? 'missing'}`)).toBe(200);
    // outside the admin (no shop) the page is refused
    expect(await statusOf(`${w.shopifyUrl}/`)).toBe(400);
  });
});
