import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './shopify-harness.ts';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
  await h.saveOffer();
});

afterEach(async () => {
  await h.close();
});

const click = { cartToken: 'c1-0a1b2c3d', id: 'tx-proxy-1', p: 'transaction_id', t: '2026-03-02T11:00:00.000Z', vid: 'c'.repeat(32), x: { aff_sub: 'sub-7' } };

async function capture(kind: 'cart_token' | 'visitor' | 'customer', key: string) {
  return h.store.getCapture((await h.shop()).merchantId, kind, key);
}

describe('app proxy: POST /apps/clickthread/capture', () => {
  it('registers cart token, visitor and logged-in customer → ID when Shopify signed the query', async () => {
    const res = await h.proxy(click, { customerId: '4206822293653', forwardedHost: 'shop-a.example.de' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, stored: ['cart_token', 'visitor', 'customer'] });
    const stored = await capture('cart_token', 'c1-0a1b2c3d');
    expect(stored).toMatchObject({ transactionId: 'tx-proxy-1', param: 'transaction_id', extras: { aff_sub: 'sub-7' }, domain: 'shop-a.example.de' });
    expect(stored?.capturedAt.toISOString()).toBe('2026-03-02T11:00:00.000Z');
    expect(await capture('visitor', 'c'.repeat(32))).toMatchObject({ transactionId: 'tx-proxy-1' });
    expect(await capture('customer', '4206822293653')).toMatchObject({ transactionId: 'tx-proxy-1' });
    // all three came through this shop's storefront: shop/redact takes them along
    const shopId = (await h.shop()).id;
    for (const [kind, key] of [['cart_token', 'c1-0a1b2c3d'], ['visitor', 'c'.repeat(32)], ['customer', '4206822293653']] as const) {
      expect(await capture(kind, key)).toMatchObject({ storeId: shopId });
    }
  });

  it('last click wins by default; the first click stays when every offer says first click', async () => {
    await h.proxy(click);
    await h.proxy({ ...click, id: 'tx-proxy-2', t: '2026-03-02T11:30:00.000Z' });
    expect((await capture('cart_token', click.cartToken))?.transactionId).toBe('tx-proxy-2');

    await h.saveOffer({ attribution: { windowDays: 30, model: 'first_click' } });
    await h.proxy({ ...click, id: 'tx-proxy-3', t: '2026-03-02T11:40:00.000Z' });
    expect((await capture('cart_token', click.cartToken))?.transactionId).toBe('tx-proxy-2');
  });

  it.each([
    ['signed with another key', { signWith: 'not-the-client-secret' }],
    ['a timestamp 91 s old (replay)', { timestamp: Math.floor(Date.parse('2026-03-02T12:05:00.000Z') / 1000) - 91 }],
    ['a timestamp 91 s ahead', { timestamp: Math.floor(Date.parse('2026-03-02T12:05:00.000Z') / 1000) + 91 }],
    ['the shop changed after signing', { tamper: (q: URLSearchParams) => q.set('shop', 'shop-b.myshopify.com') }],
    ['the customer changed after signing', { tamper: (q: URLSearchParams) => q.set('logged_in_customer_id', '1') }],
    ['no signature', { tamper: (q: URLSearchParams) => q.delete('signature') }],
    ['two signatures', { tamper: (q: URLSearchParams) => q.append('signature', '0'.repeat(64)) }],
  ])('refuses a request %s with 401 and stores nothing', async (_what, options) => {
    const res = await h.proxy(click, options);
    expect(res.status).toBe(401);
    expect(await capture('cart_token', click.cartToken)).toBeUndefined();
  });

  it('accepts a timestamp 90 s off (the allowed skew)', async () => {
    const res = await h.proxy(click, { timestamp: Math.floor(h.clock.now().getTime() / 1000) - 90 });
    expect(res.status).toBe(200);
  });

  it.each([
    ['not JSON', '{cartToken:'],
    ['no cart token and no visitor', { id: 'tx', p: 'transaction_id', t: '2026-03-02T11:00:00.000Z', x: {} }],
    ['an ID with markup', { ...click, id: '<script>' }],
    ['an ID that is empty', { ...click, id: '' }],
    ['a time that is not a time', { ...click, t: 'yesterday' }],
    ['a time in the future', { ...click, t: '2026-03-03T00:00:00.000Z' }],
    ['an unknown field', { ...click, extra: 1 }],
    ['a cart token with spaces', { ...click, cartToken: 'c1 abc' }],
  ])('refuses a body with %s (400)', async (_what, body) => {
    const res = await h.proxy(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.any(String) });
    expect(await capture('cart_token', click.cartToken)).toBeUndefined();
  });

  it('refuses a parameter none of the shop\'s offers reads (422)', async () => {
    const res = await h.proxy({ ...click, p: 'gclid' });
    expect(res.status).toBe(422);
  });

  it('answers 404 for a shop without an active installation', async () => {
    const res = await h.proxy(click, { shop: 'other-shop.myshopify.com' });
    expect(res.status).toBe(404);
  });
});

