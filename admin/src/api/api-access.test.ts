import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJobDraft } from '@clickthread/core/testing';
import { issueApiToken, tokenPrefixOf } from '@clickthread/core/access';
import { startApiHarness, t0, type ApiHarness } from '../testing/api-harness.ts';
import { apiRoutes } from './create-api-router.ts';

/**
 * Authentication and tenant isolation, for every route: no token → 401; another tenant's token →
 * 404 and nothing of the resource in the answer, nothing changed; a deleted merchant's or agency's
 * token → 401. The example table must cover every route, so a new route cannot skip these checks.
 */

interface Example {
  readonly query?: Record<string, string>;
  readonly body?: unknown;
}

/** A valid request per route, aimed at shop-a1 (agency-a) and its resources. */
function examplesFor(h: ApiHarness): Record<string, Example> {
  const offer = h.offer();
  return {
    'get /me': {},
    'get /agencies': {},
    'post /agencies': { body: { id: 'agency-new', name: 'New' } },
    'get /merchants': {},
    'post /merchants': { body: { id: 'shop-new', name: 'New shop' } },
    'get /merchants/:merchantId': {},
    'delete /merchants/:merchantId': {},
    'get /tokens': {},
    'post /tokens': { body: { scope: { kind: 'merchant', merchantId: 'shop-a1' }, label: 'x' } },
    'delete /tokens/:prefix': {},
    'get /merchants/:merchantId/stores': {},
    'post /merchants/:merchantId/stores': { body: { url: 'https://woo.example', consumerKey: 'ck_0123456789abcdef', consumerSecret: 'cs_0123456789abcdef' } },
    'get /merchants/:merchantId/stores/:storeId': {},
    'get /merchants/:merchantId/stores/:storeId/customer-data': { query: { customerId: '901' } },
    'delete /merchants/:merchantId/stores/:storeId': {},
    'get /presets': {},
    'post /preview': { body: { offer } },
    'get /merchants/:merchantId/offers': {},
    'post /merchants/:merchantId/offers': { body: { ...offer, id: 'another-offer' } },
    'get /merchants/:merchantId/offers/:offerId': {},
    'put /merchants/:merchantId/offers/:offerId': { body: { ...offer, name: 'Changed' } },
    'delete /merchants/:merchantId/offers/:offerId': {},
    'post /merchants/:merchantId/offers/:offerId/enable': {},
    'post /merchants/:merchantId/offers/:offerId/disable': {},
    'get /merchants/:merchantId/offers/:offerId/audit': {},
    'get /merchants/:merchantId/audit': {},
    'get /merchants/:merchantId/export/offers': {},
    'post /merchants/:merchantId/import/offers': { body: { offers: [{ ...offer, name: 'Imported' }] } },
    'post /merchants/:merchantId/offers/:offerId/test-fire': { body: {} },
    'get /merchants/:merchantId/postbacks': {},
    'get /merchants/:merchantId/postbacks/:jobId': {},
    'post /merchants/:merchantId/postbacks/:jobId/replay': {},
    'get /merchants/:merchantId/dead-letters': {},
    'post /merchants/:merchantId/dead-letters/replay': { body: {} },
    'get /merchants/:merchantId/unattributed': {},
    'get /merchants/:merchantId/write-backs': {},
    'get /merchants/:merchantId/overview': {},
  };
}

const routeKeys = apiRoutes().map((r) => `${r.method} ${r.path}`);
const merchantRouteKeys = routeKeys.filter((k) => k.includes(':merchantId'));

