import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '@shopify/shopify-api';
import { createMemoryLogger, ManualClock } from '@clickthread/core';
import { startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import type { GraphqlFetch } from '@clickthread/shopify-app';
import { startFakeWoo, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { startClickthread, type ClickthreadOverrides, type RunningClickthread } from '../../../scripts/compose.ts';
import { sessionToken } from './session-token.ts';

/**
 * The whole system as `pnpm start` runs it (startClickthread: both apps on 127.0.0.1, port 0, one
 * store, one access store, one worker), with the operator token set, a ManualClock, a loopback
 * tracker and a fake WooCommerce store. Shopify's Admin API is never called: GraphQL answers with
 * an error at once, and the shops' offline sessions are stored up front so no token exchange runs.
 */

export const adminToken = 'operator-token-for-system-tests-0123456789abcdef';
export const shopifyApiKey = 'system-test-client-id';
export const shopifySecret = 'shpss_0123456789abcdef0123456789abcdef';
export const shopA = 'shop-a.myshopify.com';
export const shopB = 'shop-b.myshopify.com';
export const apiVersion = '2026-07';

const noShopify: GraphqlFetch = async () =>
  new Response(JSON.stringify({ errors: [{ message: 'no Admin API in this test' }] }), { status: 200, headers: { 'content-type': 'application/json' } });

export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export interface SystemWorld {
  readonly running: RunningClickthread;
  readonly clock: ManualClock;
  readonly tracker: FakeTracker;
  readonly woo: FakeWoo;
  readonly logger: ReturnType<typeof createMemoryLogger>;
  readonly bridgeUrl: string;
  readonly shopifyUrl: string;
  /** A JSON call to /api/v1 of one app. */
  api(app: 'bridge' | 'shopify', method: string, path: string, token: string | undefined, body?: unknown): Promise<ApiAnswer>;
  /** A session token of the embedded admin for this shop. */
  sessionToken(shop: string, overrides?: Record<string, unknown>): string;
  /** A Shopify webhook signed as Shopify signs it; the answer is read whole. */
  shopifyWebhook(path: string, topic: string, body: unknown, shop: string): Promise<{ status: number; text: string }>;
  /** Polls the API until `done` holds (the background worker may deliver before runOnce does). */
  eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T>;
  close(): Promise<void>;
}

let webhookCounter = 0;

export async function startSystemWorld(options: { env?: Record<string, string>; overrides?: ClickthreadOverrides } = {}): Promise<SystemWorld> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ct-admin-system-'));
  const clock = new ManualClock('2026-03-02T12:05:00.000Z');
  const logger = createMemoryLogger();
  const tracker = await startFakeTracker();
  tracker.behave('*', { kind: 'tune', answer: 'success' });
  const woo = await startFakeWoo({ clock });
  const env = {
    SHOPIFY_API_KEY: shopifyApiKey,
    SHOPIFY_API_SECRET: shopifySecret,
    SHOPIFY_APP_URL: 'https://clickthread.example',
    SHOPIFY_API_VERSION: apiVersion,
    SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
    CLICKTHREAD_DATA_DIR: dataDir,
    CLICKTHREAD_WOO_PORT: '0',
    PORT: '0',
    CLICKTHREAD_WOO_HOST: '127.0.0.1',
    CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('base64'),
    CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
    CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS: '86400',
    // the tracker is on loopback, which only this setting allows
    CLICKTHREAD_ALLOW_PRIVATE_TARGETS: 'true',
    CLICKTHREAD_ADMIN_TOKEN: adminToken,
    ...options.env,
  };
  let running: RunningClickthread;
  try {
    running = await startClickthread({ env, overrides: { clock, logger, graphqlFetch: noShopify, ...options.overrides } });
  } catch (error) {
    await woo.close();
    await tracker.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const shopify = running.shopify;
  const shopifyUrl = running.shopifyUrl;
  if (!shopify || shopifyUrl === undefined) throw new Error('the Shopify app did not start');
  for (const shop of [shopA, shopB]) {
    await shopify.installShop(shop);
    const session = new Session({ id: shopify.shopify.api.session.getOfflineId(shop), shop, state: 'test', isOnline: false, accessToken: 'shpat_test', scope: 'read_orders,write_orders' });
    await shopify.sessionStorage.storage.storeSession(session);
  }

  const world: SystemWorld = {
    running,
    clock,
    tracker,
    woo,
    logger,
    bridgeUrl: running.bridgeUrl,
    shopifyUrl,
    async api(app, method, path, token, body) {
      const headers: Record<string, string> = {};
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${app === 'bridge' ? running.bridgeUrl : shopifyUrl}/api/v1${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
    },
    sessionToken: (shop, overrides = {}) => sessionToken({ shop, apiKey: shopifyApiKey, secret: shopifySecret, overrides }),
    async shopifyWebhook(path, topic, body, shop) {
      const raw = JSON.stringify(body);
      webhookCounter += 1;
      const res = await fetch(`${shopifyUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          'x-shopify-shop-domain': shop,
          'x-shopify-api-version': apiVersion,
          'x-shopify-webhook-id': `wh-system-${webhookCounter}`,
          'x-shopify-event-id': `ev-system-${webhookCounter}`,
          'x-shopify-triggered-at': clock.now().toISOString(),
          'x-shopify-hmac-sha256': createHmac('sha256', shopifySecret).update(raw, 'utf8').digest('base64'),
        },
        body: raw,
      });
      return { status: res.status, text: await res.text() };
    },
    async eventually(read, done) {
      let value = await read();
      for (let i = 0; i < 100 && !done(value); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        value = await read();
      }
      return value;
    },
    async close() {
      await running.stop();
      await woo.close();
      await tracker.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return world;
}
