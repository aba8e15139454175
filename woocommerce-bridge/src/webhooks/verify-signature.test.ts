import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRecordedDeliveries, recordedSecret } from '../testing/woo-deliveries.ts';
import { signWooBody, verifyWooSignature } from './verify-signature.ts';

describe('verifyWooSignature', () => {
  const signed = [...loadRecordedDeliveries('async'), ...loadRecordedDeliveries('sync')].filter((d) => d.headers['x-wc-webhook-signature'] !== undefined);

  it('accepts every real delivery from WooCommerce 9.9.5', () => {
    expect(signed.length).toBe(15);
    for (const d of signed) expect(verifyWooSignature(d.body, d.headers['x-wc-webhook-signature'], recordedSecret)).toBe(true);
  });

  it('refuses a real body re-serialized (WordPress escapes slashes; JSON.stringify does not)', () => {
    const d = signed[0]!;
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(d.body.toString('utf8'))));
    expect(reserialized.equals(d.body)).toBe(false);
    expect(verifyWooSignature(reserialized, d.headers['x-wc-webhook-signature'], recordedSecret)).toBe(false);
  });

  const body = Buffer.from('{"id":1}');
  const good = signWooBody(body, 'secret');
  it.each<[string, string | undefined, string]>([
    ['no header', undefined, 'secret'],
    ['an empty header', '', 'secret'],
    ['the wrong secret', signWooBody(body, 'other'), 'secret'],
    ['an empty secret', signWooBody(body, ''), ''],
    ['hex instead of base64', Buffer.from(good, 'base64').toString('hex'), 'secret'],
    ['junk appended', `${good}AAAA`, 'secret'],
    ['junk the base64 decoder would skip', `${good.slice(0, 10)}!${good.slice(10)}`, 'secret'],
    ['truncated', good.slice(0, 43), 'secret'],
    ['sha1 of the body', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'secret'],
  ])('refuses %s', (_name, header, secret) => {
    expect(verifyWooSignature(body, header, secret)).toBe(false);
  });

  it('accepts surrounding whitespace in the header', () => {
    expect(verifyWooSignature(body, ` ${good} `, 'secret')).toBe(true);
  });

  it('property: a signature verifies its own body and no other', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), (bytes, secret, flip) => {
        const b = Buffer.from(bytes);
        const sig = signWooBody(b, secret);
        expect(verifyWooSignature(b, sig, secret)).toBe(true);
        const tampered = Buffer.from(b);
        const i = flip % tampered.length;
        tampered[i] = (tampered[i] ?? 0) ^ 0x01;
        expect(verifyWooSignature(tampered, sig, secret)).toBe(false);
      }),
    );
  });
});
