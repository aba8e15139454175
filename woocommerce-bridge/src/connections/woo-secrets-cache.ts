import { ok, type Result } from '@clickthread/core';
import type { StoreConnection } from '@clickthread/core/storage';
import type { SecretBox } from '../config/secret-box.ts';
import { openWooSecrets, type WooSecrets } from './woo-connection.ts';

/**
 * Opened connection secrets, remembered per connection for the webhook hot path: opening them
 * (AES-256-GCM, JSON, zod) cost about a tenth of the CPU of every webhook. An entry holds the
 * exact sealed text it was opened from and only answers for that text, so a rotated secret or a
 * reconnect (a new sealed value, with a new nonce) is opened afresh: the row stays the source of
 * truth, this only saves re-deriving the same plaintext. Failures are never remembered (the next
 * request reports them again), and nothing here is ever logged.
 */

export interface WooSecretsCache {
  open(connection: Pick<StoreConnection, 'id' | 'secrets'>): Result<WooSecrets>;
  readonly size: number;
}

/** A process serves a few connections; the bound only stops a flood of distinct ids growing it. */
export const defaultWooSecretsCacheEntries = 1_000;

export function createWooSecretsCache(box: SecretBox, options: { maxEntries?: number } = {}): WooSecretsCache {
  const maxEntries = options.maxEntries ?? defaultWooSecretsCacheEntries;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  const entries = new Map<string, { readonly sealed: string; readonly secrets: WooSecrets }>();

  return {
    open(connection) {
      const sealed = connection.secrets;
      const cached = entries.get(connection.id);
      if (cached !== undefined && sealed !== null && cached.sealed === sealed) return ok(cached.secrets);
      const opened = openWooSecrets(box, connection);
      entries.delete(connection.id);
      if (opened.ok && sealed !== null) {
        if (entries.size >= maxEntries) {
          // the oldest entry goes first (Map keeps insertion order)
          const oldest = entries.keys().next();
          if (oldest.done !== true) entries.delete(oldest.value);
        }
        entries.set(connection.id, { sealed, secrets: opened.value });
      }
      return opened;
    },
    get size() {
      return entries.size;
    },
  };
}
