import { createHmac } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import * as fc from 'fast-check';
import { request } from 'undici';
import { createMemoryLogger } from '@clickthread/core';
import { wpJsonEncode, wooOrderAt } from '@clickthread/woocommerce-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrderPayload, captureAttribute } from '../shopify/order-payload-builder.ts';
import { rowCounts } from './support/row-counts.ts';
import { secrets, shopDomain, startSystem, wooMetaKey, type System } from './support/system.ts';

/**
 * Fuzzed webhooks against the real Shopify and WooCommerce routes: random bytes, mutated real
 * bodies (signed after mutation, so they get past the signature), every header dropped, garbled or
 * swapped, content encodings and charsets, empty and oversized bodies. Whatever arrives: no crash,
 * never a 5xx, and a refused request leaves every table exactly as it was.
 */

const runs = 80;
let system: System;
const logger = createMemoryLogger();

beforeAll(async () => {
  system = await startSystem({ logger });
});
afterAll(async () => {
  await system.close();
});

interface Sent {
  readonly status: number;
  readonly text: string;
}

async function send(url: string, body: Buffer, headers: Record<string, string>): Promise<Sent> {
  const answer = await request(url, { method: 'POST', body, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: answer.statusCode, text: await answer.body.text() };
}

/** Sends, and checks the two rules every fuzzed request must keep. */
async function sendAndCheck(url: string, body: Buffer, headers: Record<string, string>): Promise<Sent> {
  const before = await rowCounts(system.store);
  const sent = await send(url, body, headers);
  expect(sent.status, `${sent.status} ${sent.text}`).toBeLessThan(500);
  const refused = sent.status < 200 || sent.status >= 300;
  // an accepted delivery may store things; a refused one nothing at all
  const after = refused ? await rowCounts(system.store) : before;
  expect(after).toEqual(before);
  return sent;
}

const headerText = fc.stringMatching(/^[\x21-\x7e]{0,80}$/);

/** How a body is signed: properly, not at all, with another key, or with junk. */
const signing = fc.constantFrom('valid', 'missing', 'wrong-key', 'junk', 'hex', 'other-body', 'empty');

function signatureOf(mode: string, body: Buffer, secret: string): string | undefined {
  switch (mode) {
    case 'valid':
      return createHmac('sha256', secret).update(body).digest('base64');
    case 'wrong-key':
      return createHmac('sha256', `${secret}x`).update(body).digest('base64');
    case 'junk':
      return 'not-a-signature==';
    case 'hex':
      return createHmac('sha256', secret).update(body).digest('hex');
    case 'other-body':
      return createHmac('sha256', secret).update('{}').digest('base64');
    case 'empty':
      return '';
    default:
      return undefined;
  }
}

/** Replaces, removes or retypes fields of a real body, and sometimes truncates or pads it. */
function mutatedJson(base: Record<string, unknown>, serialize: (value: unknown) => string = JSON.stringify): fc.Arbitrary<Buffer> {
  const keys = Object.keys(base);
  return fc
    .record({
      changes: fc.array(fc.tuple(fc.constantFrom(...keys), fc.option(fc.jsonValue(), { nil: undefined })), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      pad: fc.constantFrom('', ' ', '\n', '\u0000', '}', ',"x":1}', '\uFEFF'),
    })
    .map(({ changes, cut, pad }) => {
      const copy: Record<string, unknown> = { ...base };
      for (const [key, value] of changes) {
        if (value === undefined) delete copy[key];
        else copy[key] = value;
      }
      let text = serialize(copy);
      if (cut !== undefined) text = text.slice(0, cut % (text.length + 1));
      return Buffer.from(text + pad, 'utf8');
    });
}

const randomBody = fc.oneof(
  fc.uint8Array({ maxLength: 3_000 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ maxLength: 500 }).map((text) => Buffer.from(text, 'utf8')),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')),
  fc.constantFrom('', 'null', '[]', '{}', 'webhook_id=1', '{"id":', '\uFEFF{}').map((text) => Buffer.from(text, 'utf8')),
);

/** Content-Encoding (the body compressed to match, or not), Content-Type and charset. */
const encoding = fc.record({
  contentEncoding: fc.constantFrom(undefined, 'gzip', 'deflate', 'br', 'identity', 'x-bogus', 'gzip, gzip'),
  compress: fc.boolean(),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=x-unknown',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  ),
});

function encode(body: Buffer, e: { contentEncoding: string | undefined; compress: boolean }): Buffer {
  if (!e.compress) return body;
  if (e.contentEncoding === 'gzip') return gzipSync(body);
  if (e.contentEncoding === 'deflate') return deflateSync(body);
  if (e.contentEncoding === 'br') return brotliCompressSync(body);
  if (e.contentEncoding === 'gzip, gzip') return gzipSync(gzipSync(body));
  return body;
}

function withEncoding(headers: Record<string, string>, e: { contentEncoding: string | undefined; contentType: string | undefined }): Record<string, string> {
  const out = { ...headers };
  delete out['content-type'];
  if (e.contentType !== undefined) out['content-type'] = e.contentType;
  if (e.contentEncoding !== undefined) out['content-encoding'] = e.contentEncoding;
  return out;
}

/** Drops some headers and garbles others. */
const headerChanges = fc.array(fc.tuple(fc.nat(20), fc.option(headerText, { nil: undefined })), { maxLength: 4 });

function mutateHeaders(headers: Record<string, string>, changes: ReadonlyArray<readonly [number, string | undefined]>): Record<string, string> {
  const out = { ...headers };
  const names = Object.keys(out);
  for (const [index, value] of changes) {
    const name = names[index % names.length];
    if (name === undefined) continue;
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

function shopifyBase(): Record<string, unknown> {
  return buildOrderPayload({ note_attributes: [captureAttribute({ id: 'fuzz-tx-1' })] });
}

function wooBase(): Record<string, unknown> {
  return { ...wooOrderAt(new Date('2026-03-02T12:00:00Z'), { id: 4242, status: 'processing', meta_data: [{ id: 1, key: wooMetaKey, value: 'fuzz-woo-tx' }] }) };
}

describe('fuzzed Shopify webhooks', () => {
  const paths = ['/webhooks/orders/paid', '/webhooks/orders/cancelled', '/webhooks/refunds/create', '/webhooks/app/uninstalled', '/webhooks/compliance'];
  const topics = fc.constantFrom('orders/paid', 'orders/cancelled', 'refunds/create', 'customers/redact', 'shop/redact', 'products/update', 'ORDERS_PAID', '');

  it('random and mutated bodies, headers, encodings: never a 5xx, nothing stored when refused', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(randomBody, mutatedJson(shopifyBase())),
        signing,
        topics,
        fc.constantFrom(...paths),
        fc.constantFrom(shopDomain, 'other-shop.myshopify.com', 'FAULT-SHOP.myshopify.com', '', 'evil.example'),
        encoding,
        headerChanges,
        async (raw, sign, topic, path, shop, enc, changes) => {
          const body = encode(raw, enc);
          const signature = signatureOf(sign, raw, secrets.shopifyApiSecret);
          const headers: Record<string, string> = {
            'x-shopify-topic': topic,
            'x-shopify-shop-domain': shop,
            'x-shopify-api-version': '2026-07',
            'x-shopify-webhook-id': `fz-${Math.random().toString(16).slice(2)}`,
            'x-shopify-event-id': `fz-${Math.random().toString(16).slice(2)}`,
            ...(signature === undefined ? {} : { 'x-shopify-hmac-sha256': signature }),
          };
          await sendAndCheck(`${system.shopify.url}${path}`, body, withEncoding(mutateHeaders(headers, changes), enc));
        },
      ),
      { numRuns: runs },
    );
  });

  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['over the 2 MB limit', 2 * 1024 * 1024 + 1],
  ])('a %s body, signed, is answered without a 5xx and stores nothing when refused', async (_name, size) => {
    const body = Buffer.alloc(size, 0x20);
    const sent = await sendAndCheck(`${system.shopify.url}/webhooks/orders/paid`, body, system.shopifyHeaders(body.toString('utf8')));
    expect(sent.status).toBeGreaterThanOrEqual(400);
  });
});

