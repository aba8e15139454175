import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Session } from '@shopify/shopify-api';
import { createMemoryLogger, ManualClock } from '@clickthread/core';
import { createAccessStore, type AccessStore } from '@clickthread/core/access';
import { createUndiciTransport, type Transport } from '@clickthread/core/delivery';
import type { PostbackJobDraft } from '@clickthread/core';
import { createSqliteStore, type PostbackJob, type Store } from '@clickthread/core/storage';
import { buildJobDraft } from '@clickthread/core/testing';
import { buildOffer } from '@clickthread/core/fixtures';
import { adminUiBuildCommand, type AdminUiState } from '@clickthread/admin';
import {
  createOrderTagger,
  createShopifyApp,
  loadShopifyConfig,
  merchantIdForShop,
  shopifyStoreId,
  webhookPaths,
  type GraphqlFetch,
  type ShopifyAppHandle,
} from '@clickthread/shopify-app';
import { sessionToken } from '../system/support/session-token.ts';
import { apiSecret, webhookHmac } from './shopify-harness.ts';
import { buildOrderPayload, captureAttribute } from './order-payload-builder.ts';

/**
 * The Shopify app with the admin mounted: /api/v1 behind Shopify session tokens (and API tokens,
 * and the operator token), the embedded UI at the app URL. Shopify itself is never called: the
 * shops' offline sessions are stored up front, so no token exchange runs.
 */

const apiKey = 'admin-test-client-id';
const operatorToken = 'operator-token-for-shopify-tests-0123456789abcdef';
const shopA = 'shop-a.myshopify.com';

const noShopify: GraphqlFetch = async () =>
  new Response(JSON.stringify({ errors: [{ message: 'no Admin API in this test' }] }), { status: 200, headers: { 'content-type': 'application/json' } });

