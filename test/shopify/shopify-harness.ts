import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '@shopify/shopify-api';
import { createMemoryLogger, ManualClock, parseOffer, formatOfferIssues, type Offer, type OfferInput } from '@clickthread/core';
import { createPostgresStore, createSqliteStore, type PostbackJob, type Store, type StoreConnection } from '@clickthread/core/storage';
import { createWorker, type BatchSummary, type Worker } from '@clickthread/core/delivery';
import { startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import type { GraphqlFetch } from '../../shopify-app/src/admin-api/admin-graphql.ts';
import { createShopifyApp, type ShopifyAppHandle } from '../../shopify-app/src/app/create-shopify-app.ts';
import { loadShopifyConfig } from '../../shopify-app/src/config/shopify-config.ts';
import { signAppProxyQuery } from '../../shopify-app/src/proxy/app-proxy-signature.ts';

/**
 * The Shopify app as it runs: the real Express app from createShopifyApp on 127.0.0.1 (port 0), a
 * SQLite store and Shopify session storage in a temporary directory, a fake tracker, a ManualClock.
 * Webhooks and proxy requests are signed here with real HMACs, as Shopify signs them.
 */

export const shopDomain = 'shop-a.myshopify.com';
export const apiSecret = 'shpss_0123456789abcdef0123456789abcdef';
export const accessToken = 'shpat_test_offline_token';
export const apiVersion = '2026-07';

export interface WebhookOptions {
  readonly webhookId?: string;
  readonly eventId?: string | null;
  /** Replaces the computed HMAC header (null: no header). */
  readonly hmac?: string | null;
  /** Signs with another key. */
  readonly signWith?: string;
  /** Sends these bytes instead of JSON.stringify(body) (signed as sent). */
  readonly rawBody?: string;
  readonly shop?: string;
  readonly triggeredAt?: string;
}

export interface ProxyOptions {
  readonly timestamp?: number;
  readonly signWith?: string;
  readonly customerId?: string;
  readonly shop?: string;
  /** Changes the query after signing. */
  readonly tamper?: (q: URLSearchParams) => void;
  readonly contentType?: string;
  readonly forwardedHost?: string;
  /** X-Forwarded-For as Shopify's proxy sends it (the shopper's address last). */
  readonly forwardedFor?: string;
}

export interface Harness {
  readonly baseUrl: string;
  readonly handle: ShopifyAppHandle;
  readonly store: Store;
  readonly clock: ManualClock;
  readonly logger: ReturnType<typeof createMemoryLogger>;
  readonly tracker: FakeTracker;
  /** The delivery worker, wired to the app's onSettled (write-back), allowed to reach the loopback tracker. */
  readonly worker: Worker;
  /** Delivers everything due now by the ManualClock (worker.drain: a reversal woken by its sale goes out in the same call). */
  deliver(): Promise<BatchSummary>;
  shop(): Promise<StoreConnection>;
  webhook(path: string, topic: string, body: unknown, options?: WebhookOptions): Promise<Response>;
  proxy(body: unknown, options?: ProxyOptions): Promise<Response>;
  saveOffer(input?: Partial<OfferInput>): Promise<Offer>;
  jobs(orderId?: string): Promise<PostbackJob[]>;
  storeOfflineSession(shop?: string): Promise<void>;
  close(): Promise<void>;
}

let webhookCounter = 0;

/** Tests never reach Shopify: without a stand-in, Admin API calls get a GraphQL error at once. */
const noShopify: GraphqlFetch = async () =>
  new Response(JSON.stringify({ errors: [{ message: 'no Admin API in this test' }] }), { status: 200, headers: { 'content-type': 'application/json' } });

export function webhookHmac(body: string, secret = apiSecret): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

export interface HarnessOptions {
  readonly graphqlFetch?: GraphqlFetch;
  readonly env?: Record<string, string>;
  /** Runs on PostgreSQL: the store in this schema, the Shopify sessions in the same database. */
  readonly postgres?: { readonly url: string; readonly schema: string };
  /** What the app gets for its store (the harness's own reads go to the store itself). */
  readonly wrapStore?: (store: Store) => Store;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'clickthread-shopify-'));
  const clock = new ManualClock('2026-03-02T12:05:00.000Z');
  const logger = createMemoryLogger();
  const store = options.postgres
    ? createPostgresStore({ connectionString: options.postgres.url, schema: options.postgres.schema, poolSize: 4 })
    : createSqliteStore({ path: join(dir, 'clickthread.db') });
  await store.migrate();
  const tracker = await startFakeTracker();
  const config = loadShopifyConfig({
    SHOPIFY_API_KEY: 'test-client-id',
    SHOPIFY_API_SECRET: apiSecret,
    SHOPIFY_APP_URL: 'https://clickthread.example.com',
    SCOPES: 'read_orders,write_orders',
    SHOPIFY_API_VERSION: apiVersion,
    CLICKTHREAD_DATA_DIR: dir,
    SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
    ...(options.postgres ? { DATABASE_URL: options.postgres.url } : {}),
    ...options.env,
  });
  const handle = createShopifyApp({ config, store: options.wrapStore ? options.wrapStore(store) : store, clock, logger, graphqlFetch: options.graphqlFetch ?? noShopify });
  const server: Server = createServer(handle.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await handle.sessionStorage.storage.ready;
  const installed = await handle.installShop(shopDomain);
  const worker = createWorker({
    store,
    clock,
    logger,
    ssrf: { allowPrivate: true },
    schedule: [60_000],
    jitter: 0,
    timeoutMs: 2_000,
    workerId: 'w-shopify-test',
    onSettled: handle.onSettled,
  });

  const harness: Harness = {
    baseUrl,
    handle,
    store,
    clock,
    logger,
    tracker,
    worker,
    deliver: () => worker.drain(),
    async shop() {
      return (await store.getStore(installed.id)) ?? installed;
    },
    async webhook(path, topic, body, o = {}) {
      const raw = o.rawBody ?? JSON.stringify(body);
      webhookCounter += 1;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': o.shop ?? shopDomain,
        'x-shopify-api-version': apiVersion,
        'x-shopify-webhook-id': o.webhookId ?? `wh-${webhookCounter}-${Math.random().toString(16).slice(2)}`,
        'x-shopify-triggered-at': o.triggeredAt ?? clock.now().toISOString(),
      };
      if (o.eventId !== null) headers['x-shopify-event-id'] = o.eventId ?? `ev-${webhookCounter}-${Math.random().toString(16).slice(2)}`;
      const hmac = o.hmac === undefined ? webhookHmac(raw, o.signWith) : o.hmac;
      if (hmac !== null) headers['x-shopify-hmac-sha256'] = hmac;
      return fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: raw });
    },
    async proxy(body, o = {}) {
      const q = new URLSearchParams({
        shop: o.shop ?? shopDomain,
        logged_in_customer_id: o.customerId ?? '',
        path_prefix: '/apps/clickthread',
        timestamp: String(o.timestamp ?? Math.floor(clock.now().getTime() / 1000)),
      });
      q.append('signature', signAppProxyQuery(q, o.signWith ?? apiSecret));
      o.tamper?.(q);
      return fetch(`${baseUrl}/proxy/capture?${q.toString()}`, {
        method: 'POST',
        headers: {
          'content-type': o.contentType ?? 'application/json',
          ...(o.forwardedHost ? { 'x-forwarded-host': o.forwardedHost } : {}),
          ...(o.forwardedFor ? { 'x-forwarded-for': o.forwardedFor } : {}),
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async saveOffer(input = {}) {
      const parsed = parseOffer({
        id: 'offer-1',
        name: 'Test network',
        network: 'custom',
        captureParams: ['transaction_id', 'click_id'],
        allowHttp: true,
        amount: { basis: 'subtotal', currency: 'presentment' },
        postbacks: {
          sale: { url: `${tracker.url}/sale?tid={transaction_id}&amount={amount}&cur={currency}&order={order_id}&test={test}` },
          refund: { url: `${tracker.url}/refund?tid={transaction_id}&amount={amount}&order={order_id}` },
          cancel: { url: `${tracker.url}/cancel?tid={transaction_id}&order={order_id}` },
        },
        ...input,
      });
      if (!parsed.ok) throw new Error(formatOfferIssues(parsed.reason));
      await store.saveOffer(installed.merchantId, parsed.value, clock.now());
      return parsed.value;
    },
    async jobs(orderId) {
      return (await store.listJobs({ storeId: installed.id, ...(orderId === undefined ? {} : { orderId }), limit: 500 })).toReversed();
    },
    async storeOfflineSession(shop = shopDomain) {
      const session = new Session({ id: handle.shopify.api.session.getOfflineId(shop), shop, state: 'test', isOnline: false, accessToken, scope: 'read_orders,write_orders' });
      await handle.sessionStorage.storage.storeSession(session);
    },
    async close() {
      const closed = new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      server.closeAllConnections();
      await closed;
      await worker.stop();
      await handle.close();
      await tracker.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await harness.storeOfflineSession();
  return harness;
}
