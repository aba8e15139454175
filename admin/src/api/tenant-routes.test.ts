import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { err, ok } from '@clickthread/core';
import { verifyApiToken } from '@clickthread/core/access';
import { startApiHarness, t0, type ApiHarness } from '../testing/api-harness.ts';
import type { ConnectionsAdapter } from './api-deps.ts';

/** Who am I, agencies, merchants, tokens, stores/connections, rate limits. */

describe('tenancy routes', () => {
  let h: ApiHarness;
  const as = (token: string) => ({
    get: (path: string) => request(h.url).get(`/api/v1${path}`).set('authorization', `Bearer ${token}`),
    post: (path: string, body: object = {}) => request(h.url).post(`/api/v1${path}`).set('authorization', `Bearer ${token}`).send(body),
    delete: (path: string) => request(h.url).delete(`/api/v1${path}`).set('authorization', `Bearer ${token}`),
  });

  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('tells the caller who it is and which merchants it sees', async () => {
    const res = await as(h.tokens.agencyA).get('/me');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      scope: { kind: 'agency', agencyId: 'agency-a' },
      actor: `token:${h.tokens.agencyA.slice(3, 13)}`,
      merchants: [
        { id: 'shop-a1', name: 'Shop A1', agencyId: 'agency-a', createdAt: t0.toISOString() },
        { id: 'shop-a2', name: 'Shop A2', agencyId: 'agency-a', createdAt: t0.toISOString() },
      ],
    });
    expect((await as(h.tokens.operator).get('/me')).body.scope).toEqual({ kind: 'operator' });
  });

  it('lets the operator create agencies, and an agency see only itself', async () => {
    const created = await as(h.tokens.operator).post('/agencies', { id: 'agency-c', name: 'Agency C' });
    expect(created.status).toBe(201);
    expect(created.body.agency).toEqual({ id: 'agency-c', name: 'Agency C', createdAt: t0.toISOString() });
    expect((await as(h.tokens.operator).post('/agencies', { id: 'agency-c', name: 'Again' })).status).toBe(409);
    expect((await as(h.tokens.operator).get('/agencies')).body.agencies.map((a: { id: string }) => a.id)).toEqual(['agency-a', 'agency-b', 'agency-c']);
    expect((await as(h.tokens.agencyB).get('/agencies')).body.agencies.map((a: { id: string }) => a.id)).toEqual(['agency-b']);
  });

  it('lets an agency create merchants for itself only', async () => {
    const created = await as(h.tokens.agencyA).post('/merchants', { id: 'shop-a3', name: 'Shop A3' });
    expect(created.status).toBe(201);
    expect(created.body.merchant).toMatchObject({ id: 'shop-a3', agencyId: 'agency-a' });
    const generated = await as(h.tokens.agencyA).post('/merchants', { name: 'No id given' });
    expect(generated.body.merchant.id).toMatch(/^m_[0-9a-f]{16}$/);
    const foreign = await as(h.tokens.agencyA).post('/merchants', { id: 'shop-x', name: 'X', agencyId: 'agency-b' });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.issues).toEqual([{ path: 'body.agencyId', message: 'an agency creates merchants for itself only' }]);
    expect((await as(h.tokens.agencyA).post('/merchants', { id: 'shop-b1', name: 'Taken' })).status).toBe(409);
    expect((await as(h.tokens.operator).post('/merchants', { id: 'shop-y', name: 'Y', agencyId: 'nope' })).body.error.issues[0].path).toBe('body.agencyId');
    expect((await as(h.tokens.operator).post('/merchants', { id: 'shop-z', name: 'Z' })).body.merchant.agencyId).toBeNull();
  });

  it.each([
    ['body.name', { id: 'shop-q' }],
    ['body.name', { id: 'shop-q', name: '   ' }],
    ['body.id', { id: '-bad', name: 'Q' }],
    ['body', { name: 'Q', colour: 'red' }],
  ])('refuses a bad merchant: 400 naming %s', async (path, body) => {
    const res = await as(h.tokens.agencyA).post('/merchants', body);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it('deletes a merchant with everything it owns', async () => {
    await h.store.saveOffer('shop-a2', h.offer(), t0);
    expect((await as(h.tokens.agencyA).get('/merchants/shop-a2')).status).toBe(200);
    expect((await as(h.tokens.agencyA).delete('/merchants/shop-a2')).status).toBe(204);
    expect((await as(h.tokens.agencyA).get('/merchants/shop-a2')).status).toBe(404);
    expect(await h.store.listOffers('shop-a2')).toEqual([]);
  });

  it('issues tokens that work at once, lists them without secrets, and revokes them', async () => {
    const issued = await as(h.tokens.agencyA).post('/tokens', { scope: { kind: 'merchant', merchantId: 'shop-a2' }, label: 'shop a2 CI' });
    expect(issued.status).toBe(201);
    expect(issued.body.token).toMatch(/^ct_[0-9a-f]{10}_/);
    expect(issued.body.record).toMatchObject({ scope: { kind: 'merchant', merchantId: 'shop-a2' }, label: 'shop a2 CI', lastUsedAt: null });
    expect(await verifyApiToken(h.access, issued.body.token)).toBeDefined();
    expect((await as(issued.body.token).get('/me')).body.merchants.map((m: { id: string }) => m.id)).toEqual(['shop-a2']);

    const listed = await as(h.tokens.agencyA).get('/tokens');
    const prefixes = listed.body.tokens.map((t: { prefix: string }) => t.prefix);
    expect(prefixes).toContain(issued.body.record.prefix);
    expect(prefixes).toContain(h.tokens.merchantA1.slice(3, 13));
    expect(prefixes).not.toContain(h.tokens.agencyB.slice(3, 13));
    expect(JSON.stringify(listed.body)).not.toMatch(/hash|ct_[0-9a-f]{10}_/);
    expect((await as(h.tokens.merchantA1).get('/tokens')).body.tokens.map((t: { prefix: string }) => t.prefix)).toEqual([h.tokens.merchantA1.slice(3, 13)]);

    expect((await as(h.tokens.agencyA).delete(`/tokens/${issued.body.record.prefix}`)).status).toBe(204);
    expect((await as(issued.body.token).get('/me')).status).toBe(401);
  });

  it.each([
    ["another agency's merchant", 'agencyA', { scope: { kind: 'merchant', merchantId: 'shop-b1' } }, 404],
    ['another agency', 'agencyA', { scope: { kind: 'agency', agencyId: 'agency-b' } }, 404],
    ['an agency, from a merchant token', 'merchantA1', { scope: { kind: 'agency', agencyId: 'agency-a' } }, 403],
    ['a missing agency, as the operator', 'operator', { scope: { kind: 'agency', agencyId: 'nope' } }, 404],
  ] as const)('refuses a token for %s', async (_, who, body, status) => {
    const res = await as(h.tokens[who]).post('/tokens', body);
    expect(res.status).toBe(status);
    expect(res.body.token).toBeUndefined();
  });

  it.each([
    ['body.scope.kind', { scope: { kind: 'planet' } }],
    ['body.scope.merchantId', { scope: { kind: 'merchant' } }],
    ['body.label', { scope: { kind: 'merchant', merchantId: 'shop-a1' }, label: 'x'.repeat(101) }],
  ])('refuses a bad token request: 400 naming %s', async (path, body) => {
    const res = await as(h.tokens.agencyA).post('/tokens', body);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it('refuses a malformed token prefix: 400 naming params.prefix', async () => {
    const res = await as(h.tokens.agencyA).delete('/tokens/xyz');
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['params.prefix']);
  });

  it('answers an unknown API route with a JSON 404', async () => {
    const res = await as(h.tokens.agencyA).get('/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('store routes', () => {
  let h: ApiHarness;
  const connected: Array<{ merchantId: string; url: string }> = [];
  const removed: string[] = [];
  const connections: ConnectionsAdapter = {
    async connect(merchantId, input) {
      if (input.consumerKey === 'ck_refusedrefused') return err('WooCommerce refused the consumer key/secret (401)');
      connected.push({ merchantId, url: input.url });
      const existing = await h.store.getStore('wc_new');
      await h.store.upsertStore({ id: 'wc_new', merchantId, platform: 'woocommerce', domain: new URL(input.url).host, status: 'active', settings: { webhookIds: { 'order.created': 7 }, consumerSecretSealed: 'x' }, secrets: 'sealed', now: t0 });
      return ok({ storeId: 'wc_new', created: existing === undefined });
    },
    async remove(store, options) {
      if (store.domain === 'unreachable.example' && !options.force) return err('WooCommerce could not be reached');
      removed.push(store.id);
      await h.store.deleteStore(store.id);
      return ok({ warnings: [] });
    },
    async describe(store) {
      return { lastDeliveryAt: '2026-03-10T11:59:00.000Z', webhooks: [{ topic: 'order.created', id: '7', status: 'active' }], reconcileLagSeconds: 60, warnings: store.status === 'disabled' ? ['disabled'] : [] };
    },
    snippet: (store) => `<script src="https://bridge.example/capture.js?store=${store.id}" async></script>`,
  };
  const base = '/api/v1/merchants/shop-a1/stores';
  const wooBody = { url: 'https://woo.example', consumerKey: 'ck_0123456789abcdef', consumerSecret: 'cs_0123456789abcdef' };

  beforeEach(async () => {
    connected.length = 0;
    removed.length = 0;
    h = await startApiHarness({ router: { connections } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('connects a Woo store through the bridge, idempotently, and shows health and snippet without secrets', async () => {
    const first = await request(h.url).post(base).set('authorization', `Bearer ${h.tokens.agencyA}`).send(wooBody);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      created: true,
      store: { id: 'wc_new', merchantId: 'shop-a1', domain: 'woo.example', health: { reconcileLagSeconds: 60 }, snippet: expect.stringContaining('capture.js') },
    });
    expect(first.body.store.settings).toEqual({ webhookIds: { 'order.created': 7 } });
    expect(JSON.stringify(first.body)).not.toContain('sealed');
    const again = await request(h.url).post(base).set('authorization', `Bearer ${h.tokens.agencyA}`).send(wooBody);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    expect(connected).toEqual([
      { merchantId: 'shop-a1', url: 'https://woo.example' },
      { merchantId: 'shop-a1', url: 'https://woo.example' },
    ]);

    const list = await request(h.url).get(base).set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(list.body.canConnect).toBe(true);
    expect(list.body.stores.map((s: { id: string }) => s.id)).toEqual(['wc_new']);
    expect((await request(h.url).get(`${base}/wc_new`).set('authorization', `Bearer ${h.tokens.merchantA1}`)).body.store.health.webhooks).toHaveLength(1);
    expect((await request(h.url).get(`${base}/nope`).set('authorization', `Bearer ${h.tokens.merchantA1}`)).status).toBe(404);
  });

  it('reports a refusal from WooCommerce as 422', async () => {
    const res = await request(h.url).post(base).set('authorization', `Bearer ${h.tokens.agencyA}`).send({ ...wooBody, consumerKey: 'ck_refusedrefused' });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: 'connect_failed', message: 'WooCommerce refused the consumer key/secret (401)' });
  });

  it.each([
    ['body.url', { ...wooBody, url: 'ftp://woo.example' }],
    ['body.url', { ...wooBody, url: 'not a url' }],
    ['body.consumerKey', { ...wooBody, consumerKey: 'key' }],
    ['body.consumerSecret', { ...wooBody, consumerSecret: undefined }],
    ['body.platform', { ...wooBody, platform: 'magento' }],
    ['body.idMetaKeys', { ...wooBody, idMetaKeys: 'one' }],
  ])('refuses a bad connection: 400 naming %s', async (path, body) => {
    const res = await request(h.url).post(base).set('authorization', `Bearer ${h.tokens.agencyA}`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(connected).toEqual([]);
  });

  it('removes a store through the bridge; force when the platform cannot be reached', async () => {
    await h.store.upsertStore({ id: 'wc_far', merchantId: 'shop-a1', platform: 'woocommerce', domain: 'unreachable.example', status: 'active', settings: {}, secrets: null, now: t0 });
    const refused = await request(h.url).delete(`${base}/wc_far`).set('authorization', `Bearer ${h.tokens.agencyA}`);
    expect(refused.status).toBe(502);
    expect(refused.body.error.code).toBe('remove_failed');
    const forced = await request(h.url).delete(`${base}/wc_far`).query({ force: 'true' }).set('authorization', `Bearer ${h.tokens.agencyA}`);
    expect(forced.status).toBe(204);
    expect(removed).toEqual(['wc_far']);
    expect((await request(h.url).delete(`${base}/wc_far`).query({ force: 'yes' }).set('authorization', `Bearer ${h.tokens.agencyA}`)).body.error.issues[0].path).toBe('query.force');
  });

  it('answers 501 for connect, and lets the Store forget a store, when the app plugs nothing in', async () => {
    await h.close();
    h = await startApiHarness();
    await h.store.upsertStore({ id: 'shopify-1', merchantId: 'shop-a1', platform: 'shopify', domain: 'a1.myshopify.com', status: 'active', settings: {}, secrets: 'tok', now: t0 });
    const res = await request(h.url).post(base).set('authorization', `Bearer ${h.tokens.agencyA}`).send(wooBody);
    expect(res.status).toBe(501);
    const list = await request(h.url).get(base).set('authorization', `Bearer ${h.tokens.agencyA}`);
    expect(list.body).toMatchObject({ canConnect: false, stores: [{ id: 'shopify-1', health: null, snippet: null }] });
    expect((await request(h.url).delete(`${base}/shopify-1`).set('authorization', `Bearer ${h.tokens.agencyA}`)).status).toBe(204);
    expect(await h.store.getStore('shopify-1')).toBeUndefined();
  });
});

describe('rate limits', () => {
  let h: ApiHarness;
  afterEach(async () => {
    await h.close();
  });

  it('limits each token on its own (429 with a JSON error), never another token', async () => {
    h = await startApiHarness({ router: { rateLimit: { windowMs: 60_000, limit: 3 } } });
    const me = (token: string) => request(h.url).get('/api/v1/me').set('authorization', `Bearer ${token}`);
    for (let i = 0; i < 3; i += 1) expect((await me(h.tokens.agencyA)).status).toBe(200);
    const limited = await me(h.tokens.agencyA);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.headers['ratelimit-policy']).toBeDefined();
    expect((await me(h.tokens.agencyB)).status).toBe(200);
  });

  it('limits refused requests per address, not successful ones', async () => {
    h = await startApiHarness({ router: { failedAuthLimit: { windowMs: 60_000, limit: 2 } } });
    for (let i = 0; i < 5; i += 1) expect((await request(h.url).get('/api/v1/me').set('authorization', `Bearer ${h.tokens.agencyA}`)).status).toBe(200);
    expect((await request(h.url).get('/api/v1/me')).status).toBe(401);
    expect((await request(h.url).get('/api/v1/me').set('authorization', 'Bearer wrong')).status).toBe(401);
    const limited = await request(h.url).get('/api/v1/me').set('authorization', 'Bearer wrong');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
  });
});

describe('an app\'s own authentication (Shopify session tokens)', () => {
  let h: ApiHarness;
  afterEach(async () => {
    await h.close();
  });

  it('is tried first, and API tokens still work beside it; a principal for a deleted merchant is refused', async () => {
    h = await startApiHarness({
      router: {
        authenticate: async (req) => {
          const shop = req.get('x-test-shop');
          return shop === undefined ? undefined : { scope: { kind: 'merchant', merchantId: shop }, actor: `shopify:${shop}`, rateKey: `shop:${shop}` };
        },
      },
    });
    const viaSession = await request(h.url).get('/api/v1/me').set('x-test-shop', 'shop-b1');
    expect(viaSession.body).toMatchObject({ actor: 'shopify:shop-b1', merchants: [{ id: 'shop-b1' }] });
    expect((await request(h.url).get('/api/v1/merchants/shop-a1').set('x-test-shop', 'shop-b1')).status).toBe(404);
    expect((await request(h.url).get('/api/v1/me').set('authorization', `Bearer ${h.tokens.agencyA}`)).status).toBe(200);
    expect((await request(h.url).get('/api/v1/me').set('x-test-shop', 'uninstalled-shop')).status).toBe(401);
  });
});
