// The real Shopify app or WooCommerce bridge on a fresh SQLite file, with one shop/connection and
// one offer, for the ingest and memory benchmarks: `node bench/servers/ingest-app-server.ts shopify|woo`.
// CLICKTHREAD_SQLITE_SYNC (full|normal) sets the SQLite durability, as in production.
// Logs go to stdout at info, as in production (the parent reads and drops them).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, createLogger, parseOffer, systemClock, type Offer } from '@clickthread/core';
import { createStore, parseSqliteSync, type Store } from '@clickthread/core/storage';
import { buildOfferInput } from '@clickthread/core/testing';
import { createShopifyApp, loadShopifyConfig, merchantIdForShop } from '@clickthread/shopify-app';
import { createBridge, loadBridgeConfig } from '@clickthread/woocommerce-bridge';
import { startFakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { announceReady, onTerminate } from '../shared/child-server.ts';
import { createLoopDelayProbe } from '../shared/server-loop-delay.ts';
import { benchShop, benchWooMetaKey } from '../fixtures/webhook-requests.ts';

export interface IngestServerInfo {
  readonly url: string;
  readonly path: string;
  readonly secret: string;
  /** Woo only: X-WC-Webhook-Source and the webhook id. */
  readonly source?: string;
  readonly webhookId?: number;
  readonly dbPath: string;
}

const kind = process.argv[2];
if (kind !== 'shopify' && kind !== 'woo') {
  console.error('usage: ingest-app-server.ts shopify|woo');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), `clickthread-bench-${kind}-`));
const dbPath = join(dir, 'clickthread.db');
const sync = parseSqliteSync(process.env['CLICKTHREAD_SQLITE_SYNC']);
if (!sync.ok) {
  console.error(sync.reason);
  process.exit(2);
}
const store: Store = createStore({ sqlitePath: dbPath, sqliteSync: sync.value });
await store.migrate();
const logger = createLogger({ level: process.env['BENCH_LOG_LEVEL'] ?? 'info' });
const now = systemClock.now();

function benchOffer(): Offer {
  // the worker does not run here: the postback target is never called
  const parsed = parseOffer(buildOfferInput({ id: 'bench-offer', baseUrl: 'http://127.0.0.1:9' }));
  if (!parsed.ok) throw new Error(`bench offer is invalid: ${JSON.stringify(parsed.reason)}`);
  return parsed.value;
}

// The server listens before the app exists: the bridge's public URL (and so its webhook delivery
// URL) needs the port.
let handler: RequestListener = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(503).end();
};
const probe = createLoopDelayProbe();
const server = createServer((req, res) => {
  if (!probe(req, res)) handler(req, res);
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const closers: Array<() => Promise<void>> = [];

let info: IngestServerInfo;
if (kind === 'shopify') {
  const secret = 'shpss_bench_secret_0123456789abcdef';
  const config = loadShopifyConfig({
    SHOPIFY_API_KEY: 'bench-api-key',
    SHOPIFY_API_SECRET: secret,
    SHOPIFY_APP_URL: url.replace(/:\d+$/, '').replace('127.0.0.1', 'localhost'),
    CLICKTHREAD_DATA_DIR: dir,
    SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
    SHOPIFY_WRITE_BACK: 'false',
  });
  const shopify = createShopifyApp({ config, store, clock: systemClock, logger });
  await shopify.installShop(benchShop);
  await store.saveOffer(merchantIdForShop(benchShop), benchOffer(), now);
  handler = shopify.app;
  closers.push(() => shopify.close());
  info = { url, path: '/webhooks/orders/paid', secret, dbPath };
} else {
  const webhookSecret = 'benchWebhookSecret0123456789abcdefABCDEF';
  const config = loadBridgeConfig({
    NODE_ENV: 'test',
    CLICKTHREAD_DATA_DIR: dir,
    CLICKTHREAD_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    CLICKTHREAD_WOO_PUBLIC_URL: url,
    CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
    CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS: '86400',
  });
  const bridge = createBridge({
    config,
    store,
    clock: systemClock,
    logger,
    newConnectionId: () => 'wc_bench',
    newWebhookSecret: () => webhookSecret,
  });
  handler = bridge.app;
  closers.push(() => bridge.close());
  // a real connect (REST key check, webhook creation and ping) against the fake WooCommerce, then it goes away
  const woo = await startFakeWoo({ clock: new ManualClock(now) });
  await store.createMerchant({ id: 'bench-merchant', name: 'Bench merchant', now });
  const connected = await bridge.connections.connectStore({
    url: woo.url,
    consumerKey: woo.consumerKey,
    consumerSecret: woo.consumerSecret,
    merchantId: 'bench-merchant',
    idMetaKeys: [benchWooMetaKey],
  });
  if (!connected.ok) throw new Error(`bench connection failed: ${connected.reason}`);
  const updated = connected.value.connection.settings.webhookIds['order.updated'];
  await woo.close();
  await store.saveOffer('bench-merchant', benchOffer(), now);
  info = {
    url,
    path: `/webhooks/woocommerce/${connected.value.connection.id}`,
    secret: webhookSecret,
    source: woo.url,
    webhookId: updated ?? 1,
    dbPath,
  };
}

onTerminate(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  for (const close of closers) await close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});
announceReady(info);
