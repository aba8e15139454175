import { createHmac, timingSafeEqual } from 'node:crypto';

/** Woo's signature: base64(HMAC-SHA256(raw body bytes, secret)). */
export function signWooBody(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/**
 * Checks `X-WC-Webhook-Signature` against the raw bytes, in constant time. The header is compared
 * as the exact base64 text Woo sends (44 characters for SHA-256), so a header padded with junk
 * that base64 decoders would skip is refused too.
 */
export function verifyWooSignature(body: Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined || secret === '') return false;
  const expected = Buffer.from(signWooBody(body, secret), 'latin1');
  const given = Buffer.from(header.trim(), 'latin1');
  // A SHA-256 digest in base64 always has the same length, so refusing other lengths early leaks nothing.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
