import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '@shopify/shopify-api';
import { ManualClock, type Clock, type Logger, type OfferInput } from '@clickthread/core';
import { buildOffer } from '@clickthread/core/fixtures';
import { createWorker, type Worker } from '@clickthread/core/delivery';
import { createDurableWriteBack, type DurableWriteBack } from '@clickthread/core/write-back';
import { createSqliteStore, type Store } from '@clickthread/core/storage';
import { startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import { createShopifyApp, loadShopifyConfig, type ShopifyAppHandle } from '@clickthread/shopify-app';
import { createBridge, loadBridgeConfig, type Bridge } from '@clickthread/woocommerce-bridge';
import { startFakeWoo, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';

/**
 * The whole system for the fault suite, composed as production composes it: the real Shopify app
 * and the real WooCommerce bridge (each on its own HTTP server on 127.0.0.1), one SQLite store,
 * one delivery worker writing back to both, a fake tracker, and a fake WooCommerce store connected
 * through the bridge's real connect flow. Every secret is a distinct, recognizable value so a test
 * can look for it anywhere (logs, stored rows).
 */

export const secrets = {
  shopifyApiSecret: 'shpss_FAULTSUITE_api_secret_6b1f0c2e9d',
  shopifyAccessToken: 'shpat_FAULTSUITE_access_token_51ac7e',
  wooConsumerKey: 'ck_FAULTSUITE_consumer_key_0d4c1b7a29e38f',
  wooConsumerSecret: 'cs_FAULTSUITE_consumer_secret_93be0a7d4',
  wooWebhookSecret: 'FAULTSUITEwebhookSecret7Qm2xV9pL4tR8kZ',
  secretKey: randomBytes(32).toString('base64'),
  trackerToken: 'FAULTSUITEtrackerToken4e7d',
  trackerSecurityToken: 'FAULTSUITEsecurityToken9a1c',
} as const;

export const shopDomain = 'fault-shop.myshopify.com';
export const wooMerchant = 'woo-merchant';
export const wooMetaKey = '_ct_transaction_id';

export interface SystemOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The SQLite file; a temporary one when omitted. */
  readonly sqlitePath?: string;
  /** Delays between attempts (default one minute, then dead). */
  readonly schedule?: readonly number[];
  /** The write-back retry schedule (default: core's). */
  readonly writeBackSchedule?: readonly number[];
}

export interface ShopifyWebhookOptions {
  readonly topic?: string;
  readonly path?: string;
  readonly webhookId?: string;
  readonly eventId?: string;
  readonly secret?: string;
}

export interface System {
  readonly store: Store;
  readonly clock: Clock;
  readonly tracker: FakeTracker;
  readonly worker: Worker;
  /** The write-backs of both apps (the worker's onSettled); runOnce() tries what is due. */
  readonly writeBacks: DurableWriteBack;
  readonly shopify: { readonly url: string; readonly handle: ShopifyAppHandle; readonly merchantId: string; readonly storeId: string };
  readonly woo: { readonly url: string; readonly bridge: Bridge; readonly fake: FakeWoo; readonly connectionId: string; readonly webhookPath: string; readonly source: string };
  /** Headers of a Shopify webhook for these exact bytes. */
  shopifyHeaders(body: string, options?: ShopifyWebhookOptions): Record<string, string>;
  /** Headers of a Woo order webhook for these exact bytes. */
  wooHeaders(body: string, topic?: string): Record<string, string>;
  sendShopify(body: string, options?: ShopifyWebhookOptions): Promise<Response>;
  sendWoo(body: string, topic?: string): Promise<Response>;
  /** Delivers everything due now (worker.drain, reversals woken by their sale included); resolves to the jobs claimed. */
  drain(): Promise<number>;
  close(): Promise<void>;
}

async function listen(handler: RequestListener): Promise<{ server: Server; url: string; sockets: Set<Socket> }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

async function shut(s: { server: Server; sockets: Set<Socket> }): Promise<void> {
  const closed = new Promise<void>((resolve) => s.server.close(() => resolve()));
  for (const socket of s.sockets) socket.destroy();
  await closed;
}

/** Offers with the tracker's secrets in their URLs (TUNE's security_token, a token= parameter). */
export function faultOffers(trackerUrl: string): OfferInput[] {
  return [
    {
      id: 'net-a',
      name: 'Network A (TUNE)',
      network: 'tune',
      captureParams: ['transaction_id'],
      allowHttp: true,
      testOrders: 'send',
      postbacks: {
        sale: { url: `${trackerUrl}/net-a?transaction_id={transaction_id}&amount={amount}&adv_sub={order_id}&security_token=${secrets.trackerSecurityToken}` },
      },
    },
    {
      id: 'net-b',
      name: 'Network B',
      network: 'custom',
      captureParams: ['transaction_id'],
      allowHttp: true,
      testOrders: 'send',
      postbacks: {
        sale: { url: `${trackerUrl}/net-b?tid={transaction_id}&order={order_id}&event={event}&token=${secrets.trackerToken}` },
      },
    },
  ];
}

let sequence = 0;

/** The Admin API stand-in: every tagsAdd is done. */
async function graphqlFetch(): Promise<Response> {
  return new Response(JSON.stringify({ data: { tagsAdd: { node: { id: 'gid://shopify/Order/1' }, userErrors: [] } } }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}

/** What the bridge's server answers until the bridge exists (it needs the server's URL first). */
const unavailable: RequestListener = (_req, res) => {
  res.writeHead(503).end();
};

export async function startSystem(options: SystemOptions): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'clickthread-faults-'));
  const clock = options.clock ?? new ManualClock('2026-03-02T12:05:00.000Z');
  const { logger } = options;
  const store = createSqliteStore({ path: options.sqlitePath ?? join(dir, 'clickthread.db') });
  await store.migrate();
  const tracker = await startFakeTracker();
  tracker.behave('*', { kind: 'tune', answer: 'success' });
  const offers = faultOffers(tracker.url).map((o) => buildOffer(o));

  // Shopify: the app as main.ts builds it, a shop installed with an offline session
  const shopifyConfig = loadShopifyConfig({
    SHOPIFY_API_KEY: 'fault-suite-client-id',
    SHOPIFY_API_SECRET: secrets.shopifyApiSecret,
    SHOPIFY_APP_URL: 'https://clickthread.example.com',
    CLICKTHREAD_DATA_DIR: dir,
    SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
  });
  const handle = createShopifyApp({ config: shopifyConfig, store, clock, logger, graphqlFetch });
  await handle.sessionStorage.storage.ready;
  const shop = await handle.installShop(shopDomain);
  await handle.sessionStorage.storage.storeSession(
    new Session({
      id: handle.shopify.api.session.getOfflineId(shopDomain),
      shop: shopDomain,
      state: 'fault-suite',
      isOnline: false,
      accessToken: secrets.shopifyAccessToken,
      scope: 'read_orders,write_orders',
    }),
  );
  for (const offer of offers) await store.saveOffer(shop.merchantId, offer, clock.now());
  const shopifyServer = await listen(handle.app);

  // WooCommerce: the bridge, a fake store connected through the real connect flow
  let bridgeHandler: RequestListener = unavailable;
  const wooServer = await listen((req, res) => bridgeHandler(req, res));
  const bridgeConfig = loadBridgeConfig({
    NODE_ENV: 'test',
    CLICKTHREAD_DATA_DIR: dir,
    CLICKTHREAD_SECRET_KEY: secrets.secretKey,
    CLICKTHREAD_WOO_PUBLIC_URL: wooServer.url,
    CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
    CLICKTHREAD_WOO_REST_TIMEOUT_MS: '5000',
  });
  const bridge = createBridge({ config: bridgeConfig, store, clock, logger, newWebhookSecret: () => secrets.wooWebhookSecret });
  bridgeHandler = bridge.app;
  const fake = await startFakeWoo({ clock: clock instanceof ManualClock ? clock : new ManualClock(clock.now()), consumerKey: secrets.wooConsumerKey, consumerSecret: secrets.wooConsumerSecret });
  await store.createMerchant({ id: wooMerchant, name: 'Woo merchant', now: clock.now() });
  for (const offer of offers) await store.saveOffer(wooMerchant, offer, clock.now());
  const connected = await bridge.connections.connectStore({
    url: fake.url,
    consumerKey: secrets.wooConsumerKey,
    consumerSecret: secrets.wooConsumerSecret,
    merchantId: wooMerchant,
    idMetaKeys: [wooMetaKey],
  });
  if (!connected.ok) throw new Error(`fault suite: Woo connect failed: ${connected.reason}`);
  const connectionId = connected.value.connection.id;
  const webhookId = connected.value.connection.settings.webhookIds['order.updated'] ?? 1;

  const worker = createWorker({
    store,
    clock,
    logger,
    ssrf: { allowPrivate: true },
    schedule: options.schedule ?? [60_000],
    jitter: 0,
    timeoutMs: 2_000,
    workerId: 'fault-suite-worker',
    onSettled: (job, outcome) => writeBacks.onSettled(job, outcome),
  });
  // one write-back for both platforms, as scripts/compose.ts has it
  const writeBacks = createDurableWriteBack({ store, clock, logger, writers: { shopify: handle.writeBack, woocommerce: bridge.writeBack }, ...(options.writeBackSchedule ? { schedule: options.writeBackSchedule } : {}) });

  const shopifyHeaders = (body: string, o: ShopifyWebhookOptions = {}): Record<string, string> => {
    sequence += 1;
    return {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256': createHmac('sha256', o.secret ?? secrets.shopifyApiSecret).update(body, 'utf8').digest('base64'),
      'x-shopify-topic': o.topic ?? 'orders/paid',
      'x-shopify-shop-domain': shopDomain,
      'x-shopify-api-version': '2026-07',
      'x-shopify-webhook-id': o.webhookId ?? `wh-${sequence}-${randomBytes(4).toString('hex')}`,
      'x-shopify-event-id': o.eventId ?? `ev-${sequence}-${randomBytes(4).toString('hex')}`,
      'x-shopify-triggered-at': clock.now().toISOString(),
    };
  };
  const wooHeaders = (body: string, topic = 'order.updated'): Record<string, string> => ({
    'content-type': 'application/json',
    'user-agent': 'WooCommerce/9.9.5 Hookshot (WordPress/6.8.3)',
    'x-wc-webhook-source': fake.url,
    'x-wc-webhook-topic': topic,
    'x-wc-webhook-resource': topic.split('.')[0] ?? 'order',
    'x-wc-webhook-event': topic.split('.')[1] ?? 'updated',
    'x-wc-webhook-signature': createHmac('sha256', secrets.wooWebhookSecret).update(body, 'utf8').digest('base64'),
    'x-wc-webhook-id': String(webhookId),
    'x-wc-webhook-delivery-id': randomBytes(16).toString('hex'),
  });
  const webhookPath = `/webhooks/woocommerce/${connectionId}`;

  return {
    store,
    clock,
    tracker,
    worker,
    writeBacks,
    shopify: { url: shopifyServer.url, handle, merchantId: shop.merchantId, storeId: shop.id },
    woo: { url: wooServer.url, bridge, fake, connectionId, webhookPath, source: fake.url },
    shopifyHeaders,
    wooHeaders,
    sendShopify: (body, o = {}) => fetch(`${shopifyServer.url}${o.path ?? '/webhooks/orders/paid'}`, { method: 'POST', body, headers: shopifyHeaders(body, o) }),
    sendWoo: (body, topic) => fetch(`${wooServer.url}${webhookPath}`, { method: 'POST', body, headers: wooHeaders(body, topic) }),
    drain: async () => (await worker.drain()).claimed,
    async close() {
      await worker.stop();
      await shut(shopifyServer);
      await shut(wooServer);
      await bridge.close();
      await handle.close();
      await fake.close();
      await tracker.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
