import { randomBytes } from 'node:crypto';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSecretBox, parseSecretKey } from './secret-box.ts';

describe('secret box (AES-256-GCM)', () => {
  const box = createSecretBox(randomBytes(32));

  it('opens what it sealed, only in the same context', () => {
    const sealed = box.seal('cs_secret', 'woocommerce:wc_1');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('cs_secret');
    expect(box.open(sealed, 'woocommerce:wc_1')).toEqual({ ok: true, value: 'cs_secret' });
    expect(box.open(sealed, 'woocommerce:wc_2').ok).toBe(false);
  });

  it('seals the same text differently each time (random nonce)', () => {
    expect(box.seal('x', 'c')).not.toBe(box.seal('x', 'c'));
  });

  it.each([
    ['another key', (s: string) => ({ box: createSecretBox(randomBytes(32)), sealed: s })],
    // the character replaced must change: it was compared with the last one before (a 1-in-64 flake)
    ['a flipped ciphertext byte', (s: string) => ({ box, sealed: s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.slice(-1) })],
    ['a missing part', (s: string) => ({ box, sealed: s.split('.').slice(0, 3).join('.') })],
    ['another version', (s: string) => ({ box, sealed: s.replace(/^v1/, 'v2') })],
    ['plain text', () => ({ box, sealed: 'cs_secret' })],
  ])('refuses %s', (_name, tamper) => {
    const { box: b, sealed } = tamper(box.seal('cs_secret_value', 'ctx'));
    expect(b.open(sealed, 'ctx').ok).toBe(false);
  });

  it('property: round-trips any text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, ctx) => {
        expect(box.open(box.seal(text, ctx), ctx)).toEqual({ ok: true, value: text });
      }),
    );
  });

  it.each([
    ['64 hex digits', 'a'.repeat(64), true],
    ['base64 of 32 bytes', randomBytes(32).toString('base64'), true],
    ['base64url of 32 bytes', randomBytes(32).toString('base64url'), true],
    ['16 bytes', randomBytes(16).toString('base64'), false],
    ['a passphrase', 'correct horse battery staple', false],
    ['empty', '', false],
  ])('parseSecretKey: %s', (_name, text, valid) => {
    const key = parseSecretKey(text);
    expect(key.ok).toBe(valid);
    expect(key.ok ? key.value.length : 32).toBe(32);
  });
});