describe('fuzzed Shopify webhooks: encodings', () => {
  it.each(['gzip', 'deflate', 'br'])('a signed body that is not really %s-encoded is refused with a 4xx and stores nothing', async (contentEncoding) => {
    const body = JSON.stringify(buildOrderPayload({ note_attributes: [captureAttribute({ id: 'enc-tx' })] }));
    const sent = await sendAndCheck(`${system.shopify.url}/webhooks/orders/paid`, Buffer.from(body), { ...system.shopifyHeaders(body), 'content-encoding': contentEncoding });
    expect(sent.status).toBeGreaterThanOrEqual(400);
  });
});

describe('fuzzed WooCommerce webhooks', () => {
  const topics = fc.constantFrom('order.updated', 'order.created', 'order.deleted', 'order.restored', 'product.updated', 'action.woocommerce_x', '');

  it('random and mutated bodies, headers, encodings, paths: never a 5xx, nothing stored when refused', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        // Woo's own encoding (escaped slashes, \uXXXX) as well as plain JSON
        fc.oneof(randomBody, mutatedJson(wooBase()), mutatedJson(wooBase(), wpJsonEncode)),
        signing,
        topics,
        fc.constantFrom('valid', 'valid', 'unknown', 'garbage'),
        fc.constantFrom('valid', 'other', 'missing', 'garbage'),
        encoding,
        headerChanges,
        async (raw, sign, topic, pathKind, sourceKind, enc, changes) => {
          const body = encode(raw, enc);
          const signature = signatureOf(sign, raw, secrets.wooWebhookSecret);
          const path =
            pathKind === 'valid' ? system.woo.webhookPath : pathKind === 'unknown' ? '/webhooks/woocommerce/wc_0000000000' : '/webhooks/woocommerce/%2e%2e%2F..%00x';
          const source = sourceKind === 'valid' ? system.woo.source : sourceKind === 'other' ? 'https://evil.example/' : sourceKind === 'garbage' ? '::::' : undefined;
          const headers: Record<string, string> = {
            'x-wc-webhook-topic': topic,
            'x-wc-webhook-id': '2',
            'x-wc-webhook-delivery-id': Math.random().toString(16).slice(2),
            ...(source === undefined ? {} : { 'x-wc-webhook-source': source }),
            ...(signature === undefined ? {} : { 'x-wc-webhook-signature': signature }),
          };
          await sendAndCheck(`${system.woo.url}${path}`, body, withEncoding(mutateHeaders(headers, changes), enc));
        },
      ),
      { numRuns: runs },
    );
  });

  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['over the 2 MB limit', 2 * 1024 * 1024 + 1],
  ])('a %s body, signed, is answered without a 5xx and stores nothing when refused', async (_name, size) => {
    const body = Buffer.alloc(size, 0x20);
    const sent = await sendAndCheck(`${system.woo.url}${system.woo.webhookPath}`, body, system.wooHeaders(body.toString('utf8')));
    expect(sent.status).toBeGreaterThanOrEqual(400);
  });

  // found by the property above: a body that does not match its Content-Encoding made the bridge answer 500
  it.each(['gzip', 'deflate', 'br'])('a signed body that is not really %s-encoded is refused with a 4xx and stores nothing', async (contentEncoding) => {
    const order = wooOrderAt(new Date('2026-03-02T12:00:00Z'), { id: 4444, status: 'processing', meta_data: [{ id: 1, key: wooMetaKey, value: 'enc-tx' }] });
    const body = wpJsonEncode(order);
    const sent = await sendAndCheck(`${system.woo.url}${system.woo.webhookPath}`, Buffer.from(body), { ...system.wooHeaders(body), 'content-encoding': contentEncoding });
    expect(sent.status).toBeGreaterThanOrEqual(400);
  });

  it('after the storm of junk, a real delivery still goes through', async () => {
    const order = wooOrderAt(new Date('2026-03-02T12:00:00Z'), { id: 4343, status: 'processing', meta_data: [{ id: 1, key: wooMetaKey, value: 'after-fuzz' }] });
    const response = await system.sendWoo(wpJsonEncode(order));
    expect(response.status).toBe(200);
    expect((await system.store.listJobs({ orderId: '4343' })).length).toBe(2);
  });
});