describe('API access control', () => {
  let h: ApiHarness;
  let examples: Record<string, Example>;
  let a1TokenPrefix: string;
  let deadJobId: string;

  function send(key: string, token: string | undefined, merchantId = 'shop-a1') {
    const [method, path] = key.split(' ') as [string, string];
    const example = examples[key];
    if (!example) throw new Error(`no example request for ${key}`);
    const url = `/api/v1${path
      .replace(':merchantId', merchantId)
      .replace(':offerId', 'tune-main')
      .replace(':storeId', 's1')
      .replace(':jobId', deadJobId)
      .replace(':prefix', a1TokenPrefix)}`;
    const agent = request(h.url);
    let req = method === 'get' ? agent.get(url) : method === 'post' ? agent.post(url) : method === 'put' ? agent.put(url) : agent.delete(url);
    if (token !== undefined) req = req.set('authorization', `Bearer ${token}`);
    if (example.query) req = req.query(example.query);
    return example.body === undefined ? req : req.send(example.body as object);
  }

  beforeAll(async () => {
    h = await startApiHarness();
    examples = examplesFor(h);
    a1TokenPrefix = tokenPrefixOf(h.tokens.merchantA1) ?? '';
    // shop-a1 owns an offer, a store and a dead postback, so every 404 below is isolation, not absence
    await h.store.saveOffer('shop-a1', h.offer(), t0);
    await h.store.upsertStore({ id: 's1', merchantId: 'shop-a1', platform: 'woocommerce', domain: 'a1.example', status: 'active', settings: {}, secrets: null, now: t0 });
    await h.store.enqueue({ jobs: [buildJobDraft({ merchantId: 'shop-a1', storeId: 's1', url: `${h.tracker.url}/dead?security_token=s3cret`, allowHttp: true })], now: t0 });
    h.tracker.behave('/dead', { kind: 'reply', status: 500 });
    await h.worker.runOnce();
    h.clock.advance(2000);
    await h.worker.runOnce();
    const [job] = await h.store.listJobs({ merchantId: 'shop-a1' });
    if (job?.status !== 'dead') throw new Error(`setup: the job should be dead, is ${job?.status}`);
    deadJobId = job.id;
  });
  afterAll(async () => {
    await h.close();
  });

  it('has an example request for every route', () => {
    expect(Object.keys(examples).toSorted()).toEqual(routeKeys.toSorted());
  });

  it.each(routeKeys)('%s without a token → 401', async (key) => {
    const res = await send(key, undefined);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it.each([
    ['a malformed token', 'nonsense'],
    ['an unknown token', 'ct_0123456789_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a token with a wrong secret', 'WRONG'],
    ['a Basic header', 'BASIC'],
  ])('refuses %s with 401', async (_, token) => {
    const value = token === 'WRONG' ? `${h.tokens.agencyA.slice(0, -2)}xx` : token;
    const header = token === 'BASIC' ? `Basic ${Buffer.from('a:b').toString('base64')}` : `Bearer ${value}`;
    const res = await request(h.url).get('/api/v1/me').set('authorization', header);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  describe.each([
    ['agency-b token', 'agencyB'],
    ['shop-b1 merchant token', 'merchantB1'],
  ] as const)("another tenant's %s", (_, who) => {
    it.each(merchantRouteKeys)('%s on shop-a1 → 404 with nothing of it', async (key) => {
      const res = await send(key, h.tokens[who]);
      // merchant tokens are refused agency-only routes before any lookup (403), never with data
      const expected = who === 'merchantB1' && key === 'delete /merchants/:merchantId' ? 403 : 404;
      expect(res.status).toBe(expected);
      const text = JSON.stringify(res.body);
      for (const secret of ['Shop A1', 'a1.example', 'tune-main', 's3cret', h.tracker.url]) expect(text).not.toContain(secret);
    });
  });

  it("left every one of shop-a1's resources untouched", async () => {
    expect(await h.store.getMerchant('shop-a1')).toBeDefined();
    expect(await h.store.getOffer('shop-a1', 'tune-main')).toEqual(h.offer());
    expect(await h.store.getOffer('shop-a1', 'another-offer')).toBeUndefined();
    expect(await h.store.getStore('s1')).toBeDefined();
    expect((await h.store.getJob(deadJobId))?.status).toBe('dead');
    expect(await h.access.listAudit({ merchantId: 'shop-a1' })).toEqual([]);
    expect(h.tracker.requestsTo('/aff_lsr')).toEqual([]);
    expect(await h.access.findToken(a1TokenPrefix)).toBeDefined();
  });

  it("another agency's token cannot revoke shop-a1's token", async () => {
    const res = await send('delete /tokens/:prefix', h.tokens.agencyB);
    expect(res.status).toBe(404);
    expect(await h.access.findToken(a1TokenPrefix)).toBeDefined();
  });

  it('sees only its own merchants in lists', async () => {
    const list = async (token: string) => (await request(h.url).get('/api/v1/merchants').set('authorization', `Bearer ${token}`)).body.merchants.map((m: { id: string }) => m.id);
    expect(await list(h.tokens.operator)).toEqual(['shop-a1', 'shop-a2', 'shop-b1']);
    expect(await list(h.tokens.agencyA)).toEqual(['shop-a1', 'shop-a2']);
    expect(await list(h.tokens.agencyB)).toEqual(['shop-b1']);
    expect(await list(h.tokens.merchantA1)).toEqual(['shop-a1']);
  });

  it("refuses a deleted merchant's token with 401", async () => {
    const { token } = await issueApiToken(h.access, { scope: { kind: 'merchant', merchantId: 'shop-a2' }, label: '', now: t0 });
    expect((await request(h.url).get('/api/v1/merchants/shop-a2').set('authorization', `Bearer ${token}`)).status).toBe(200);
    const del = await request(h.url).delete('/api/v1/merchants/shop-a2').set('authorization', `Bearer ${h.tokens.agencyA}`);
    expect(del.status).toBe(204);
    const after = await request(h.url).get('/api/v1/me').set('authorization', `Bearer ${token}`);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
  });

  it("refuses a deleted merchant's token with 401 even while the token row remains", async () => {
    await h.store.createMerchant({ id: 'shop-gone', name: 'Gone', agencyId: 'agency-a', now: t0 });
    const { token } = await issueApiToken(h.access, { scope: { kind: 'merchant', merchantId: 'shop-gone' }, label: '', now: t0 });
    // deleted behind the API's back (e.g. by Shopify's shop/redact): the token row is still there
    await h.store.deleteMerchant('shop-gone');
    expect((await request(h.url).get('/api/v1/me').set('authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it("refuses a deleted agency's token with 401", async () => {
    await h.access.createAgency({ id: 'agency-gone', name: 'Gone', now: t0 });
    const { token } = await issueApiToken(h.access, { scope: { kind: 'agency', agencyId: 'agency-gone' }, label: '', now: t0 });
    expect((await request(h.url).get('/api/v1/me').set('authorization', `Bearer ${token}`)).status).toBe(200);
    await h.access.deleteAgency('agency-gone');
    expect((await request(h.url).get('/api/v1/me').set('authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('refuses a revoked token with 401', async () => {
    const { token, record } = await issueApiToken(h.access, { scope: { kind: 'merchant', merchantId: 'shop-a1' }, label: '', now: t0 });
    const revoke = await request(h.url).delete(`/api/v1/tokens/${record.prefix}`).set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(revoke.status).toBe(204);
    expect((await request(h.url).get('/api/v1/me').set('authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it.each([
    ['get /agencies', 'merchantA1', 403],
    ['post /agencies', 'agencyA', 403],
    ['post /merchants', 'merchantA1', 403],
  ] as const)('%s with the %s token → %i', async (key, who, status) => {
    const res = await send(key, h.tokens[who]);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('never logs a token', () => {
    const logged = JSON.stringify(h.logger.entries);
    for (const token of Object.values(h.tokens)) expect(logged).not.toContain(token);
  });
});
