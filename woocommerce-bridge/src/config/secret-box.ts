import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { err, ok, type Result } from '@clickthread/core';

/**
 * Secrets at rest (consumer keys and secrets, webhook secrets): AES-256-GCM with a 96-bit random
 * nonce. The row's id is the associated data, so a sealed value copied onto another connection does
 * not open there. Format: `v1.<nonce>.<tag>.<ciphertext>`, each part base64url.
 */

export interface SecretBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): Result<string>;
}

export const secretKeyBytes = 32;

/** A 32-byte key written as 64 hex digits or as base64 (standard or url-safe). */
export function parseSecretKey(text: string): Result<Buffer> {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return ok(Buffer.from(trimmed, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (key.length === secretKeyBytes) return ok(key);
  }
  return err('must be 32 random bytes written as 64 hex digits or 44 base64 characters (e.g. `openssl rand -base64 32`)');
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== secretKeyBytes) throw new RangeError(`the secrets key must be ${secretKeyBytes} bytes, got ${key.length}`);
  return {
    seal(plaintext, context) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', nonce, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      const [version, nonce, tag, ciphertext] = parts;
      if (parts.length !== 4 || version !== 'v1' || nonce === undefined || tag === undefined || ciphertext === undefined) {
        return err('not a sealed secret (expected v1.<nonce>.<tag>.<ciphertext>)');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return ok(Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8'));
      } catch {
        // GCM only says "unable to authenticate": wrong key, another row's value, or tampering
        return err('cannot be opened with this key (wrong CLICKTHREAD_SECRET_KEY, or the value was altered)');
      }
    },
  };
}