interface World {
  readonly url: string;
  readonly clock: ManualClock;
  readonly store: Store;
  readonly access: AccessStore;
  readonly handle: ShopifyAppHandle;
  readonly graphqlCalls: { count: number };
  storeSession(shop: string): Promise<void>;
  api(method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
  close(): Promise<void>;
}

async function startWorld(options: { ui?: AdminUiState } = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-shopify-admin-'));
  const clock = new ManualClock('2026-03-02T12:05:00.000Z');
  const logger = createMemoryLogger();
  const store = createSqliteStore({ path: join(dir, 'clickthread.db') });
  await store.migrate();
  const access = createAccessStore(store);
  await access.migrate();
  const transport: Transport = createUndiciTransport({ ssrf: { allowPrivate: false } });
  const config = loadShopifyConfig({
    SHOPIFY_API_KEY: apiKey,
    SHOPIFY_API_SECRET: apiSecret,
    SHOPIFY_APP_URL: 'https://clickthread.example.com',
    SHOPIFY_API_VERSION: '2026-07',
    SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
    CLICKTHREAD_DATA_DIR: dir,
    CLICKTHREAD_ADMIN_TOKEN: operatorToken,
  });
  const graphqlCalls = { count: 0 };
  const graphqlFetch: GraphqlFetch = async (...args) => {
    graphqlCalls.count += 1;
    return noShopify(...args);
  };
  const handle = createShopifyApp({ config, store, clock, logger, graphqlFetch, admin: { access, transport, wakeWorker: () => undefined, ...(options.ui ? { ui: options.ui } : {}) } });
  await handle.sessionStorage.storage.ready;
  const server: Server = createServer(handle.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const world: World = {
    url,
    clock,
    store,
    access,
    handle,
    graphqlCalls,
    async storeSession(shop) {
      const session = new Session({ id: handle.shopify.api.session.getOfflineId(shop), shop, state: 'test', isOnline: false, accessToken: 'shpat_test', scope: 'read_orders,write_orders' });
      await handle.sessionStorage.storage.storeSession(session);
    },
    async api(method, path, token, body) {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        parsed = { text };
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handle.close();
      await transport.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

const tokenFor = (shop: string, overrides: Record<string, unknown> = {}) => sessionToken({ shop, apiKey, secret: apiSecret, overrides });

let w: World;

describe('/api/v1 behind Shopify session tokens', () => {
  beforeEach(async () => {
    w = await startWorld();
    await w.handle.installShop(shopA);
    await w.storeSession(shopA);
  });
  afterEach(async () => {
    await w.close();
  });

  it('a shop with a valid offline session but no store record (installed before the database) is installed on first use', async () => {
    const shop = 'shop-new.myshopify.com';
    await w.storeSession(shop);
    expect(await w.store.getStore(shopifyStoreId(shop))).toBeUndefined();
    const me = await w.api('GET', '/me', tokenFor(shop));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ scope: { kind: 'merchant', merchantId: 'shopify-shop-new' } });
    expect((await w.store.getStore(shopifyStoreId(shop)))?.status).toBe('active');
  });

  it('an uninstalled shop\'s session token is refused, though its API tokens still read its history', async () => {
    const issued = await w.api('POST', '/tokens', tokenFor(shopA), { scope: { kind: 'merchant', merchantId: 'shopify-shop-a' }, label: 'agency reporting' });
    expect(issued.status).toBe(201);
    const shop = await w.store.getStore(shopifyStoreId(shopA));
    if (!shop) throw new Error('shop not installed');
    await w.store.upsertStore({ ...shop, status: 'uninstalled', now: w.clock.now() });
    expect((await w.api('GET', '/me', tokenFor(shopA))).status).toBe(401);
    expect((await w.api('GET', '/merchants/shopify-shop-a', String(issued.body['token']))).status).toBe(200);
  });

  it('an API token (ct_…) is never mistaken for a session token: no token exchange, a plain 401 when unknown', async () => {
    const res = await w.api('GET', '/me', 'ct_abcdefgh_0123456789abcdef0123456789abcdef0123');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'unauthorized' } });
    expect(res.headers.get('x-shopify-retry-invalid-session-request')).toBeNull();
  });

  it('the operator token sees every merchant', async () => {
    const me = await w.api('GET', '/me', operatorToken);
    expect(me.body).toMatchObject({ scope: { kind: 'operator' }, actor: 'operator' });
  });

  it('/api/status (the framework\'s session check) still answers beside /api/v1', async () => {
    const res = await fetch(`${w.url}/api/status`, { headers: { authorization: `Bearer ${tokenFor(shopA)}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ shop: shopA, status: 'active' });
  });

  it('webhooks skip the admin\'s middleware: with the API\'s refused-token budget spent, orders/paid still verifies on its raw body', async () => {
    let last = 0;
    for (let i = 0; i < 101; i += 1) last = (await w.api('GET', '/me', 'wrong-token')).status;
    expect(last).toBe(429);
    const raw = JSON.stringify(buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-raw' })] }));
    const res = await fetch(`${w.url}${webhookPaths.ordersPaid}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/paid',
        'x-shopify-shop-domain': shopA,
        'x-shopify-api-version': '2026-07',
        'x-shopify-webhook-id': 'wh-admin-raw',
        'x-shopify-event-id': 'ev-admin-raw',
        'x-shopify-triggered-at': w.clock.now().toISOString(),
        'x-shopify-hmac-sha256': webhookHmac(raw),
      },
      body: raw,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, jobs: 0 });
  });
});

