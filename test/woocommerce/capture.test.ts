import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wooOrderAt, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { startHarness, type Harness } from './support/harness.ts';
import { newVisitor, reportClick, reportOrder, sendCapture } from './support/storefront.ts';

/** `GET /capture.js` and `POST /capture` over real HTTP, as the storefront script uses them. */

let h: Harness;
let woo: FakeWoo;
let origin: string;

beforeEach(async () => {
  h = await startHarness({ env: { CLICKTHREAD_WOO_CAPTURE_RATE_LIMIT: '20' } });
  await h.saveOffer({ extraParams: ['aff_sub'] });
  woo = await h.startWoo();
  await h.connect(woo);
  origin = woo.url.replace(/\/$/, '');
});
afterEach(async () => {
  await h.close();
});

const click = (overrides: Record<string, unknown> = {}) => ({
  type: 'click',
  merchant: 'm1',
  id: 'tx-1',
  p: 'transaction_id',
  t: h.clock.now().toISOString(),
  vid: 'a'.repeat(32),
  x: {},
  domain: '127.0.0.1',
  ...overrides,
});

describe('GET /capture.js', () => {
  it("serves core's script with the merchant's config in front, cacheable", async () => {
    const res = await fetch(`${h.url}/capture.js?m=m1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=300/);
    const body = await res.text();
    const match = /^window\.__clickthreadConfig=(\{.*?\});\n/.exec(body);
    expect(match).not.toBeNull();
    const config = JSON.parse(match?.[1] ?? '{}') as Record<string, unknown>;
    expect(config).toMatchObject({
      platform: 'woocommerce',
      merchant: 'm1',
      endpoint: `${h.url}/capture`,
      params: ['transaction_id', 'click_id', 'utm_content'],
      extraParams: ['aff_sub'],
      consent: 'none',
    });
    expect(config['siblingDomains']).toContain('127.0.0.1');
    expect(body.length).toBeGreaterThan(match?.[0].length ?? 0);

    const etag = res.headers.get('etag');
    expect(etag).not.toBeNull();
    // as a browser revalidates (fetch() itself would add no-cache to a conditional request)
    const again = await fetch(`${h.url}/capture.js?m=m1`, { headers: { 'if-none-match': etag ?? '', 'cache-control': 'max-age=0' } });
    expect(again.status).toBe(304);
  });

  it.each([
    ['no merchant', '/capture.js', 400],
    ['an unknown merchant', '/capture.js?m=nobody', 404],
    ['a merchant id with odd characters', '/capture.js?m=%3Cscript%3E', 400],
  ])('answers %s with %i', async (_name, path, status) => {
    const res = await fetch(`${h.url}${path}`);
    expect(res.status).toBe(status);
    expect(await res.text()).toMatch(/^\/\* clickthread: /);
  });

  it('serves a harmless comment to a merchant without offers', async () => {
    await h.store.deleteOffer('m1', 'net-a');
    const res = await fetch(`${h.url}/capture.js?m=m1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^\/\* clickthread: nothing to capture/);
  });
});

