import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '@clickthread/core';
import { buildJobDraft } from '@clickthread/core/testing';
import { startApiHarness, t0, type ApiHarness } from '../testing/api-harness.ts';
import { createAdminUiRouter, ensureAdminUiBuilt } from './admin-ui.ts';

/**
 * The admin UI in headless Chromium against the real API on 127.0.0.1: sign in with a token,
 * create an offer from the TUNE preset and watch its live preview, test-fire it at a loopback
 * tracker, find it in the postback log, and replay a dead letter. Screenshots of the main screens
 * go to test-artifacts/ (not committed).
 */

const artifacts = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const sessionToken = 'test-session-token.shop-b1';

/** Stands in for Shopify's App Bridge (no internet here): like it, it adds the session token to the page's fetches. */
const appBridgeStub = `
  window.shopify = { idToken: async () => ${JSON.stringify(sessionToken)} };
  const originalFetch = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const headers = new Headers(init.headers || {});
    headers.set('authorization', 'Bearer ' + ${JSON.stringify(sessionToken)});
    return originalFetch(input, { ...init, headers });
  };
`;

describe('admin UI in Chromium', () => {
  let h: ApiHarness;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let deadId = '';

  const shot = async (name: string) => {
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}admin-${name}.png`, fullPage: true });
  };
  const tab = (name: string) => page.getByRole('tab', { name }).click();

  beforeAll(async () => {
    await ensureAdminUiBuilt();
    h = await startApiHarness({
      router: {
        connections: {
          async connect() {
            return ok({ storeId: 'wc_1', created: false });
          },
          async describe() {
            return {
              lastDeliveryAt: '2026-03-10T11:58:00.000Z',
              webhooks: [
                { topic: 'order.created', id: '11', status: 'active' },
                { topic: 'order.updated', id: '12', status: 'disabled' },
              ],
              reconcileLagSeconds: 300,
              warnings: ['Webhook order.updated was disabled by WooCommerce; the next reconciliation re-enables it.'],
            };
          },
          snippet: () => '<script src="https://bridge.example/capture.js?merchant=shop-a1" async></script>',
        },
        // the Shopify app's session-token check, in small: App Bridge's fetch carries the token
        authenticate: async (req) =>
          req.get('authorization') === `Bearer ${sessionToken}` ? { scope: { kind: 'merchant', merchantId: 'shop-b1' }, actor: 'shopify:shop-b1', rateKey: 'shop:shop-b1' } : undefined,
      },
      extend: (app) => {
        app.use('/admin', createAdminUiRouter({ mode: 'standalone' }));
        app.use('/embedded', createAdminUiRouter({ mode: 'embedded', shopifyApiKey: 'test-client-id' }));
      },
    });
    await h.store.upsertStore({ id: 'wc_1', merchantId: 'shop-a1', platform: 'woocommerce', domain: 'woo.shop-a1.example', status: 'active', settings: {}, secrets: null, now: t0 });
    // a postback that ran out of retries, to replay from the log
    h.tracker.behave('/down', { kind: 'reply', status: 503, body: 'Service Unavailable' });
    await h.store.enqueue({
      jobs: [buildJobDraft({ merchantId: 'shop-a1', storeId: 'wc_1', orderId: '2001', orderNumber: '#2001', offerId: 'legacy', url: `${h.tracker.url}/down?transaction_id=dead1&token=s3cret`, allowHttp: true, idSource: 'order_link' })],
      unattributed: { storeId: 'wc_1', orderId: '2002', orderNumber: '#2002', reason: 'no transaction ID found (no cart attribute, landing site, link or customer)', at: t0 },
      now: t0,
    });
    await h.worker.runOnce();
    h.clock.advance(2000);
    await h.worker.runOnce();
    deadId = (await h.store.listJobs({ merchantId: 'shop-a1', status: 'dead' }))[0]?.id ?? '';
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('signs in with a token, creates a TUNE offer with a live preview, test-fires it, and replays a dead letter from the log', { timeout: 90_000 }, async () => {
    await page.goto(`${h.url}/admin`);
    await expect.poll(() => page.url()).toBe(`${h.url}/admin/`);
    await page.getByLabel('API token').fill('ct_0000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This token is not valid').waitFor();
    await shot('login');
    await page.getByLabel('API token').fill(h.tokens.agencyA);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Affiliate postbacks for Shop A1').waitFor();

    // offers: a new offer from the TUNE preset
    await tab('Offers');
    await page.getByRole('button', { name: 'Create offer' }).click();
    await page.getByLabel('Network preset').selectOption('tune');
    const saleUrl = page.getByLabel('Sale postback URL');
    await expect.poll(() => saleUrl.inputValue()).toContain('go2cloud.org/aff_lsr');
    // the preset's placeholders are reported until they are filled
    await page.getByText('fill in <network_id>').first().waitFor();
    await shot('offer-editor-preset');
    for (const label of ['Sale postback URL', 'Refund (reversal) postback URL', 'Cancellation (reversal) postback URL']) {
      const field = page.getByLabel(label);
      const filled = (await field.inputValue()).replace('https://<network_id>.go2cloud.org', h.tracker.url).replace('<offer_id>', '12').replace('<security_token>', 's3cret');
      await field.fill(filled);
    }
    await page.getByLabel('Offer ID').fill('tune-ui');
    await page.getByLabel('Name').fill('TUNE via the UI');
    // plain http to the loopback tracker is refused until allowed: the schema's message is shown on the field
    await page.getByText('must use https://').first().waitFor();
    await page.getByText('Allow plain http:// postback URLs').click();
    const preview = page.locator('[data-preview-event="sale"]');
    await expect.poll(() => preview.textContent()).toBe(`${h.tracker.url}/aff_lsr?offer_id=12&transaction_id=102a%2Bf3%209c&amount=49.90&adv_sub=1001&security_token=s3cret`);
    await page.getByText('Valid', { exact: true }).waitFor();
    await shot('offer-editor');
    await page.getByRole('button', { name: 'Create offer' }).click();
    await page.getByText('Saved TUNE via the UI.').waitFor();
    expect(await h.store.getOffer('shop-a1', 'tune-ui')).toMatchObject({ network: 'tune', allowHttp: true, enabled: true });
    expect((await h.access.listAudit({ merchantId: 'shop-a1', offerId: 'tune-ui' })).map((e) => e.action)).toEqual(['create']);
    await shot('offers');

    // disable it from the list, then see who did what in its history
    await page.getByRole('button', { name: 'Disable TUNE via the UI' }).click();
    await page.getByText('TUNE via the UI is disabled.').waitFor();
    await page.getByRole('button', { name: 'Enable TUNE via the UI' }).click();
    await page.getByText('TUNE via the UI is enabled.').waitFor();
    await page.getByRole('button', { name: 'Edit TUNE via the UI' }).click();
    const history = page.locator('.Polaris-DataTable', { hasText: 'Who' });
    await history.getByText('disable').waitFor();
    await page.locator('[data-preview-event="sale"]').waitFor();
    expect(await history.textContent()).toContain(`token:${h.tokens.agencyA.slice(3, 13)}`);
    await shot('offer-history');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // test-fire against the loopback tracker
    await page.getByRole('button', { name: 'Test-fire TUNE via the UI' }).click();
    await page.getByLabel('Transaction ID').fill('abc+1');
    await page.getByRole('button', { name: 'Send test postback' }).click();
    const request = page.locator('[data-testfire="request"]');
    await request.waitFor();
    expect(await request.textContent()).toBe(`GET ${h.tracker.url}/aff_lsr?offer_id=12&transaction_id=abc%2B1&amount=49.90&adv_sub=1001&security_token=[redacted]`);
    expect(await page.locator('[data-testfire="response"]').textContent()).toContain('success=true;');
    expect(h.tracker.requestsTo('/aff_lsr').at(-1)?.query['transaction_id']).toBe('abc+1');
    await shot('test-fire');
    await page.getByRole('button', { name: 'Queue through the outbox' }).click();
    await page.getByText(/Queued as postback #\d+/).waitFor();
    await h.worker.runOnce();

    // the log: the queued test-fire delivered, the dead letter replayed
    await tab('Postback log');
    const testRow = page.locator('tr', { hasText: 'test #1001' });
    await testRow.getByText('succeeded').waitFor();
    expect(await testRow.textContent()).toContain('Manual / test-fire');
    const deadRow = page.locator(`tr[data-postback-id="${deadId}"]`);
    await deadRow.getByText('dead letter').waitFor();
    await page.getByRole('button', { name: `Details of postback ${deadId}` }).click();
    await page.getByText('Service Unavailable').first().waitFor();
    await shot('postback-log');
    h.tracker.behave('/down', { kind: 'reply', status: 200, body: 'OK' });
    await page.getByRole('button', { name: `Replay postback ${deadId}` }).click();
    await page.getByText(`Postback #${deadId} is queued again.`).waitFor();
    await deadRow.getByText('pending').waitFor();
    await h.worker.runOnce();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await deadRow.getByText('succeeded').waitFor();
    expect((await h.store.getJob(deadId))?.status).toBe('succeeded');

    // connections: webhook health and the snippet
    await tab('Connections');
    await page.getByText('order.updated: disabled').waitFor();
    await page.getByText('capture.js?merchant=shop-a1').waitFor();
    await shot('connections');

    // the overview counts all of it, and names the order notes a store did not take
    await h.store.deferWriteBack({ jobId: deadId, storeId: 'wc_1', platform: 'woocommerce', step: null, outcome: { status: 'dead', outcome: 'dead', reason: 'HTTP 503' }, attempts: 3, dueAt: h.clock.now(), error: 'x', now: h.clock.now() });
    await h.store.abandonWriteBack({ jobId: deadId, error: 'order note not added: order 2001 not found (404)', now: h.clock.now() });
    await tab('Overview');
    await page.getByText('Conversions reported').waitFor();
    await page.getByText('Postbacks per day').waitFor();
    await page.getByText('no transaction ID found (no cart attribute, landing site, link or customer)').waitFor();
    await page.getByText('Order notes and tags not written yet').waitFor();
    await page.getByText('order note not added: order 2001 not found (404)').waitFor();
    await page.getByText('given up').waitFor();
    await shot('overview');

    expect(pageErrors).toEqual([]);
  });

  it('embedded in the Shopify admin: App Bridge first in the head, its session token on every call, no sign-in', { timeout: 30_000 }, async () => {
    const embedded = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    embedded.on('pageerror', (e) => errors.push(e.message));
    await embedded.route('https://cdn.shopify.com/**', (route) => route.fulfill({ contentType: 'application/javascript', body: appBridgeStub }));
    try {
      await embedded.goto(`${h.url}/embedded/`);
      await embedded.getByText('Affiliate postbacks for Shop B1').waitFor();
      expect(await embedded.locator('head script').first().getAttribute('src')).toBe('https://cdn.shopify.com/shopifycloud/app-bridge.js');
      expect(await embedded.locator('meta[name="shopify-api-key"]').getAttribute('content')).toBe('test-client-id');
      expect(await embedded.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
      expect(await embedded.evaluate(() => sessionStorage.length)).toBe(0);
      await embedded.getByRole('tab', { name: 'Offers' }).click();
      await embedded.getByText('No offers yet.').waitFor();
      await embedded.screenshot({ path: `${artifacts}admin-embedded-offers.png`, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await embedded.close();
    }
  });
});
