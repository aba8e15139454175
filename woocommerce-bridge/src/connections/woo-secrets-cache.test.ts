import { describe, expect, it } from 'vitest';
import { createSecretBox, type SecretBox } from '../config/secret-box.ts';
import { sealWooSecrets, type WooSecrets } from './woo-connection.ts';
import { createWooSecretsCache } from './woo-secrets-cache.ts';

const secrets = (webhookSecret: string): WooSecrets => ({ consumerKey: 'ck_1', consumerSecret: 'cs_1', webhookSecret });

/** A real box that counts how often it really opens something. */
function countingBox(): SecretBox & { opens: number } {
  const box = createSecretBox(Buffer.alloc(32, 3));
  const counting = {
    opens: 0,
    seal: (plaintext: string, context: string) => box.seal(plaintext, context),
    open: (sealed: string, context: string) => {
      counting.opens += 1;
      return box.open(sealed, context);
    },
  };
  return counting;
}

describe('createWooSecretsCache', () => {
  it('opens a connection once while its sealed value stays the same', () => {
    const box = countingBox();
    const cache = createWooSecretsCache(box);
    const row = { id: 'wc_1', secrets: sealWooSecrets(box, 'wc_1', secrets('first')) };
    expect(cache.open(row)).toEqual({ ok: true, value: secrets('first') });
    expect(cache.open({ ...row })).toEqual({ ok: true, value: secrets('first') });
    expect(box.opens).toBe(1);
  });

  it('opens a rotated secret afresh (the sealed text is the key, not the connection id alone)', () => {
    const box = countingBox();
    const cache = createWooSecretsCache(box);
    expect(cache.open({ id: 'wc_1', secrets: sealWooSecrets(box, 'wc_1', secrets('first')) })).toMatchObject({ ok: true, value: { webhookSecret: 'first' } });
    expect(cache.open({ id: 'wc_1', secrets: sealWooSecrets(box, 'wc_1', secrets('second')) })).toMatchObject({ ok: true, value: { webhookSecret: 'second' } });
    expect(box.opens).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('does not open another connection’s sealed value from the cache (the id is the associated data)', () => {
    const box = countingBox();
    const cache = createWooSecretsCache(box);
    const sealed = sealWooSecrets(box, 'wc_1', secrets('first'));
    expect(cache.open({ id: 'wc_1', secrets: sealed }).ok).toBe(true);
    const copied = cache.open({ id: 'wc_2', secrets: sealed });
    expect(copied.ok).toBe(false);
  });

  it.each<[string, string | null]>([
    ['no credentials', null],
    ['not sealed', 'plain text'],
    ['tampered', 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA'],
  ])('reports %s every time and remembers nothing', (_name, sealed) => {
    const box = countingBox();
    const cache = createWooSecretsCache(box);
    expect(cache.open({ id: 'wc_1', secrets: sealed }).ok).toBe(false);
    expect(cache.open({ id: 'wc_1', secrets: sealed }).ok).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('forgets a connection whose secrets became unreadable', () => {
    const box = countingBox();
    const cache = createWooSecretsCache(box);
    expect(cache.open({ id: 'wc_1', secrets: sealWooSecrets(box, 'wc_1', secrets('first')) }).ok).toBe(true);
    expect(cache.open({ id: 'wc_1', secrets: null }).ok).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('stays within its bound, dropping the oldest connection first', () => {
    const box = countingBox();
    const cache = createWooSecretsCache(box, { maxEntries: 2 });
    const rows = ['wc_1', 'wc_2', 'wc_3'].map((id) => ({ id, secrets: sealWooSecrets(box, id, secrets(id)) }));
    for (const row of rows) expect(cache.open(row).ok).toBe(true);
    expect(cache.size).toBe(2);
    const [first, , third] = rows;
    if (first === undefined || third === undefined) throw new Error('three rows');
    cache.open(third);
    expect(box.opens).toBe(3);
    cache.open(first);
    expect(box.opens).toBe(4);
  });

  it.each([0, -1, 1.5])('refuses a bound of %s', (maxEntries) => {
    expect(() => createWooSecretsCache(countingBox(), { maxEntries })).toThrow(RangeError);
  });
});
