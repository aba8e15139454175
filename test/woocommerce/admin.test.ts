import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger, ManualClock } from '@clickthread/core';
import { createAccessStore, type AccessStore } from '@clickthread/core/access';
import { createUndiciTransport, createWorker, type Transport, type Worker } from '@clickthread/core/delivery';
import { createSqliteStore, type Store } from '@clickthread/core/storage';
import { startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import { adminUiBuildCommand, type AdminUiState } from '@clickthread/admin';
import { createBridge, lastWebhookWriteIntervalMs, loadBridgeConfig, type Bridge } from '@clickthread/woocommerce-bridge';
import { signedDelivery, startFakeWoo, wooOrderAt, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { startLoopbackServer } from './support/loopback-server.ts';

/**
 * The bridge with the admin mounted (createBridge with an access store, the shared transport and
 * the worker's wake-up), on a real HTTP server whose URL is the bridge's public URL, so the fake
 * WooCommerce store delivers its webhooks for real.
 */

const operatorToken = 'operator-token-for-bridge-tests-0123456789abcdef';

interface World {
  readonly url: string;
  readonly clock: ManualClock;
  readonly store: Store;
  readonly access: AccessStore;
  readonly bridge: Bridge;
  readonly worker: Worker;
  readonly woo: FakeWoo;
  readonly tracker: FakeTracker;
  readonly logger: ReturnType<typeof createMemoryLogger>;
  readonly wakes: { count: number };
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  connect(): Promise<string>;
  close(): Promise<void>;
}

async function startWorld(options: { ui?: AdminUiState } = {}): Promise<World> {
  const clock = new ManualClock('2026-11-21T18:26:00.000Z');
  const logger = createMemoryLogger();
  const store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  const access = createAccessStore(store);
  await access.migrate();
  const tracker = await startFakeTracker();
  tracker.behave('*', { kind: 'tune', answer: 'success' });
  const woo = await startFakeWoo({ clock });

  const server = await startLoopbackServer();
  const url = server.url;
  const config = loadBridgeConfig({
    NODE_ENV: 'test',
    CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('base64'),
    CLICKTHREAD_WOO_PUBLIC_URL: url,
    CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
    CLICKTHREAD_ALLOW_PRIVATE_TARGETS: 'true',
    CLICKTHREAD_ADMIN_TOKEN: operatorToken,
  });
  const ssrf = { allowPrivate: true };
  const transport: Transport = createUndiciTransport({ ssrf });
  const wakes = { count: 0 };
  const bridge = createBridge({
    config,
    store,
    clock,
    logger,
    admin: {
      access,
      transport,
      wakeWorker: () => {
        wakes.count += 1;
        worker.wake();
      },
      ...(options.ui ? { ui: options.ui } : {}),
    },
  });
  const worker = createWorker({ store, clock, logger, ssrf, transport, onSettled: bridge.onSettled, timeoutMs: 5000 });
  server.serve(bridge.app);
  await store.createMerchant({ id: 'm1', name: 'Merchant One', now: clock.now() });

  const world: World = {
    url,
    clock,
    store,
    access,
    bridge,
    worker,
    woo,
    tracker,
    logger,
    wakes,
    async api(method, path, body, token = operatorToken) {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    },
    async connect() {
      const res = await world.api('POST', '/merchants/m1/stores', { url: woo.url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, idMetaKeys: ['_transaction_id_demo'] });
      if (res.status !== 201) throw new Error(`connect failed: ${JSON.stringify(res.body)}`);
      return (res.body['store'] as { id: string }).id;
    },
    async close() {
      await worker.stop();
      await bridge.close();
      await woo.close();
      await tracker.close();
      await transport.close();
      await server.close();
      await store.close();
    },
  };
  return world;
}

type Health = { lastDeliveryAt: string | null; reconcileLagSeconds: number | null; lastReconcileAt: string | null; pendingOrders: number; warnings: string[]; webhooks: Array<{ topic: string; status: string }> };

let w: World;

async function health(storeId: string): Promise<Health> {
  const res = await w.api('GET', `/merchants/m1/stores/${storeId}`);
  expect(res.status).toBe(200);
  return (res.body['store'] as { health: Health }).health;
}

describe('the bridge with the admin mounted', () => {
  beforeEach(async () => {
    w = await startWorld();
  });
  afterEach(async () => {
    await w.close();
  });

  it('records the last verified webhook delivery, at most once a minute per connection', async () => {
    const storeId = await w.connect();
    expect((await health(storeId)).lastDeliveryAt).toBeNull();
    const first = w.clock.now().toISOString();
    await w.woo.addOrder(wooOrderAt(w.clock.now(), { id: 40, status: 'pending' }));
    expect((await health(storeId)).lastDeliveryAt).toBe(first);

    // within the minute: the stored time stays (no write on the hot path)
    w.clock.advance(lastWebhookWriteIntervalMs - 1000);
    const updatedAt = (await w.store.getStore(storeId))?.updatedAt.toISOString();
    await w.woo.updateOrder(40, { status: 'on-hold' });
    expect((await health(storeId)).lastDeliveryAt).toBe(first);
    expect((await w.store.getStore(storeId))?.updatedAt.toISOString()).toBe(updatedAt);

    w.clock.advance(2000);
    await w.woo.updateOrder(40, { status: 'cancelled' });
    expect((await health(storeId)).lastDeliveryAt).toBe(w.clock.now().toISOString());
  });

  it('a refused delivery (bad signature) is not a delivery', async () => {
    const storeId = await w.connect();
    const delivery = signedDelivery(wooOrderAt(w.clock.now(), { id: 41 }), { secret: 'not-the-secret', source: w.woo.url });
    const res = await fetch(`${w.url}/webhooks/woocommerce/${storeId}`, { method: 'POST', headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(401);
    await res.arrayBuffer();
    expect((await health(storeId)).lastDeliveryAt).toBeNull();
  });

  it('describes webhook health from WooCommerce: disabled and missing hooks, reconciliation lag, pending orders', async () => {
    const storeId = await w.connect();
    const hooks = w.woo.webhooks();
    const updated = hooks.find((h) => h.topic === 'order.updated');
    const deleted = hooks.find((h) => h.topic === 'order.deleted');
    if (!updated || !deleted) throw new Error('the bridge did not create its webhooks');
    w.woo.setWebhookStatus(updated.id, 'disabled');
    w.woo.deleteWebhook(deleted.id);

    let h = await health(storeId);
    expect(h.webhooks.map((x) => `${x.topic} ${x.status}`).toSorted()).toEqual(['order.created active', 'order.restored active', 'order.updated disabled']);
    expect(h.warnings).toEqual([
      'webhook order.updated is disabled (the next reconciliation re-enables it)',
      'webhook order.deleted is missing (the next reconciliation recreates it)',
    ]);
    expect(h.reconcileLagSeconds).toBeNull();

    const [report] = await w.bridge.reconciler.runOnce();
    expect(report?.ok).toBe(true);
    const reconciledAt = w.clock.now().toISOString();
    w.clock.advance(90_000);
    h = await health(storeId);
    expect(h).toMatchObject({ reconcileLagSeconds: 90, lastReconcileAt: reconciledAt, pendingOrders: 0, warnings: [] });
  });

  it('says when WooCommerce cannot be reached, and still answers', async () => {
    const storeId = await w.connect();
    await w.woo.close();
    const h = await health(storeId);
    expect(h.webhooks).toEqual([]);
    expect(h.warnings).toEqual([expect.stringMatching(/^the webhooks could not be read from WooCommerce: WooCommerce could not be reached/)]);
  });

  it('removes a Woo store with its webhooks; refuses to remove a Shopify shop from the bridge', async () => {
    const storeId = await w.connect();
    expect(w.woo.webhooks()).toHaveLength(4);
    expect((await w.api('DELETE', `/merchants/m1/stores/${storeId}`)).status).toBe(204);
    expect(w.woo.webhooks()).toEqual([]);
    expect(await w.store.getStore(storeId)).toBeUndefined();

    await w.store.upsertStore({ id: 'shopify:shop-a.myshopify.com', merchantId: 'm1', platform: 'shopify', domain: 'shop-a.myshopify.com', status: 'active', settings: {}, secrets: null, now: w.clock.now() });
    const refused = await w.api('DELETE', `/merchants/m1/stores/${encodeURIComponent('shopify:shop-a.myshopify.com')}`);
    expect(refused.status).toBe(502);
    expect(JSON.stringify(refused.body)).toContain('shop-a.myshopify.com is a shopify store');
    expect(await w.store.getStore('shopify:shop-a.myshopify.com')).toBeDefined();
  });

  it('a connect the store refuses is a 422 with WooCommerce\'s reason', async () => {
    const res = await w.api('POST', '/merchants/m1/stores', { url: w.woo.url, consumerKey: w.woo.consumerKey, consumerSecret: 'cs_wrongwrongwrongwrong' });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('WooCommerce refused the consumer key/secret');
  });

  it('a replay wakes the worker', async () => {
    expect((await w.api('POST', '/merchants/m1/offers', {
      id: 'net-a',
      name: 'Network A',
      network: 'custom',
      allowHttp: true,
      postbacks: { sale: { url: `${w.tracker.url}/pb?tid={transaction_id}` } },
    })).status).toBe(201);
    const fired = await w.api('POST', '/merchants/m1/offers/net-a/test-fire', { via: 'outbox' });
    expect(fired.status).toBe(202);
    expect(w.wakes.count).toBe(1);
  });

  it('webhooks skip the admin\'s middleware: with the API\'s refused-token budget spent, a delivery still verifies on its raw bytes', async () => {
    const storeId = await w.connect();
    // the API counts refused tokens per address (100 per 15 minutes) and then answers 429
    let last = 0;
    for (let i = 0; i < 101; i += 1) last = (await w.api('GET', '/me', undefined, 'wrong-token')).status;
    expect(last).toBe(429);

    const order = wooOrderAt(w.clock.now(), { id: 42, status: 'processing' });
    const delivery = signedDelivery(order, { secret: w.woo.webhooks()[0]?.secret ?? '', source: w.woo.url });
    expect(delivery.body.toString('utf8')).toContain('\\/');
    const res = await fetch(`${w.url}/webhooks/woocommerce/${storeId}`, { method: 'POST', headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: true });
    // the same bytes re-serialized (slashes unescaped) no longer match the signature
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(delivery.body.toString('utf8'))));
    const tampered = await fetch(`${w.url}/webhooks/woocommerce/${storeId}`, { method: 'POST', headers: delivery.headers, body: reserialized });
    expect(tampered.status).toBe(401);
    await tampered.arrayBuffer();
  });

  it('serves the standalone UI at /admin/ and answers JSON 404s elsewhere', async () => {
    const page = await fetch(`${w.url}/admin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(await page.text()).toContain('"mode":"standalone"');
    const missing = await fetch(`${w.url}/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found' });
  });
});

describe('the admin UI when it could not be built', () => {
  beforeEach(async () => {
    w = await startWorld({ ui: { available: false } });
  });
  afterEach(async () => {
    await w.close();
  });

  it('/admin answers 503 with how to build it; the API still works', async () => {
    for (const path of ['/admin', '/admin/', '/admin/assets/index.js']) {
      const res = await fetch(`${w.url}${path}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      expect(await res.text()).toContain(adminUiBuildCommand);
    }
    expect((await w.api('GET', '/me')).status).toBe(200);
  });
});