describe('POST /capture', () => {
  it('stores a click for the merchant, keeping only the extras the offers use', async () => {
    const res = await sendCapture(h, origin, click({ x: { aff_sub: 'pub-7', other: 'dropped' } }));
    expect(res.status).toBe(204);
    const stored = await h.store.getCapture('m1', 'visitor', 'a'.repeat(32));
    expect(stored).toMatchObject({ transactionId: 'tx-1', param: 'transaction_id', extras: { aff_sub: 'pub-7' }, domain: '127.0.0.1' });
  });

  it("marks a click made on a connected store's storefront as that store's; one on another domain of the merchant as the merchant's alone", async () => {
    const [connection] = await h.store.listStores('m1');
    expect(await sendCapture(h, origin, click())).toMatchObject({ status: 204 });
    expect(await h.store.getCapture('m1', 'visitor', 'a'.repeat(32))).toMatchObject({ storeId: connection?.id });

    // a landing site of the merchant's that is no connected store
    expect((await h.store.addDomain('m1', 'landing.example')).ok).toBe(true);
    const landing = click({ vid: 'b'.repeat(32), domain: 'landing.example' });
    expect(await sendCapture(h, origin, landing)).toMatchObject({ status: 204 });
    const stored = await h.store.getCapture('m1', 'visitor', 'b'.repeat(32));
    expect(stored).toMatchObject({ transactionId: 'tx-1', domain: 'landing.example' });
    expect(stored).not.toHaveProperty('storeId');
  });

  it('last click wins for a last-click offer', async () => {
    await sendCapture(h, origin, click({ id: 'first' }));
    h.clock.advance(60_000);
    await sendCapture(h, origin, click({ id: 'second', t: h.clock.now().toISOString() }));
    expect((await h.store.getCapture('m1', 'visitor', 'a'.repeat(32)))?.transactionId).toBe('second');
  });

  it('first click wins for a first-click offer', async () => {
    await h.saveOffer({ attribution: { model: 'first_click', windowDays: 30 } });
    await sendCapture(h, origin, click({ id: 'first' }));
    h.clock.advance(60_000);
    await sendCapture(h, origin, click({ id: 'second', t: h.clock.now().toISOString() }));
    expect((await h.store.getCapture('m1', 'visitor', 'a'.repeat(32)))?.transactionId).toBe('first');
  });

  it.each<[string, string | undefined, Record<string, unknown>, number, string]>([
    ['an origin that is not one of the merchant domains', 'https://evil.example', {}, 403, 'origin_not_allowed'],
    ['no Origin header (not a browser)', undefined, {}, 403, 'origin_not_allowed'],
    ['a page domain that is not the merchant', 'ORIGIN', { domain: 'evil.example' }, 403, 'domain_not_allowed'],
    ['an unknown merchant', 'ORIGIN', { merchant: 'nobody' }, 404, 'unknown_merchant'],
    ['a parameter no offer reads', 'ORIGIN', { p: 'gclid' }, 422, 'parameter_not_captured'],
    ['a click older than the attribution window', 'ORIGIN', { t: '2026-01-01T00:00:00.000Z' }, 422, 'click_expired'],
    ['an ID with a space', 'ORIGIN', { id: 'a b' }, 400, 'invalid_report'],
    ['an ID with markup', 'ORIGIN', { id: '<script>' }, 400, 'invalid_report'],
    ['a short visitor token', 'ORIGIN', { vid: 'abc' }, 400, 'invalid_report'],
    ['a time that is not ISO 8601', 'ORIGIN', { t: 'yesterday' }, 400, 'invalid_report'],
    ['an unknown field', 'ORIGIN', { admin: true }, 400, 'invalid_report'],
    ['an unknown type', 'ORIGIN', { type: 'refund' }, 400, 'invalid_report'],
  ])('refuses %s, storing nothing', async (_name, from, overrides, status, error) => {
    const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8' };
    if (from !== undefined) headers['origin'] = from === 'ORIGIN' ? origin : from;
    const res = await fetch(`${h.url}/capture`, { method: 'POST', headers, body: JSON.stringify(click(overrides)) });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error });
    expect(await h.store.getCapture('m1', 'visitor', 'a'.repeat(32))).toBeUndefined();
  });

  it.each([
    ['a valid click', (o: Record<string, unknown>) => click(o)],
    ['a click for an unknown merchant', (o: Record<string, unknown>) => click({ ...o, merchant: 'nobody' })],
    ['a report that is not valid', () => ({ type: 'click' })],
    ['a page domain that is not the merchant', (o: Record<string, unknown>) => click({ ...o, domain: 'evil.example' })],
  ])('allows no foreign origin (%s): no Access-Control-Allow-Origin for it', async (_name, body) => {
    const res = await fetch(`${h.url}/capture`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: JSON.stringify(body({})) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('reflects the merchant\'s own origin on an accepted report', async () => {
    const res = await fetch(`${h.url}/capture`, { method: 'POST', headers: { 'content-type': 'text/plain', origin }, body: JSON.stringify(click()) });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('dates a click reported days late no earlier than a day ago', async () => {
    const now = h.clock.now().getTime();
    expect((await sendCapture(h, origin, click({ t: new Date(now - 3 * 86_400_000).toISOString() }))).status).toBe(204);
    expect((await h.store.getCapture('m1', 'visitor', 'a'.repeat(32)))?.capturedAt.toISOString()).toBe(new Date(now - 86_400_000).toISOString());
  });

  it.each([
    ['malformed JSON', '{"type":"click",', 400],
    ['a body over 4 KB', JSON.stringify({ pad: 'x'.repeat(5000) }), 413],
  ])('refuses %s', async (_name, body, status) => {
    const res = await fetch(`${h.url}/capture`, { method: 'POST', headers: { 'content-type': 'text/plain', origin }, body });
    expect(res.status).toBe(status);
  });

  it('links an order only when its order key matches (checked over REST)', async () => {
    const vid = newVisitor();
    await reportClick(h, woo, { vid, id: 'K-1' });
    await woo.addOrder(wooOrderAt(h.clock.now(), { id: 50, status: 'pending', created_via: 'checkout', meta_data: [] }));
    const wrong = await reportOrder(h, woo, { vid, orderId: 50, orderKey: 'wc_order_guessed' });
    const missing = await reportOrder(h, woo, { vid, orderId: 999, orderKey: 'wc_order_guessed' });
    expect([wrong.status, missing.status]).toEqual([404, 404]);
    expect(await h.store.getOrderLink((await h.bridge.connections.listConnections('m1'))[0]!.id, '50')).toBeUndefined();

    expect((await reportOrder(h, woo, { vid, orderId: 50, orderKey: woo.order(50)!.order_key })).status).toBe(204);
    // the first link wins: another visitor cannot re-point the order
    expect((await reportOrder(h, woo, { vid: newVisitor(), orderId: 50, orderKey: woo.order(50)!.order_key })).status).toBe(204);
    const link = await h.store.getOrderLink((await h.bridge.connections.listConnections('m1'))[0]!.id, '50');
    expect(link?.visitorToken).toBe(vid);
  });

  it('answers 503 when the store cannot be asked about the order key', async () => {
    const vid = newVisitor();
    await reportClick(h, woo, { vid, id: 'K-2' });
    await woo.close();
    expect((await reportOrder(h, woo, { vid, orderId: 51, orderKey: 'wc_order_abc' })).status).toBe(503);
  });

  it('answers a CORS preflight for the merchant domains only', async () => {
    const allowed = await fetch(`${h.url}/capture`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
    const refused = await fetch(`${h.url}/capture`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rate-limits reports per IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i += 1) statuses.push((await sendCapture(h, origin, click({ id: `tx-${i}` }))).status);
    expect(statuses.slice(0, 20).every((s) => s === 204)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    expect(await h.counter('captures', { outcome: 'rate_limited' })).toBe(2);
  });
});
