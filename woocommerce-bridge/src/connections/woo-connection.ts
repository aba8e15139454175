import { err, ok, type Result } from '@clickthread/core';
import type { StoreConnection } from '@clickthread/core/storage';
import { z } from 'zod';
import type { SecretBox } from '../config/secret-box.ts';

/** The topics the bridge subscribes to on every connected store. */
export const wooWebhookTopics = ['order.created', 'order.updated', 'order.deleted', 'order.restored'] as const;
export type WooWebhookTopic = (typeof wooWebhookTopics)[number];

/** What a Woo connection keeps in `StoreConnection.settings` (plain JSON, no secrets). */
export const wooSettingsSchema = z.object({
  /** The store's home URL with a trailing slash, as `X-WC-Webhook-Source` sends it. */
  storeUrl: z.string().url(),
  /** Woo's ids of the bridge's webhooks, by topic. */
  webhookIds: z.record(z.string(), z.number().int().positive()).default({}),
  /** Order meta keys that hold a transaction ID, checked first. */
  idMetaKeys: z.array(z.string().min(1).max(255)).default([]),
  /** `created_via` values treated as test orders. */
  testSources: z.array(z.string()).default(['admin']),
  /** Reconciliation cursor: orders modified after this GMT time are polled next. */
  reconcileCursor: z.string().nullable().default(null),
  /**
   * Where paid orders waiting for their order-received link were kept before the Store's
   * pending_orders table (order id → ISO time the wait ends): read once by the next reconciliation
   * pass, which moves them into the table and deletes the key. Never written.
   */
  pendingOrders: z.record(z.string(), z.string()).optional(),
  /** The last reconciliation run, for the CLI and the logs. */
  lastReconcile: z
    .object({ at: z.string(), orders: z.number(), reenabledWebhooks: z.number(), error: z.string().nullable() })
    .nullable()
    .default(null),
  /** When a verified webhook last arrived (ISO 8601), written at most once a minute; null: never. */
  lastWebhookAt: z.string().nullable().default(null),
});
export type WooSettings = z.output<typeof wooSettingsSchema>;

const wooSecretsSchema = z.object({
  consumerKey: z.string().min(1),
  consumerSecret: z.string().min(1),
  webhookSecret: z.string().min(1),
});
export type WooSecrets = z.output<typeof wooSecretsSchema>;

export interface WooConnection {
  readonly id: string;
  readonly merchantId: string;
  readonly domain: string;
  readonly status: StoreConnection['status'];
  readonly settings: WooSettings;
  readonly stored: StoreConnection;
}

/** A stored connection read as a Woo connection; a broken row is reported, not thrown. */
export function readWooConnection(stored: StoreConnection): Result<WooConnection> {
  if (stored.platform !== 'woocommerce') return err(`store ${stored.id} is a ${stored.platform} store, not a WooCommerce connection`);
  const settings = wooSettingsSchema.safeParse(stored.settings);
  if (!settings.success) {
    return err(`connection ${stored.id} has invalid settings: ${settings.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return ok({ id: stored.id, merchantId: stored.merchantId, domain: stored.domain, status: stored.status, settings: settings.data, stored });
}

export function sealWooSecrets(box: SecretBox, connectionId: string, secrets: WooSecrets): string {
  return box.seal(JSON.stringify(secrets), `woocommerce:${connectionId}`);
}

export function openWooSecrets(box: SecretBox, connection: Pick<StoreConnection, 'id' | 'secrets'>): Result<WooSecrets> {
  if (connection.secrets === null) return err(`connection ${connection.id} has no stored credentials`);
  const opened = box.open(connection.secrets, `woocommerce:${connection.id}`);
  if (!opened.ok) return err(`connection ${connection.id}: credentials ${opened.reason}`);
  let json: unknown;
  try {
    json = JSON.parse(opened.value);
  } catch {
    return err(`connection ${connection.id}: stored credentials are not JSON`);
  }
  const parsed = wooSecretsSchema.safeParse(json);
  return parsed.success ? ok(parsed.data) : err(`connection ${connection.id}: stored credentials are incomplete`);
}

export interface StoreUrl {
  /** Home URL with a trailing slash: "https://shop.example/" or "https://example.com/shop/". */
  readonly url: string;
  /** Host (with a non-default port): the connection's primary domain. */
  readonly domain: string;
}

/** Validates a store URL typed by a merchant. */
export function normalizeStoreUrl(input: string, options: { allowHttp: boolean }): Result<StoreUrl> {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return err(`"${input}" is not a URL (expected e.g. https://shop.example/)`);
  }
  if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
    return err(`the store URL must use https (got ${url.protocol.replace(':', '')})`);
  }
  if (url.username !== '' || url.password !== '') return err('the store URL must not contain credentials');
  if (url.search !== '' || url.hash !== '') return err('the store URL must not have a query or fragment');
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  return ok({ url: `${url.protocol}//${url.host}${path}`, domain: url.host });
}

const withoutScheme = (url: string): string => url.replace(/^https?:\/\//, '').toLowerCase();

/**
 * Whether `X-WC-Webhook-Source` (`home_url('/')`) names this store. The scheme is not compared:
 * behind a TLS-terminating proxy WordPress often believes it is on http.
 */
export function sourceMatchesStore(source: string | undefined, storeUrl: string): boolean {
  if (source === undefined) return false;
  const b = normalizeStoreUrl(storeUrl, { allowHttp: true });
  if (!b.ok) return false;
  // the usual delivery names the store exactly as it was stored at connect time: one URL parse fewer
  if (source === storeUrl) return true;
  const a = normalizeStoreUrl(source, { allowHttp: true });
  if (!a.ok) return false;
  return withoutScheme(a.value.url) === withoutScheme(b.value.url);
}
