import { createHmac } from 'node:crypto';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appProxyMessage, signAppProxyQuery, verifyAppProxySignature } from './app-proxy-signature.ts';

const secret = 'hush-this-is-the-client-secret';
const now = new Date('2026-03-02T12:00:00.000Z');
const nowSeconds = String(Math.floor(now.getTime() / 1000));

function signed(params: Record<string, string | string[]>, key = secret): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const value of Array.isArray(v) ? v : [v]) q.append(k, value);
  q.append('signature', signAppProxyQuery(q, key));
  return q.toString();
}

const base = { shop: 'shop-a.myshopify.com', logged_in_customer_id: '', path_prefix: '/apps/clickthread', timestamp: nowSeconds };

describe('app proxy signature', () => {
  it('matches the example of Shopify documentation', () => {
    // shopify.dev "Authenticate app proxies": the query below signed with secret "hush"
    const query =
      'extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555&signature=4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb';
    const params = new URLSearchParams(query);
    expect(appProxyMessage(params)).toBe('extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviewsshop=shop-name.myshopify.comtimestamp=1317327555');
    const at = new Date(1317327555 * 1000);
    expect(verifyAppProxySignature(query, 'hush', at)).toEqual({
      ok: true,
      value: { shop: 'shop-name.myshopify.com', loggedInCustomerId: '1', pathPrefix: '/apps/awesome_reviews', timestamp: 1317327555 },
    });
  });

  it('accepts a query signed with the client secret, within 90 s either way', () => {
    for (const skew of [-90, 0, 90]) {
      const query = signed({ ...base, timestamp: String(Number(nowSeconds) + skew) });
      expect(verifyAppProxySignature(query, secret, now).ok).toBe(true);
    }
  });

  it('reads the logged-in customer', () => {
    const result = verifyAppProxySignature(signed({ ...base, logged_in_customer_id: '4206822293653' }), secret, now);
    expect(result.ok && result.value.loggedInCustomerId).toBe('4206822293653');
  });

  it.each([
    ['no signature', () => new URLSearchParams(base).toString(), 'signature missing'],
    ['a signature that is not hex', () => `${new URLSearchParams(base)}&signature=zz`, 'signature malformed'],
    ['another key', () => signed(base, 'another-secret'), 'signature mismatch'],
    ['a parameter changed after signing', () => signed(base).replace('shop-a.myshopify.com', 'shop-b.myshopify.com'), 'signature mismatch'],
    ['a parameter added after signing', () => `${signed(base)}&extra=1`, 'signature mismatch'],
    ['the timestamp 91 s old', () => signed({ ...base, timestamp: String(Number(nowSeconds) - 91) }), 'timestamp expired'],
    ['the timestamp 91 s ahead', () => signed({ ...base, timestamp: String(Number(nowSeconds) + 91) }), 'timestamp expired'],
    ['no timestamp', () => signed({ shop: base.shop }), 'timestamp missing'],
    ['no shop', () => signed({ timestamp: nowSeconds }), 'shop missing'],
    ['a shop that is not a myshopify domain', () => signed({ ...base, shop: 'evil.example' }), 'shop malformed'],
    ['the shop twice', () => signed({ ...base, shop: [base.shop, 'shop-b.myshopify.com'] }), 'parameter repeated'],
    ['the signature twice', () => `${signed(base)}&signature=${'0'.repeat(64)}`, 'parameter repeated'],
  ])('refuses %s', (_what, query, reason) => {
    expect(verifyAppProxySignature(query(), secret, now)).toEqual({ ok: false, reason });
  });

  it('joins repeated values with commas and sorts key=value pairs', () => {
    const q = new URLSearchParams('b=2&a=1&a=3&a-b=4');
    expect(appProxyMessage(q)).toBe('a-b=4a=1,3b=2');
    expect(signAppProxyQuery(q, secret)).toBe(createHmac('sha256', secret).update('a-b=4a=1,3b=2').digest('hex'));
  });

  it('property: any signed query verifies, and any change to a value is refused', () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/).filter((k) => !['signature', 'shop', 'timestamp', 'path_prefix', 'logged_in_customer_id'].includes(k));
    fc.assert(
      fc.property(fc.dictionary(key, fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3 }), { maxKeys: 5 }), fc.string({ minLength: 1, maxLength: 8 }), (extra, tamper) => {
        const query = signed({ ...base, ...extra });
        expect(verifyAppProxySignature(query, secret, now).ok).toBe(true);
        const params = new URLSearchParams(query);
        params.set('path_prefix', `${base.path_prefix}${tamper}`);
        expect(verifyAppProxySignature(params.toString(), secret, now)).toEqual({ ok: false, reason: 'signature mismatch' });
      }),
    );
  });
});
