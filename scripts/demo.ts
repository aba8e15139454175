// `pnpm demo`: the whole of Clickthread on a fresh clone, in one command and about ten seconds.
// It starts everything (scripts/compose.ts, the same composition as `pnpm start`) on a temporary
// SQLite file with a network tracker and a WooCommerce store faked on loopback, creates a sample
// offer, plays a click → Shopify order → postback and a click → WooCommerce order → postback,
// prints what the tracker received and where to look, and exits 0. `pnpm demo --keep` leaves it
// running (and its data in place) until Ctrl-C, to look around.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureParamsOf, createLogger, findTransactionId, parseOffer, formatOfferIssues, systemClock, type Offer } from '@clickthread/core';
import { startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import { merchantIdForShop } from '@clickthread/shopify-app';
import { startFakeWoo, wooOrderAt, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { startClickthread, type RunningClickthread } from './compose.ts';

const keep = process.argv.includes('--keep');
const shop = 'demo-shop.myshopify.com';
const wooMerchant = 'demo-woo-merchant';
const trackerToken = 'demo-security-token';

function say(text = ''): void {
  process.stdout.write(`${text}\n`);
}

function step(n: number, text: string): void {
  say(`\n${n}. ${text}`);
}

/** A port that was free a moment ago: the bridge must know its own public URL before it listens. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await sleep(50);
  }
}

function sampleOffer(trackerUrl: string): Offer {
  const parsed = parseOffer({
    id: 'demo-tune',
    name: 'Demo network (TUNE / HasOffers)',
    network: 'tune',
    // the fake tracker listens on plain http on loopback; real offers use https
    allowHttp: true,
    postbacks: {
      sale: { url: `${trackerUrl}/aff_lsr?offer_id=7&transaction_id={transaction_id}&amount={amount}&currency={currency}&adv_sub={order_id}&security_token=${trackerToken}` },
    },
  });
  if (!parsed.ok) throw new Error(`demo offer is invalid:\n${formatOfferIssues(parsed.reason)}`);
  return parsed.value;
}

/** What the capture script reads from the landing URL (the same core function it is built from). */
function clickOn(url: string, offer: Offer): { id: string; param: string } {
  const found = findTransactionId(url, captureParamsOf(offer), offer.extraParams);
  if (!found.ok) throw new Error(`demo: no transaction ID in ${url}`);
  return { id: found.value.value, param: found.value.param };
}

function money(amount: string): Record<string, unknown> {
  return { shop_money: { amount, currency_code: 'USD' }, presentment_money: { amount, currency_code: 'USD' } };
}

function shopifyOrderPaid(orderId: number, attribute: string, at: Date): string {
  return JSON.stringify({
    id: orderId,
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: '#1001',
    order_number: 1001,
    created_at: at.toISOString(),
    processed_at: at.toISOString(),
    updated_at: at.toISOString(),
    financial_status: 'paid',
    test: false,
    source_name: 'web',
    currency: 'USD',
    presentment_currency: 'USD',
    subtotal_price: '49.90',
    total_price: '56.40',
    total_tax: '4.00',
    total_discounts: '0.00',
    subtotal_price_set: money('49.90'),
    total_price_set: money('56.40'),
    total_tax_set: money('4.00'),
    total_discounts_set: money('0.00'),
    total_shipping_price_set: money('2.50'),
    landing_site: '/products/fountain-pen',
    cart_token: randomBytes(16).toString('hex'),
    note_attributes: [{ name: '_clickthread', value: attribute }],
    line_items: [{ id: 1, title: 'Fountain pen', quantity: 1, price: '49.90' }],
    refunds: [],
  });
}

async function main(): Promise<RunningClickthread | undefined> {
  const dataDir = mkdtempSync(join(tmpdir(), 'clickthread-demo-'));
  const logFile = join(dataDir, 'clickthread.log');
  writeFileSync(logFile, '');
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => appendFileSync(logFile, line) } });
  const shopifySecret = randomBytes(24).toString('hex');
  let tracker: FakeTracker | undefined;
  let woo: FakeWoo | undefined;
  let running: RunningClickthread | undefined;
  const cleanup = async (removeData: boolean): Promise<void> => {
    await running?.stop();
    await woo?.close();
    await tracker?.close();
    if (removeData) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    say('Clickthread demo: a click, a paid order, a postback — on Shopify and on WooCommerce.');
    tracker = await startFakeTracker();
    tracker.behave('/aff_lsr', { kind: 'tune', answer: 'success' });
    const [bridgePort, shopifyPort] = [await freePort(), await freePort()];

    step(1, 'Start everything (the same composition as `pnpm start`) on a temporary SQLite file');
    running = await startClickthread({
      env: {
        NODE_ENV: 'development',
        CLICKTHREAD_DATA_DIR: dataDir,
        CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('base64'),
        CLICKTHREAD_WOO_HOST: '127.0.0.1',
        CLICKTHREAD_WOO_PORT: String(bridgePort),
        CLICKTHREAD_WOO_PUBLIC_URL: `http://127.0.0.1:${bridgePort}`,
        CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
        // the demo's tracker and shop live on loopback: only an explicit setting lets postbacks go there
        CLICKTHREAD_ALLOW_PRIVATE_TARGETS: 'true',
        SHOPIFY_API_KEY: 'demo-client-id',
        SHOPIFY_API_SECRET: shopifySecret,
        SHOPIFY_APP_URL: 'http://localhost',
        PORT: String(shopifyPort),
        SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
      },
      overrides: { logger },
    });
    const { store, shopify, bridgeUrl, shopifyUrl } = running;
    if (!shopify || !shopifyUrl) throw new Error('demo: the Shopify app did not start');
    say(`   WooCommerce bridge  ${bridgeUrl}`);
    say(`   Shopify app         ${shopifyUrl}`);
    say(`   fake tracker        ${tracker.url}   (a TUNE-style network on loopback)`);
    say(`   data and log        ${dataDir}`);
    say('   NOTE: CLICKTHREAD_ALLOW_PRIVATE_TARGETS is on for this demo only (postbacks to loopback); it is off by default.');

    step(2, 'Create a sample offer (the same JSON the CLI, the API and the admin accept)');
    const offer = sampleOffer(tracker.url);
    const installed = await shopify.installShop(shop);
    await store.saveOffer(installed.merchantId, offer, systemClock.now());
    await store.createMerchant({ id: wooMerchant, name: 'Demo WooCommerce shop', now: systemClock.now() });
    await store.saveOffer(wooMerchant, offer, systemClock.now());
    say(`   offer "${offer.name}" for the Shopify shop ${shop} (merchant ${merchantIdForShop(shop)}) and the Woo merchant ${wooMerchant}`);
    say(`   postback template: ${offer.postbacks.sale?.url.replace(trackerToken, '[token]') ?? ''}`);

    // Shopify
    step(3, 'Shopify: click → order → postback');
    const shopifyLanding = `https://${shop}/products/fountain-pen?transaction_id=102ab7c9e1d4&utm_source=network`;
    const shopifyClick = clickOn(shopifyLanding, offer);
    say(`   the network sends the shopper to ${shopifyLanding}`);
    say(`   the capture script reads ${shopifyClick.param}=${shopifyClick.id} and writes the _clickthread cart attribute`);
    const now = systemClock.now();
    const attribute = JSON.stringify({ v: 1, id: shopifyClick.id, p: shopifyClick.param, t: new Date(now.getTime() - 20 * 60_000).toISOString(), vid: randomBytes(16).toString('hex'), x: {} });
    const shopifyOrderId = 5_900_000_000_001;
    const body = shopifyOrderPaid(shopifyOrderId, attribute, now);
    const webhook = await fetch(`${shopifyUrl}/webhooks/orders/paid`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-hmac-sha256': createHmac('sha256', shopifySecret).update(body, 'utf8').digest('base64'),
        'x-shopify-topic': 'orders/paid',
        'x-shopify-shop-domain': shop,
        'x-shopify-api-version': '2026-07',
        'x-shopify-webhook-id': randomBytes(8).toString('hex'),
        'x-shopify-event-id': randomBytes(8).toString('hex'),
        'x-shopify-triggered-at': now.toISOString(),
      },
      body,
    });
    say(`   Shopify delivers orders/paid for order #1001 (signed with the app secret): the app answers ${webhook.status} ${await webhook.text()}`);
    if (webhook.status !== 200) throw new Error('demo: the Shopify webhook was refused');
    running.worker.wake();
    await until('the Shopify postback', () => tracker?.requests.find((r) => r.query['adv_sub'] === String(shopifyOrderId)));
    say('   the worker sent the postback (see below); tagging the order needs a real shop\'s offline token, so that write-back is skipped here');

    // WooCommerce
    step(4, 'WooCommerce: connect a store → click → order → postback');
    woo = await startFakeWoo({ clock: systemClock });
    const connected = await running.bridge.connections.connectStore({ url: woo.url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, merchantId: wooMerchant });
    if (!connected.ok) throw new Error(`demo: connecting the Woo store failed: ${connected.reason}`);
    const hooks = woo.webhooks().map((h) => h.topic).join(', ');
    say(`   connected ${woo.url} (a WooCommerce REST API faked on loopback): webhooks created (${hooks}), pings answered ${woo.pings.map((p) => p.status).join('/')}`);
    const wooHost = new URL(woo.url).host;
    const wooLanding = `${woo.url}product/notebook/?transaction_id=102fe3b8a5c0&utm_source=network`;
    const wooClick = clickOn(wooLanding, offer);
    const visitor = randomBytes(16).toString('hex');
    const capture = (report: Record<string, unknown>) =>
      fetch(`${bridgeUrl}/capture`, { method: 'POST', headers: { 'content-type': 'application/json', origin: woo?.url.replace(/\/$/, '') ?? '' }, body: JSON.stringify(report) });
    const clicked = await capture({ type: 'click', merchant: wooMerchant, vid: visitor, id: wooClick.id, p: wooClick.param, t: new Date(now.getTime() - 15 * 60_000).toISOString(), x: {}, domain: wooHost });
    say(`   the shopper lands on ${wooLanding}; the capture script reports the click: ${clicked.status}`);
    if (clicked.status !== 204) throw new Error(`demo: the click report was refused: ${await clicked.text()}`);
    const wooOrderId = 1042;
    const orderKey = `wc_order_${randomBytes(6).toString('hex')}`;
    await woo.addOrder(wooOrderAt(systemClock.now(), { id: wooOrderId, status: 'pending', order_key: orderKey, created_via: 'checkout' }));
    say(`   checkout creates order ${wooOrderId} (pending): Woo sends order.created, signed; nothing to report yet`);
    const linked = await capture({ type: 'order', merchant: wooMerchant, vid: visitor, orderId: String(wooOrderId), orderKey, domain: wooHost });
    say(`   the order-received page reports order ${wooOrderId} with its order key; the bridge checks the key over REST: ${linked.status}`);
    if (linked.status !== 204) throw new Error(`demo: the order report was refused: ${await linked.text()}`);
    await woo.updateOrder(wooOrderId, { status: 'processing' });
    say(`   payment arrives: the order is processing and Woo sends order.updated, signed: answered ${woo.deliveries.at(-1)?.status ?? '?'}`);
    running.worker.wake();
    await until('the WooCommerce postback', () => tracker?.requests.find((r) => r.query['adv_sub'] === String(wooOrderId)));
    const note = await until('the order note', () => woo?.notes(wooOrderId).at(0));
    say(`   the worker sent the postback and wrote back to the order: note "${note.note}"`);

    step(5, 'What the tracker received');
    for (const r of tracker.requests) say(`   ${r.method} ${r.target}`);
    const jobs = await store.listJobs({ limit: 10 });
    for (const job of jobs.toReversed()) {
      const attempts = await store.listAttempts(job.id);
      say(`   order ${job.orderId} (${job.idSource}): ${job.status} after ${attempts.length} attempt(s), answer "${attempts.at(-1)?.responseBody ?? ''}"`);
    }
    if (tracker.requests.length !== 2 || jobs.some((j) => j.status !== 'succeeded')) throw new Error('demo: expected exactly two successful postbacks');

    step(6, 'Where to look');
    const adminAnswer = await fetch(`${bridgeUrl}/admin`).then((r) => r.status, () => 0);
    say(`   admin (agencies and merchants)   ${bridgeUrl}/admin${adminAnswer === 200 ? '' : `   (answers ${adminAnswer} in this build)`}`);
    say(`   agency JSON API                  ${bridgeUrl}/api/v1   (bearer token; see README "Admin")`);
    say(`   Shopify embedded admin           ${shopifyUrl}/   (opens inside the Shopify admin of an installed shop)`);
    say(`   bridge health                    ${bridgeUrl}/healthz`);
    say(`   postback log (CLI, with --keep)  CLICKTHREAD_DATA_DIR=${dataDir} pnpm clickthread log`);
    say(`   the process log                  ${logFile}`);
    if (!keep) {
      say('\nDone. Everything above ran on loopback and is removed now; `pnpm demo --keep` keeps it running to look around.');
      await cleanup(true);
      return undefined;
    }
    say('\nStill running (--keep): press Ctrl-C to stop and remove the demo data.');
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        cleanup(true).then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
    return running;
  } catch (error) {
    say(`\nThe demo failed: ${error instanceof Error ? error.message : String(error)}`);
    say(`(kept for a look: ${dataDir}, log ${logFile})`);
    await cleanup(false).catch(() => {});
    throw error;
  }
}

main().then(
  (left) => {
    if (left === undefined) process.exitCode = 0;
  },
  () => {
    process.exitCode = 1;
  },
);