describe('app proxy: the click time', () => {
  it('dates an old report no earlier than a day ago, as the bridge does', async () => {
    const res = await h.proxy({ ...click, t: '2026-02-27T12:05:00.000Z' });
    expect(res.status).toBe(200);
    expect((await capture('cart_token', click.cartToken))?.capturedAt.toISOString()).toBe('2026-03-01T12:05:00.000Z');
  });

  it('refuses a click older than the offers\' attribution window (422) and stores nothing', async () => {
    const res = await h.proxy({ ...click, t: '2026-01-15T12:00:00.000Z' });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: expect.stringContaining('attribution window') });
    expect(await capture('cart_token', click.cartToken)).toBeUndefined();
  });
});

async function restart(env: Record<string, string>): Promise<void> {
  await h.close();
  h = await startHarness({ env: { SHOPIFY_PROXY_CAPTURES_PER_MINUTE: '3', ...env } });
  await h.saveOffer();
}

async function burst(forwardedFor: string, n: number, tag: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += 1) statuses.push((await h.proxy({ ...click, cartToken: `c1-${tag}-${i}` }, { forwardedFor })).status);
  return statuses;
}

describe('app proxy: a budget per shopper (req.ip with CLICKTHREAD_TRUST_PROXY)', () => {
  it('reached straight from Shopify (1 hop): the address Shopify appended, whatever the shopper sent', async () => {
    await restart({ CLICKTHREAD_TRUST_PROXY: '1' });
    expect(await burst('198.51.100.7', 4, 'a')).toEqual([200, 200, 200, 429]);
    // Shopify appends the address it saw: a shopper cannot pick another key by sending their own header
    expect(await burst('203.0.113.99, 198.51.100.7', 1, 'spoof')).toEqual([429]);
    expect(await burst('198.51.100.8', 1, 'b')).toEqual([200]);
    // unsigned requests do not spend anyone's budget
    expect((await h.proxy(click, { forwardedFor: '198.51.100.8', signWith: 'wrong' })).status).toBe(401);
  });

  it('behind a load balancer (2 hops): each shopper has a budget, not Shopify\'s egress address', async () => {
    await restart({ CLICKTHREAD_TRUST_PROXY: '2' });
    // shopper, then Shopify's egress as the load balancer appended it
    expect(await burst('198.51.100.7, 203.0.113.1', 4, 'a')).toEqual([200, 200, 200, 429]);
    expect(await burst('198.51.100.8, 203.0.113.1', 3, 'b')).toEqual([200, 200, 200]);
    expect(await burst('192.0.2.50, 198.51.100.8, 203.0.113.1', 1, 'spoof')).toEqual([429]);
  });

  it('with trust proxy off (the default) X-Forwarded-For counts for nothing: one budget per connecting address', async () => {
    await restart({});
    expect(await burst('198.51.100.7', 3, 'a')).toEqual([200, 200, 200]);
    expect(await burst('198.51.100.8', 1, 'b')).toEqual([429]);
  });
});
