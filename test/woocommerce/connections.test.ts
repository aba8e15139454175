import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemResolver } from '@clickthread/core/delivery';
import { createWooClient, defaultWooRestApiFactory } from '@clickthread/woocommerce-bridge';
import { buildWooOrder, signedDelivery, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { startHarness, type Harness } from './support/harness.ts';
import { post } from './support/send.ts';

const loopbackAllowed = { ssrf: { allowPrivate: true }, resolver: systemResolver };

/** Connecting stores through the real REST client against a fake WooCommerce on loopback. */

let h: Harness;
let woo: FakeWoo;

beforeEach(async () => {
  h = await startHarness();
  woo = await h.startWoo();
});
afterEach(async () => {
  await h.close();
});

const connect = (overrides: Partial<{ consumerSecret: string; merchantId: string; url: string }> = {}) =>
  h.bridge.connections.connectStore({ url: woo.url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, merchantId: 'm1', ...overrides });

describe('connectStore', () => {
  it('checks the keys, creates the four webhooks with its own secret, and Woo pings each one', async () => {
    const result = await connect();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { connection, deliveryUrl, created } = result.value;
    expect(created).toBe(true);
    expect(connection.id).toMatch(/^wc_[0-9a-f]{20}$/);
    expect(deliveryUrl).toBe(`${h.url}/webhooks/woocommerce/${connection.id}`);

    const hooks = woo.webhooks();
    expect(hooks.map((w) => w.topic).toSorted()).toEqual(['order.created', 'order.deleted', 'order.restored', 'order.updated']);
    for (const hook of hooks) {
      expect(hook).toMatchObject({ status: 'active', delivery_url: deliveryUrl });
      expect(hook.secret).toMatch(/^[A-Za-z0-9]{40}$/);
    }
    expect(new Set(hooks.map((w) => w.secret)).size).toBe(1);
    expect(woo.pings.map((p) => p.status)).toEqual([200, 200, 200, 200]);
    expect(woo.requests[0]).toBe('GET /orders');
    expect(connection.settings.webhookIds).toEqual(Object.fromEntries(hooks.map((w) => [w.topic, w.id])));

    // secrets are sealed at rest
    const row = await h.store.getStore(connection.id);
    expect(row?.secrets).toMatch(/^v1\./);
    for (const secret of [woo.consumerKey, woo.consumerSecret, hooks[0]!.secret]) expect(JSON.stringify(row)).not.toContain(secret);
    expect(await h.store.listDomains('m1')).toContain('127.0.0.1');
    // and never logged
    expect(JSON.stringify(h.logger.entries)).not.toContain(woo.consumerSecret);
    expect(JSON.stringify(h.logger.entries)).not.toContain(hooks[0]!.secret);
  });

  it('is idempotent: connecting again keeps the connection, the hooks and the secret', async () => {
    const first = await connect();
    const requestsBefore = woo.requests.length;
    const second = await connect();
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(second.value.created).toBe(false);
    expect(second.value.connection.id).toBe(first.value.connection.id);
    expect(woo.webhooks()).toHaveLength(4);
    expect(woo.requests.slice(requestsBefore).filter((r) => r === 'POST /webhooks')).toEqual([]);
    expect(second.value.webhooks).toMatchObject({ created: [], reactivated: [], removedDuplicates: 0 });
    expect((await h.bridge.connections.listConnections('m1')).map((c) => c.id)).toEqual([first.value.connection.id]);
  });

  it('removes a duplicate hook someone created for the same delivery URL, and re-activates a paused one', async () => {
    const first = await connect();
    if (!first.ok) throw new Error(first.reason);
    const client = createWooClient(defaultWooRestApiFactory({ url: woo.url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, timeoutMs: 5000, network: loopbackAllowed }));
    await client.createWebhook({ name: 'copy', topic: 'order.updated', deliveryUrl: first.value.deliveryUrl, secret: 'whatever' });
    woo.setWebhookStatus(first.value.connection.settings.webhookIds['order.deleted']!, 'paused');
    const again = await connect();
    if (!again.ok) throw new Error(again.reason);
    expect(again.value.webhooks.removedDuplicates).toBe(1);
    expect(again.value.webhooks.reactivated).toEqual(['order.deleted']);
    expect(woo.webhooks().map((w) => w.status)).toEqual(['active', 'active', 'active', 'active']);
  });

  it.each<[string, () => Promise<{ ok: boolean; reason?: string }>, RegExp]>([
    ['a wrong consumer secret', () => connect({ consumerSecret: 'cs_wrong' }), /refused the consumer key\/secret/],
    ['an unknown merchant', () => connect({ merchantId: 'nobody' }), /no merchant with id nobody/],
    ['a URL that is not one', () => connect({ url: 'not a url' }), /not a URL/],
    ['a store that is not there', () => connect({ url: 'http://127.0.0.1:9/' }), /could not be reached/],
  ])('refuses %s and stores nothing', async (_name, run, message) => {
    const result = await run();
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(message);
    expect(await h.store.listStores()).toEqual([]);
    expect(woo.webhooks()).toEqual([]);
  });

  it('refuses a store already connected to another merchant', async () => {
    await h.store.createMerchant({ id: 'm2', name: 'Other', now: h.clock.now() });
    expect((await connect()).ok).toBe(true);
    const other = await connect({ merchantId: 'm2' });
    expect(other.ok ? '' : other.reason).toMatch(/another merchant/);
  });

  it('connects several stores (sibling domains) for one merchant', async () => {
    const sibling = await h.startWoo({ host: '127.0.0.2' });
    expect((await connect()).ok).toBe(true);
    const second = await h.bridge.connections.connectStore({ url: sibling.url, consumerKey: sibling.consumerKey, consumerSecret: sibling.consumerSecret, merchantId: 'm1' });
    expect(second.ok).toBe(true);
    const listed = await h.bridge.connections.listConnections('m1');
    expect(listed.map((c) => c.domain).toSorted()).toEqual([new URL(woo.url).host, new URL(sibling.url).host].toSorted());
    expect(JSON.stringify(listed)).not.toContain(woo.consumerSecret);
    expect(await h.store.listDomains('m1')).toEqual(expect.arrayContaining(['127.0.0.1', '127.0.0.2']));
  });

  it.each([
    ['cloud metadata', 'http://169.254.169.254/', 'link-local'],
    ['an IPv4-mapped metadata address', 'http://[::ffff:169.254.169.254]/', 'link-local'],
    ['a name that resolves to cloud metadata', 'http://metadata.test/', 'metadata.test resolves to 169.254.169.254'],
  ])('refuses a store URL at %s (SSRF), even with local stores allowed, sending and storing nothing', async (_name, url, fragment) => {
    const guarded = await startHarness({ storeResolver: async () => [{ address: '169.254.169.254', family: 4 }] });
    try {
      const result = await guarded.bridge.connections.connectStore({ url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, merchantId: 'm1' });
      expect(result.ok ? '' : result.reason).toMatch(/^the store URL is refused: /);
      expect(result.ok ? '' : result.reason).toContain(fragment);
      expect(await guarded.store.listStores()).toEqual([]);
      expect(await guarded.store.listDomains('m1')).toEqual([]);
    } finally {
      await guarded.close();
    }
  });

  describe('with local stores not allowed (no ALLOW_HTTP_STORES, no ALLOW_PRIVATE_TARGETS)', () => {
    const strictEnv = { CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'false' };

    it('refuses a store on loopback before any request', async () => {
      const strict = await startHarness({ env: strictEnv });
      try {
        const result = await strict.bridge.connections.connectStore({ url: `https://127.0.0.1:${new URL(woo.url).port}/`, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, merchantId: 'm1' });
        expect(result.ok ? '' : result.reason).toBe('the store URL is refused: 127.0.0.1 is a loopback address');
        expect(woo.requests).toEqual([]);
      } finally {
        await strict.close();
      }
    });

    it('checks again when it connects: a name that turned to loopback after the check (DNS rebinding) reaches nothing', async () => {
      let calls = 0;
      const rebinding = async () => (calls++ === 0 ? [{ address: '93.184.216.34', family: 4 as const }] : [{ address: '127.0.0.1', family: 4 as const }]);
      const strict = await startHarness({ env: strictEnv, storeResolver: rebinding });
      try {
        const result = await strict.bridge.connections.connectStore({ url: `https://rebind.test:${new URL(woo.url).port}/`, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, merchantId: 'm1' });
        expect(result.ok ? '' : result.reason).toMatch(/could not be reached: .*the store address is refused: rebind\.test resolves to 127\.0\.0\.1 is a loopback address/);
        expect(calls).toBe(2);
        expect(woo.requests).toEqual([]);
        expect(await strict.store.listStores()).toEqual([]);
      } finally {
        await strict.close();
      }
    });
  });

  it('refuses plain http store URLs unless the setting allows them', async () => {
    const strict = await startHarness({ env: { CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'false' } });
    try {
      const result = await strict.bridge.connections.connectStore({ url: woo.url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, merchantId: 'm1' });
      expect(result.ok ? '' : result.reason).toMatch(/must use https/);
    } finally {
      await strict.close();
    }
  });
});

describe('removeConnection', () => {
  it("deletes the bridge's webhooks in Woo, then the connection; its deliveries are 404 afterwards", async () => {
    const connected = await connect();
    if (!connected.ok) throw new Error(connected.reason);
    const id = connected.value.connection.id;
    const secret = woo.webhooks()[0]!.secret;
    const removed = await h.bridge.connections.removeConnection(id);
    expect(removed).toEqual({ ok: true, value: { webhooksDeleted: 4, warnings: [] } });
    expect(woo.webhooks()).toEqual([]);
    expect(await h.store.getStore(id)).toBeUndefined();
    const d = signedDelivery(buildWooOrder(), { secret, source: woo.url });
    expect((await post(connected.value.deliveryUrl, d.body, d.headers)).status).toBe(404);
  });

  it('refuses when Woo cannot be reached, unless forced', async () => {
    const connected = await connect();
    if (!connected.ok) throw new Error(connected.reason);
    await woo.close();
    const refused = await h.bridge.connections.removeConnection(connected.value.connection.id);
    expect(refused.ok ? '' : refused.reason).toMatch(/--force/);
    expect(await h.store.getStore(connected.value.connection.id)).toBeDefined();
    const forced = await h.bridge.connections.removeConnection(connected.value.connection.id, { force: true });
    expect(forced.ok).toBe(true);
    expect(await h.store.getStore(connected.value.connection.id)).toBeUndefined();
  });
});
