// the official library picks its runtime (Node) by this import; it has no other way to be told
// oxlint-disable-next-line import/no-unassigned-import
import '@shopify/shopify-api/adapters/node';
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createShopifyWebhookVerifier, topicForStorage, type ShopifyWebhookVerdict } from './verify-webhook.ts';

const secret = 'shpss_verify_test_secret_0123456789';
const verify = createShopifyWebhookVerifier(secret);

// the official library, to hold the verdicts side by side
const official = shopifyApi({
  apiKey: 'verify-test-key',
  apiSecretKey: secret,
  apiVersion: ApiVersion.October25,
  hostName: 'localhost',
  isEmbeddedApp: true,
  logger: { level: LogSeverity.Error, log: async () => {} },
});

function hmacOf(body: string | Uint8Array, key = secret): string {
  return createHmac('sha256', key).update(body).digest('base64');
}

function deliveryHeaders(body: string, overrides: Record<string, string | undefined> = {}): IncomingHttpHeaders {
  const headers: Record<string, string | undefined> = {
    'x-shopify-hmac-sha256': hmacOf(body),
    'x-shopify-topic': 'orders/paid',
    'x-shopify-shop-domain': 'shop-a.myshopify.com',
    'x-shopify-api-version': '2025-10',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
    'x-shopify-triggered-at': '2026-11-21T10:00:00.000Z',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
}

async function officialVerdict(body: string, headers: IncomingHttpHeaders): Promise<ShopifyWebhookVerdict> {
  const result = await official.webhooks.validate({
    rawBody: body,
    rawRequest: { headers, method: 'POST', url: '/webhooks/orders/paid' },
    rawResponse: { getHeaders: () => ({}), setHeader: () => {} },
  });
  if (!result.valid) {
    const missing = 'missingHeaders' in result ? { missingHeaders: result.missingHeaders } : {};
    return { valid: false, reason: result.reason as 'missing_body', ...missing };
  }
  const optional = (name: string): Record<string, string> => {
    const value = (result as unknown as Record<string, unknown>)[name];
    return typeof value === 'string' ? { [name]: value } : {};
  };
  return {
    valid: true,
    kind: result.webhookType === 'events' ? 'events' : 'webhooks',
    topic: result.topic,
    domain: result.domain,
    apiVersion: result.apiVersion,
    webhookId: result.webhookId,
    ...optional('eventId'),
    ...optional('triggeredAt'),
  };
}

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('Shopify webhook verification', () => {
  const body = '{"id":820982911946154508,"total_price":"10.00"}';

  it('accepts a delivery signed with the client secret and reads its headers', () => {
    expect(verify(bytes(body), deliveryHeaders(body))).toEqual({
      valid: true,
      kind: 'webhooks',
      topic: 'ORDERS_PAID',
      domain: 'shop-a.myshopify.com',
      apiVersion: '2025-10',
      webhookId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      eventId: '98880550-7158-44d4-b7cd-2c97c8a091b5',
      triggeredAt: '2026-11-21T10:00:00.000Z',
    });
  });

  it.each([
    ['an empty body', '', deliveryHeaders(''), 'missing_body'],
    ['no HMAC header', body, deliveryHeaders(body, { 'x-shopify-hmac-sha256': undefined }), 'missing_hmac'],
    ['an empty HMAC header', body, deliveryHeaders(body, { 'x-shopify-hmac-sha256': '' }), 'missing_hmac'],
    ['an HMAC of another secret', body, deliveryHeaders(body, { 'x-shopify-hmac-sha256': hmacOf(body, 'another-secret') }), 'invalid_hmac'],
    ['an HMAC of another body', body, deliveryHeaders(body, { 'x-shopify-hmac-sha256': hmacOf(`${body} `) }), 'invalid_hmac'],
    ['a hex HMAC', body, deliveryHeaders(body, { 'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body).digest('hex') }), 'invalid_hmac'],
    ['an HMAC without its padding', body, deliveryHeaders(body, { 'x-shopify-hmac-sha256': hmacOf(body).replace(/=+$/, '') }), 'invalid_hmac'],
    ['no topic', body, deliveryHeaders(body, { 'x-shopify-topic': undefined }), 'missing_headers'],
    ['no shop domain', body, deliveryHeaders(body, { 'x-shopify-shop-domain': undefined }), 'missing_headers'],
    ['no API version', body, deliveryHeaders(body, { 'x-shopify-api-version': undefined }), 'missing_headers'],
    ['no webhook id', body, deliveryHeaders(body, { 'x-shopify-webhook-id': undefined }), 'missing_headers'],
  ])('refuses %s', async (_name, text, headers, reason) => {
    const verdict = verify(bytes(text), headers);
    expect(verdict).toMatchObject({ valid: false, reason });
    expect(verdict).toEqual(await officialVerdict(text, headers));
  });

  it('signs the bytes as sent: a body that is not UTF-8 verifies against its own bytes only', () => {
    const latin1 = Buffer.from('{"note":"caf\xe9"}', 'latin1');
    const headers = deliveryHeaders('', { 'x-shopify-hmac-sha256': hmacOf(latin1) });
    expect(verify(latin1, headers).valid).toBe(true);
    // the same text decoded and encoded again as UTF-8 is other bytes
    expect(verify(bytes(latin1.toString('latin1')), headers)).toMatchObject({ valid: false, reason: 'invalid_hmac' });
  });

  it('reads event deliveries (Shopify-* headers)', async () => {
    const headers: IncomingHttpHeaders = {
      'shopify-hmac-sha256': hmacOf(body),
      'shopify-topic': 'orders/paid',
      'shopify-shop-domain': 'shop-a.myshopify.com',
      'shopify-api-version': '2025-10',
      'shopify-webhook-id': 'evt-1',
    };
    const verdict = verify(bytes(body), headers);
    expect(verdict).toMatchObject({ valid: true, kind: 'events', topic: 'ORDERS_PAID', webhookId: 'evt-1' });
    expect(verdict).toEqual(await officialVerdict(body, headers));
  });

  it('stores topics as the library does', () => {
    expect(topicForStorage('orders/paid')).toBe('ORDERS_PAID');
    expect(topicForStorage('customers/data_request')).toBe('CUSTOMERS_DATA_REQUEST');
    expect(topicForStorage('app.scopes_update')).toBe('APP_SCOPES_UPDATE');
  });

  it('gives the official library verdict for any body, headers and signature', async () => {
    const optionalHeader = fc.option(fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }), fc.constantFrom('orders/paid', 'refunds/create', 'shop/redact')), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200, unit: 'grapheme' }),
        fc.constantFrom('right', 'wrong-secret', 'flipped', 'missing', 'empty', 'garbage'),
        fc.boolean(),
        fc.record({ topic: optionalHeader, domain: optionalHeader, version: optionalHeader, webhookId: optionalHeader, eventId: optionalHeader }),
        async (text, signature, asEvent, h) => {
          const right = hmacOf(text);
          const hmac = {
            right,
            'wrong-secret': hmacOf(text, `${secret}x`),
            flipped: (right.startsWith('A') ? 'B' : 'A') + right.slice(1),
            missing: undefined,
            empty: '',
            garbage: 'not base64 at all',
          }[signature];
          const prefix = asEvent ? 'shopify-' : 'x-shopify-';
          const raw: Record<string, string | undefined> = {
            [`${prefix}hmac-sha256`]: hmac,
            [`${prefix}topic`]: h.topic,
            [`${prefix}shop-domain`]: h.domain,
            [`${prefix}api-version`]: h.version,
            [`${prefix}webhook-id`]: h.webhookId,
            'x-shopify-event-id': h.eventId,
          };
          const headers = Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => e[1] !== undefined));
          expect(verify(bytes(text), headers)).toEqual(await officialVerdict(text, headers));
        },
      ),
      { numRuns: 300 },
    );
  });
});
