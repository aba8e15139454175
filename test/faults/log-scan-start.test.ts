import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '@shopify/shopify-api';
import { createLogger, ManualClock } from '@clickthread/core';
import { startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import { startFakeWoo, wooOrderAt, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickthread, type RunningClickthread } from '../../scripts/compose.ts';
import { buildOrderPayload, captureAttribute } from '../shopify/order-payload-builder.ts';

/**
 * Log scan of `pnpm start` itself (scripts/compose.ts, every setting from the environment, its own
 * start-up notices): the operator token, the Shopify client secret and offline token, the at-rest
 * key, Woo consumer key/secret and webhook secret, an issued API token, tracker tokens in offer
 * URLs — driven through the agency API (create a merchant, issue a token, connect a store, save an
 * offer, test-fire, read the postback log, replay dead letters), both webhooks, retries to dead
 * letters. The real pino logger at debug level writes into memory; no secret may be in any line.
 */

const secrets = {
  adminToken: 'ctop_LOGSCAN_operator_token_5d8e1f0a7b2c4d6e',
  shopifyApiSecret: 'shpss_LOGSCAN_client_secret_0f9e8d7c6b5a',
  shopifyAccessToken: 'shpat_LOGSCAN_offline_token_1a2b3c4d',
  secretKey: randomBytes(32).toString('base64'),
  wooConsumerKey: 'ck_LOGSCANconsumerkey4f2a9c7e1b3d5f60718293',
  wooConsumerSecret: 'cs_LOGSCANconsumersecret8e6d4c2b0a9f7e5d3c1b',
  trackerToken: 'LOGSCANtrackerToken7c1d',
  trackerSecurityToken: 'LOGSCANsecurityToken2e9b',
};
const shop = 'logscan-shop.myshopify.com';

const lines: string[] = [];
const clock = new ManualClock('2026-03-02T12:05:00.000Z');
let dataDir: string;
let tracker: FakeTracker;
let woo: FakeWoo;
let running: RunningClickthread;
const discovered: Record<string, string> = {};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'clickthread-logscan-'));
  tracker = await startFakeTracker();
  tracker.behave('*', { kind: 'tune', answer: 'success' });
  woo = await startFakeWoo({ clock, consumerKey: secrets.wooConsumerKey, consumerSecret: secrets.wooConsumerSecret });
  const port = await freePort();
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  running = await startClickthread({
    env: {
      NODE_ENV: 'development',
      CLICKTHREAD_LOG_LEVEL: 'debug',
      CLICKTHREAD_DATA_DIR: dataDir,
      CLICKTHREAD_SECRET_KEY: secrets.secretKey,
      CLICKTHREAD_ADMIN_TOKEN: secrets.adminToken,
      CLICKTHREAD_WOO_HOST: '127.0.0.1',
      CLICKTHREAD_WOO_PORT: String(port),
      CLICKTHREAD_WOO_PUBLIC_URL: `http://127.0.0.1:${port}`,
      CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
      CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS: '86400',
      CLICKTHREAD_ALLOW_PRIVATE_TARGETS: 'true',
      SHOPIFY_API_KEY: 'logscan-client-id',
      SHOPIFY_API_SECRET: secrets.shopifyApiSecret,
      SHOPIFY_APP_URL: 'https://clickthread.example',
      SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
      PORT: '0',
    },
    overrides: {
      clock,
      logger,
      graphqlFetch: async () =>
        new Response(JSON.stringify({ data: { tagsAdd: { node: { id: 'gid://shopify/Order/1' }, userErrors: [] } } }), { status: 200, headers: { 'content-type': 'application/json' } }),
    },
  });
});
afterAll(async () => {
  await running.stop();
  await woo.close();
  await tracker.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${running.bridgeUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function offerBody(id: string, path: string): Record<string, unknown> {
  return {
    id,
    name: `Log scan ${id}`,
    network: 'custom',
    captureParams: ['transaction_id'],
    allowHttp: true,
    testOrders: 'send',
    postbacks: { sale: { url: `${tracker.url}${path}?tid={transaction_id}&order={order_id}&token=${secrets.trackerToken}&security_token=${secrets.trackerSecurityToken}` } },
  };
}

/** Lets the running worker do what is due now. */
async function settle(expectedRequests: number): Promise<void> {
  running.worker.wake();
  await tracker.waitForRequests(expectedRequests, 10_000);
  // the attempt is stored just after the tracker answered
  for (let i = 0; i < 100 && (await running.store.countJobs()).in_flight > 0; i += 1) await new Promise((r) => setTimeout(r, 20));
}

describe('log scan of pnpm start', () => {
  it('the agency API, both webhooks, retries and dead letters: no secret in any log line', { timeout: 30_000 }, async () => {
    const shopify = running.shopify;
    const shopifyUrl = running.shopifyUrl;
    if (!shopify || shopifyUrl === undefined) throw new Error('the Shopify app did not start');

    // the agency API, with the operator token, then with an issued merchant token
    expect((await api('GET', '/me', 'ctop_wrong_token_000000000000000000')).status).toBe(401);
    expect((await api('POST', '/merchants', secrets.adminToken, { id: 'logscan-m', name: 'Log scan merchant' })).status).toBe(201);
    const issued = await api('POST', '/tokens', secrets.adminToken, { scope: { kind: 'merchant', merchantId: 'logscan-m' }, label: 'log scan' });
    expect(issued.status).toBe(201);
    const merchantToken = String(issued.body['token']);
    discovered['issuedApiToken'] = merchantToken;
    const connected = await api('POST', '/merchants/logscan-m/stores', merchantToken, {
      url: woo.url,
      consumerKey: secrets.wooConsumerKey,
      consumerSecret: secrets.wooConsumerSecret,
      idMetaKeys: ['_tid'],
    });
    expect(connected.status).toBe(201);
    for (const hook of woo.webhooks()) discovered[`wooWebhookSecret${hook.id}`] = hook.secret;
    expect((await api('POST', '/merchants/logscan-m/offers', merchantToken, offerBody('scan-a', '/a'))).status).toBe(201);
    expect((await api('POST', '/merchants/logscan-m/offers', merchantToken, offerBody('scan-b', '/b'))).status).toBe(201);
    expect((await api('PUT', '/merchants/logscan-m/offers/scan-b', merchantToken, { ...offerBody('scan-b', '/b'), name: 'renamed' })).status).toBe(200);
    const fired = await api('POST', '/merchants/logscan-m/offers/scan-a/test-fire', merchantToken, { via: 'direct' });
    expect(fired.status).toBe(200);

    // a Woo order through Woo's own signed delivery; /b fails until its jobs are dead letters
    tracker.behave('/b', { kind: 'sequence', steps: [{ kind: 'reply', status: 500, body: 'no' }, { kind: 'reset' }, { kind: 'reply', status: 503 }] });
    await woo.addOrder(wooOrderAt(clock.now(), { id: 61, status: 'processing', created_via: 'rest-api', meta_data: [{ id: 1, key: '_tid', value: 'scan-woo-1' }] }));
    await settle(3);

    // a Shopify shop with its offline token, a good and a forged webhook
    await shopify.installShop(shop);
    await shopify.sessionStorage.storage.storeSession(
      new Session({ id: shopify.shopify.api.session.getOfflineId(shop), shop, state: 'logscan', isOnline: false, accessToken: secrets.shopifyAccessToken, scope: 'read_orders,write_orders' }),
    );
    const shopRow = await running.store.getStore(`shopify:${shop}`);
    const offer = await running.store.getOffer('logscan-m', 'scan-a');
    if (!shopRow || !offer) throw new Error('the shop or the offer is missing');
    await running.store.saveOffer(shopRow.merchantId, offer, clock.now());
    const body = JSON.stringify(buildOrderPayload({ note_attributes: [captureAttribute({ id: 'scan-shop-1' })] }));
    const send = (secret: string) =>
      fetch(`${shopifyUrl}/webhooks/orders/paid`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body, 'utf8').digest('base64'),
          'x-shopify-topic': 'orders/paid',
          'x-shopify-shop-domain': shop,
          'x-shopify-api-version': '2026-07',
          'x-shopify-webhook-id': randomBytes(6).toString('hex'),
          'x-shopify-event-id': randomBytes(6).toString('hex'),
        },
        body,
      });
    expect((await send('not-the-secret')).status).toBe(401);
    expect((await send(secrets.shopifyApiSecret)).status).toBe(200);
    await settle(4);

    // retries as the days pass, until the failing network's job is a dead letter; then a replay
    // two days a step: longer than the longest delay of the default schedule with its jitter
    for (let step = 0; step < 12 && (await running.store.countJobs()).dead === 0; step += 1) {
      clock.advance(2 * 86_400_000);
      await settle(tracker.requests.length + 1);
    }
    expect((await running.store.countJobs()).dead).toBe(1);
    tracker.behave('/b', { kind: 'tune', answer: 'success' });
    expect((await api('POST', '/merchants/logscan-m/dead-letters/replay', merchantToken, {})).status).toBeLessThan(300);
    await settle(tracker.requests.length + 1);
    const log = await api('GET', '/merchants/logscan-m/postbacks', merchantToken);
    expect(log.status).toBe(200);

    const everything = lines.join('\n');
    expect(lines.length).toBeGreaterThan(20);
    const leaks: string[] = [];
    for (const [name, secret] of Object.entries({ ...secrets, ...discovered })) {
      for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])) {
        const line = lines.find((l) => l.includes(form));
        if (line !== undefined) leaks.push(`${name}: ${line.slice(0, 400)}`);
      }
    }
    expect(leaks).toEqual([]);
    // and the postback log the merchant reads shows the URLs with their tokens redacted
    expect(JSON.stringify(log.body)).not.toContain(secrets.trackerToken);
    expect(everything).toContain('[redacted]');
  });
});