/** A webhook signed as Shopify signs it, to the world's app. */
async function signedWebhook(path: string, topic: string, body: unknown): Promise<Response> {
  const raw = JSON.stringify(body);
  return fetch(`${w.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': shopA,
      'x-shopify-api-version': '2026-07',
      'x-shopify-webhook-id': `wh-${topic}-${raw.length}`,
      'x-shopify-event-id': `ev-${topic}-${raw.length}`,
      'x-shopify-triggered-at': w.clock.now().toISOString(),
      'x-shopify-hmac-sha256': webhookHmac(raw),
    },
    body: raw,
  });
}

describe("customers/data_request: the merchant reads the answer through the API (review #21)", () => {
  beforeEach(async () => {
    w = await startWorld();
    await w.handle.installShop(shopA);
    await w.storeSession(shopA);
  });
  afterEach(async () => {
    await w.close();
  });

  it("what the webhook answered from the store is what the shop's own admin session reads", async () => {
    const merchantId = merchantIdForShop(shopA);
    await w.store.saveOffer(merchantId, buildOffer({ id: 'net-a', captureParams: ['transaction_id'] }), w.clock.now());
    const vid = 'd'.repeat(32);
    const order = buildOrderPayload({ customer: { id: 907 }, note_attributes: [captureAttribute({ id: 'tx-dsr', vid })] });
    expect(await (await signedWebhook(webhookPaths.ordersPaid, 'orders/paid', order)).json()).toEqual({ ok: true, jobs: 1 });
    const request = { shop_id: 1, shop_domain: shopA, orders_requested: [order['id']], customer: { id: 907, email: 'buyer@example.com' }, data_request: { id: 44 } };
    const answered = await signedWebhook(webhookPaths.compliance, 'customers/data_request', request);
    expect(answered.status).toBe(200);
    const { data } = (await answered.json()) as { data: Record<string, unknown> };

    const path = `/merchants/${merchantId}/stores/${encodeURIComponent(shopifyStoreId(shopA))}/customer-data?customerId=907&orderIds=${String(order['id'])}`;
    const read = await w.api('GET', path, tokenFor(shopA));
    expect(read.status).toBe(200);
    expect(read.body['customerData']).toMatchObject({ customerId: '907', customerCapture: { transactionId: 'tx-dsr' }, orders: [{ visitorToken: vid, postbacks: [{ event: 'sale', transactionId: 'tx-dsr' }] }] });
    const { shop: _shop, dataRequestId: _request, ...stored } = data;
    expect(read.body['customerData']).toEqual(stored);
    // another shop's session reads none of it
    await w.handle.installShop('shop-b.myshopify.com');
    await w.storeSession('shop-b.myshopify.com');
    expect((await w.api('GET', path, tokenFor('shop-b.myshopify.com'))).status).toBe(404);
  });
});

describe('the embedded admin page', () => {
  afterEach(async () => {
    await w.close();
  });

  it('is the admin UI in embedded mode, framed by the shop and the Shopify admin only', async () => {
    w = await startWorld();
    const res = await fetch(`${w.url}/index.html?shop=${shopA}&embedded=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors https://${shopA} https://admin.shopify.com`);
    expect(res.headers.get('x-frame-options')).toBeNull();
    const html = await res.text();
    expect(html).toContain(`<meta name="shopify-api-key" content="${apiKey}" />`);
    expect(html).toContain('https://cdn.shopify.com/shopifycloud/app-bridge.js');
  });

  it('answers 503 with how to build the UI when the build failed, still inside the admin\'s frame', async () => {
    w = await startWorld({ ui: { available: false } });
    const res = await fetch(`${w.url}/?shop=${shopA}&embedded=1`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors https://${shopA}`);
    expect(await res.text()).toContain(adminUiBuildCommand);
    expect((await w.api('GET', '/me', operatorToken)).status).toBe(200);
    const assets = await fetch(`${w.url}/assets/index.js`);
    expect(assets.status).toBe(404);
    await assets.arrayBuffer();
  });
});

function settled(draft: PostbackJobDraft, id: string): PostbackJob {
  const at = w.clock.now();
  return { ...draft, id, status: 'succeeded', attempts: 1, scheduleAttempts: 1, nextAttemptAt: at, createdAt: at, updatedAt: at, lastOutcome: 'success', lastError: null, lockedBy: null, leaseUntil: null };
}

describe('write-back', () => {
  it('never tags an order for a test-fire, even one queued with the shop\'s store id', async () => {
    w = await startWorld();
    try {
      await w.handle.installShop(shopA);
      await w.storeSession(shopA);
      const tag = createOrderTagger({ store: w.store, graphql: w.handle.graphql, logger: createMemoryLogger() });
      const storeId = shopifyStoreId(shopA);
      for (const job of [
        buildJobDraft({ storeId: 'test-fire', orderId: 'test-fire:1:ab', idSource: 'manual', merchantId: 'shopify-shop-a' }),
        buildJobDraft({ storeId, orderId: '6000000000001', idSource: 'manual', merchantId: 'shopify-shop-a' }),
      ]) {
        const result = await tag({ job: settled(job, '1'), status: 'succeeded', outcome: 'success' });
        expect(result).toEqual({ kind: 'skipped', reason: 'test-fire' });
      }
      expect(w.graphqlCalls.count).toBe(0);
      // a real job of the shop does reach the Admin API (which answers with an error in this test)
      const real = buildJobDraft({ storeId, orderId: '6000000000002', idSource: 'note_attribute', merchantId: 'shopify-shop-a' });
      const result = await tag({ job: settled(real, '2'), status: 'succeeded', outcome: 'success' });
      expect(result.kind).toBe('failed');
      expect(w.graphqlCalls.count).toBe(1);
    } finally {
      await w.close();
    }
  });
});
