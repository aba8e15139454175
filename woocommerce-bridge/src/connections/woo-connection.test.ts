import { describe, expect, it } from 'vitest';
import { normalizeStoreUrl, sourceMatchesStore } from './woo-connection.ts';

describe('store URLs', () => {
  it.each([
    ['https://Shop.Example', 'https://shop.example/', 'shop.example'],
    ['https://shop.example/', 'https://shop.example/', 'shop.example'],
    ['https://example.com/shop', 'https://example.com/shop/', 'example.com'],
    ['https://shop.example:8443/', 'https://shop.example:8443/', 'shop.example:8443'],
    ['https://shop.example:443/', 'https://shop.example/', 'shop.example'],
  ])('normalizes %s', (input, url, domain) => {
    expect(normalizeStoreUrl(input, { allowHttp: false })).toEqual({ ok: true, value: { url, domain } });
  });

  it.each([
    ['http://shop.example', 'https'],
    ['ftp://shop.example', 'https'],
    ['https://user:pw@shop.example', 'credentials'],
    ['https://shop.example/?a=1', 'query'],
    ['shop.example', 'not a URL'],
  ])('refuses %s', (input, fragment) => {
    const r = normalizeStoreUrl(input, { allowHttp: false });
    expect(r.ok ? '(accepted)' : r.reason).toContain(fragment);
  });

  it('allows http only when told', () => {
    expect(normalizeStoreUrl('http://127.0.0.1:8080', { allowHttp: true })).toEqual({ ok: true, value: { url: 'http://127.0.0.1:8080/', domain: '127.0.0.1:8080' } });
  });

  it.each([
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/', true],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/', true],
    ['http://shop.example/', 'https://shop.example/', true],
    ['https://SHOP.example/', 'https://shop.example/', true],
    ['https://other.example/', 'https://shop.example/', false],
    ['https://shop.example.evil/', 'https://shop.example/', false],
    ['https://shop.example/sub/', 'https://shop.example/', false],
    [undefined, 'https://shop.example/', false],
    ['not a url', 'https://shop.example/', false],
    // the same text on both sides still needs a store URL that is one
    ['https://shop.example/?a=1', 'https://shop.example/?a=1', false],
    ['not a url', 'not a url', false],
  ])('X-WC-Webhook-Source %s for %s → %s', (source, store, matches) => {
    expect(sourceMatchesStore(source, store)).toBe(matches);
  });
});
