import * as fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webhookPaths } from '../../shopify-app/src/webhooks/webhook-routes.ts';
import type { PostbackJobDraft } from '@clickthread/core';
import { buildOrderPayload, buildRefundPayload, captureAttribute, draftOrderSample, moneySet, type Json, type JsonObject } from './order-payload-builder.ts';
import { sideBySideGate } from '../support/side-by-side-gate.ts';
import { apiSecret, shopDomain, startHarness, webhookHmac, type Harness } from './shopify-harness.ts';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
  await h.saveOffer();
});

afterEach(async () => {
  await h.close();
});

const paid = (body: JsonObject, options = {}) => h.webhook(webhookPaths.ordersPaid, 'orders/paid', body, options);
const cancelled = (body: JsonObject, options = {}) => h.webhook(webhookPaths.ordersCancelled, 'orders/cancelled', body, options);
const refunded = (body: JsonObject, options = {}) => h.webhook(webhookPaths.refundsCreate, 'refunds/create', body, options);
const reversals = async (orderId: Json | undefined) => (await h.jobs(String(orderId))).filter((j) => j.event === 'refund' || j.event === 'cancel');

describe('orders/paid', () => {
  it('reports the ID from the cart attribute, in the offer\'s currency and amount basis, and answers at once', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-attr-1', x: { aff_sub: 'sub-1' } })] });
    const res = await paid(order);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, jobs: 1 });
    // answered before anything was sent: delivery is the worker's (timings live in bench/)
    expect(h.tracker.requests).toEqual([]);

    const [job, ...rest] = await h.jobs(String(order['id']));
    expect(rest).toEqual([]);
    expect(job).toMatchObject({
      event: 'sale',
      eventKey: 'sale',
      status: 'pending',
      transactionId: 'tx-attr-1',
      idSource: 'note_attribute',
      // subtotal after discounts, in the buyer's currency (the offer says presentment)
      amount: '34.67',
      currency: 'USD',
      orderNumber: order['name'],
      test: false,
    });
    const url = new URL(job?.url ?? '');
    expect(Object.fromEntries(url.searchParams)).toEqual({ tid: 'tx-attr-1', amount: '34.67', cur: 'USD', order: String(order['id']), test: '0' });
    // the webhook only stored the job; the worker sends it
    expect(h.tracker.requests).toEqual([]);
    expect(await h.deliver()).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(h.tracker.requests.map((r) => [r.path, r.query])).toEqual([['/sale', { tid: 'tx-attr-1', amount: '34.67', cur: 'USD', order: String(order['id']), test: '0' }]]);
    expect(await h.deliver()).toMatchObject({ claimed: 0 });
  });

  it('falls back to the landing_site query when the cart attribute is missing', async () => {
    const order = buildOrderPayload({ landing_site: '/products/pen?utm_source=aff&click_id=tx-landing-9' });
    expect((await paid(order)).status).toBe(200);
    expect(await h.jobs(String(order['id']))).toMatchObject([{ transactionId: 'tx-landing-9', idSource: 'landing_site' }]);
  });

  it('Buy it now: no attribute, no landing ID, but the cart token the script registered through the app proxy', async () => {
    const order = buildOrderPayload({ cart_token: 'c1-7f3a9e0b5d', landing_site: '/' });
    const registered = await h.proxy({ cartToken: 'c1-7f3a9e0b5d', id: 'tx-proxy-5', p: 'transaction_id', t: '2026-03-02T11:50:00.000Z', vid: 'b'.repeat(32), x: {} });
    expect(registered.status).toBe(200);
    expect((await paid(order)).status).toBe(200);
    expect(await h.jobs(String(order['id']))).toMatchObject([{ transactionId: 'tx-proxy-5', idSource: 'cart_token' }]);
    // the cart became this order: its registration is gone
    expect(await h.store.getCapture((await h.shop()).merchantId, 'cart_token', 'c1-7f3a9e0b5d')).toBeUndefined();
  });

  it('the customer map: an attributed order teaches the customer\'s click to their next order', async () => {
    const first = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-cust-1' })], customer: { id: 555 } });
    const second = buildOrderPayload({ customer: { id: 555 }, landing_site: null, cart_token: null });
    await paid(first);
    await paid(second);
    expect(await h.jobs(String(second['id']))).toMatchObject([{ transactionId: 'tx-cust-1', idSource: 'customer' }]);
  });

  it('draft order: no ID anywhere, no postback, logged unattributed with why', async () => {
    const draft = draftOrderSample();
    const res = await paid(draft);
    expect(res.status).toBe(200);
    expect(await h.jobs()).toEqual([]);
    const [row] = await h.store.listUnattributed({ storeId: (await h.shop()).id });
    expect(row).toMatchObject({ orderId: '5324830114101', orderNumber: '#1010' });
    expect(row?.reason).toContain('no transaction ID found in any source');
    expect(row?.reason).toContain('draft order (source_name shopify_draft_order)');
    expect(row?.reason).toContain('cart_token: no cart token on the order');
    expect(h.logger.entries.some((e) => e.msg === 'order unattributed' && JSON.stringify(e.obj).includes('shopify_draft_order'))).toBe(true);
  });

  it.each([
    ['shopify_draft_order', 'a draft order made in the admin'],
    ['pos', 'a point-of-sale order'],
  ])('source_name %s (%s) of a customer the map knows: no postback, logged unattributed with why', async (source) => {
    await paid(buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-known' })], customer: { id: 777 } }));
    expect(await h.store.getCapture((await h.shop()).merchantId, 'customer', '777')).toMatchObject({ transactionId: 'tx-known' });
    const staff = buildOrderPayload({ source_name: source, customer: { id: 777 }, cart_token: null, landing_site: null });
    expect((await paid(staff)).status).toBe(200);
    expect(await h.jobs(String(staff['id']))).toEqual([]);
    const [row] = await h.store.listUnattributed({ storeId: (await h.shop()).id });
    expect(row).toMatchObject({ orderId: String(staff['id']) });
    expect(row?.reason).toContain(`customer: not used for an order made by staff (source_name ${source})`);
    // what the order carries itself still counts
    const own = buildOrderPayload({ source_name: source, customer: { id: 777 }, note_attributes: [captureAttribute({ id: 'tx-own' })] });
    await paid(own);
    expect(await h.jobs(String(own['id']))).toMatchObject([{ transactionId: 'tx-own', idSource: 'note_attribute' }]);
  });

  it('re-processing an old order never puts its older click back over a newer one in the customer map', async () => {
    const old = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-old-click', t: '2026-02-20T10:00:00.000Z' })], customer: { id: 808 } });
    await paid(old);
    await paid(buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-new-click', t: '2026-03-01T10:00:00.000Z' })], customer: { id: 808 } }));
    const merchantId = (await h.shop()).merchantId;
    expect(await h.store.getCapture(merchantId, 'customer', '808')).toMatchObject({ transactionId: 'tx-new-click' });
    // the old order again: another delivery, a refund, its cancellation
    await paid(old);
    await refunded(buildRefundPayload(old['id'] ?? null));
    await cancelled({ ...old, cancelled_at: '2026-03-03T08:00:00+00:00' });
    expect(await h.store.getCapture(merchantId, 'customer', '808')).toMatchObject({ transactionId: 'tx-new-click' });
    // an order with an older click delivered only now is reported, but does not replace the newer click either
    const late = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-older-click', t: '2026-02-25T10:00:00.000Z' })], customer: { id: 808 } });
    await paid(late);
    expect(await h.jobs(String(late['id']))).toMatchObject([{ transactionId: 'tx-older-click' }]);
    expect(await h.store.getCapture(merchantId, 'customer', '808')).toMatchObject({ transactionId: 'tx-new-click' });
  });

  it('an ID outside the offer\'s window is not reported', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-old', t: '2026-01-01T00:00:00.000Z' })] });
    await paid(order);
    expect(await h.jobs()).toEqual([]);
    const [row] = await h.store.listUnattributed({ storeId: (await h.shop()).id });
    expect(row?.reason).toContain('older than the 30-day window');
  });

  it('a body Shopify signed but Clickthread cannot read is answered 200 and logged as unattributed, not retried forever', async () => {
    const res = await paid({ id: 77, created_at: 'not a date', currency: 'USD' });
    expect(res.status).toBe(200);
    const [row] = await h.store.listUnattributed({ storeId: (await h.shop()).id });
    expect(row).toMatchObject({ orderId: '77' });
    expect(row?.reason).toContain('created_at');
  });
});

describe('bodies Shopify signed but nobody planned for', () => {
  it('property: any signed orders/paid or refunds/create body is answered 200 or 400, never 5xx', async () => {
    const fieldNames = ['id', 'created_at', 'currency', 'presentment_currency', 'financial_status', 'note_attributes', 'landing_site', 'cart_token', 'customer', 'refunds', 'total_price_set', 'subtotal_price_set', 'test', 'cancelled_at', 'order_id', 'refund_line_items', 'transactions'];
    const overrides = fc.dictionary(fc.constantFrom(...fieldNames), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(overrides, fc.boolean(), async (changes, refund) => {
        const body = refund ? { ...buildRefundPayload(5), ...changes } : { ...buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-fuzz' })] }), ...changes };
        const res = await (refund ? refunded(body as JsonObject) : paid(body as JsonObject));
        await res.arrayBuffer();
        expect([200, 400]).toContain(res.status);
      }),
      { numRuns: 40 },
    );
    expect(h.logger.entries.filter((e) => e.level === 'error' && e.msg === 'request failed')).toEqual([]);
  });
});

describe('answer without delivery', () => {
  it('stores orders/paid and answers; the worker delivers later (latency is measured in bench/webhook-ingest.ts)', async () => {
    for (let i = 0; i < 60; i += 1) {
      const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: `tx-speed-${i}` })], cart_token: `c1-speed-${i}`, customer: { id: 9000 + i } });
      const res = await paid(order);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }
    expect(h.tracker.requests).toEqual([]);
    expect((await h.jobs()).map((j) => j.status)).toEqual(Array(60).fill('pending'));
  });
});

describe('duplicates and order of delivery', () => {
  it('the same delivery twice (same webhook id) is stored once', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-dup' })] });
    const first = await paid(order, { webhookId: 'wh-same', eventId: 'ev-same' });
    const second = await paid(order, { webhookId: 'wh-same', eventId: 'ev-same' });
    expect(await first.json()).toEqual({ ok: true, jobs: 1 });
    expect(await second.json()).toEqual({ ok: true, duplicate: true });
    expect(await h.jobs()).toHaveLength(1);
  });

  it('the same event under another webhook id (a duplicate subscription) is stored once', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-dup2' })] });
    await paid(order, { webhookId: 'wh-a', eventId: 'ev-shared' });
    expect(await (await paid(order, { webhookId: 'wh-b', eventId: 'ev-shared' })).json()).toEqual({ ok: true, duplicate: true });
    expect(await h.jobs()).toHaveLength(1);
  });

  it('the same order in a new delivery reports nothing new: the outbox key (shop, order, offer, event) holds', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-dup3' })] });
    await paid(order);
    expect(await (await paid(order)).json()).toEqual({ ok: true, jobs: 0 });
    expect(await h.jobs()).toHaveLength(1);
  });

  it('a cancellation delivered before the order\'s orders/paid: nothing is reported at all', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-late' })] });
    await cancelled({ ...order, cancelled_at: '2026-03-02T12:03:00+00:00', financial_status: 'voided' }, { triggeredAt: '2026-03-02T12:03:00.000Z' });
    await paid(order, { triggeredAt: '2026-03-02T12:01:00.000Z' });
    expect(await h.jobs()).toEqual([]);
  });

  it('a refund delivered before its order\'s orders/paid reverses nothing (reconciliation reports it later)', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-refund-first' })] });
    expect((await refunded(buildRefundPayload(order['id'] ?? null))).status).toBe(200);
    await paid(order);
    expect((await h.jobs()).map((j) => j.eventKey)).toEqual(['sale']);
  });
});

describe('refunds and cancellations (reversal postbacks)', () => {
  /** A refund of every item (subtotal 45.62 AUD / 34.67 USD, with its tax) and the shipping: the whole order. */
  const fullRefundParts = {
    refund_line_items: [{ subtotal_set: moneySet('45.62', '34.67'), total_tax_set: moneySet('4.56', '3.47') }],
    order_adjustments: [{ kind: 'shipping_refund', amount_set: moneySet('-10.15', '-7.71'), tax_amount_set: moneySet('0.00', '0.00') }],
  };

  it('refunds/create sends the refund postback with the sale\'s transaction ID and the refund\'s share of the offer\'s basis', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-r1' })] });
    await paid(order);
    // one item back: 15.20 USD of subtotal plus 1.52 tax; the offer reports the subtotal
    const refund = buildRefundPayload(order['id'] ?? null);
    const res = await refunded(refund);
    expect(await res.json()).toEqual({ ok: true, jobs: 1 });
    const jobs = await h.jobs(String(order['id']));
    expect(jobs.map((j) => j.eventKey)).toEqual(['sale', `refund:${String(refund['id'])}`]);
    expect(jobs[1]).toMatchObject({ event: 'refund', transactionId: 'tx-r1', amount: '15.20', currency: 'USD' });
    expect(Object.fromEntries(new URL(jobs[1]?.url ?? '').searchParams)).toEqual({ tid: 'tx-r1', amount: '15.20', order: String(order['id']) });
  });

  it('a cancellation that carries its refund sends one cancel of the sale, and the refund is not sent besides', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-c1' })] });
    await paid(order);
    const refund = buildRefundPayload(order['id'] ?? null, fullRefundParts);
    const cancelledOrder = { ...order, cancelled_at: '2026-03-03T08:00:00+00:00', financial_status: 'refunded', refunds: [refund] };
    await cancelled(cancelledOrder);
    await cancelled(cancelledOrder);
    await refunded(refund);
    const jobs = await h.jobs(String(order['id']));
    expect(jobs.map((j) => [j.eventKey, j.amount])).toEqual([
      ['sale', '34.67'],
      ['cancel', '34.67'],
    ]);
    expect(jobs[1]).toMatchObject({ event: 'cancel', transactionId: 'tx-c1' });
    await h.deliver();
    await h.deliver();
    expect(h.tracker.requests.map((r) => `${r.path} ${r.query['tid']} ${r.query['order']}`).toSorted()).toEqual(
      ['/cancel', '/sale'].map((p) => `${p} tx-c1 ${String(order['id'])}`),
    );
  });

  it('a partial refund, then the cancellation: the cancel reverses only what the refund has not', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-c2' })] });
    await paid(order);
    const partial = buildRefundPayload(order['id'] ?? null);
    await refunded(partial);
    await cancelled({ ...order, cancelled_at: '2026-03-03T08:00:00+00:00', financial_status: 'partially_refunded', refunds: [partial] });
    expect((await reversals(order['id'])).map((j) => [j.eventKey, j.amount])).toEqual([
      [`refund:${String(partial['id'])}`, '15.20'],
      ['cancel', '19.47'],
    ]);
  });

  it('a full refund after a partial one reverses only the rest of the sale (capped)', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-cap' })] });
    await paid(order);
    await refunded(buildRefundPayload(order['id'] ?? null));
    // the merchant then refunds "everything": all items again, tax and shipping
    await refunded(buildRefundPayload(order['id'] ?? null, fullRefundParts));
    expect((await reversals(order['id'])).map((j) => j.amount)).toEqual(['15.20', '19.47']);
    // and a third refund finds nothing left to reverse
    await refunded(buildRefundPayload(order['id'] ?? null));
    expect(await reversals(order['id'])).toHaveLength(2);
    expect(h.logger.entries.some((e) => e.msg === 'offer skipped' && JSON.stringify(e.obj).includes('already fully reversed'))).toBe(true);
  });

  it('a shipping-only refund reverses nothing of a subtotal offer, and no later delivery of the order re-decides it', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-ship' })] });
    await paid(order);
    const shipping = buildRefundPayload(order['id'] ?? null, {
      refund_line_items: [],
      order_adjustments: [{ kind: 'shipping_refund', amount_set: moneySet('-10.15', '-7.71'), tax_amount_set: moneySet('0.00', '0.00') }],
    });
    await refunded(shipping);
    expect(await reversals(order['id'])).toEqual([]);
    expect(h.logger.entries.some((e) => JSON.stringify(e.obj).includes("the refund returns none of the offer's amount basis"))).toBe(true);
    // the order, delivered again with that refund in it (here: a late orders/paid), would pro-rate it
    await paid({ ...order, financial_status: 'partially_refunded', refunds: [shipping] });
    expect(await reversals(order['id'])).toEqual([]);
  });

  it("a refund after the customer's remembered click changed goes out with the sale's ID", async () => {
    const first = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-map-x' })], customer: { id: 901 } });
    await paid(first);
    const buyItNow = buildOrderPayload({ customer: { id: 901 }, landing_site: null, cart_token: null });
    await paid(buyItNow);
    expect(await h.jobs(String(buyItNow['id']))).toMatchObject([{ transactionId: 'tx-map-x', idSource: 'customer' }]);
    // the customer comes back through another affiliate's link
    h.clock.advance(3_600_000);
    await paid(buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-map-y', t: '2026-03-02T11:30:00.000Z' })], customer: { id: 901 } }));
    expect(await h.store.getCapture((await h.shop()).merchantId, 'customer', '901')).toMatchObject({ transactionId: 'tx-map-y' });

    await refunded(buildRefundPayload(buyItNow['id'] ?? null));
    await cancelled({ ...buyItNow, cancelled_at: '2026-03-03T08:00:00+00:00', financial_status: 'partially_refunded' });
    expect((await reversals(buyItNow['id'])).map((j) => [j.event, j.transactionId, j.idSource])).toEqual([
      ['refund', 'tx-map-x', 'customer'],
      ['cancel', 'tx-map-x', 'customer'],
    ]);
  });

  it('a sale the network rejected is never reversed, whichever delivery brings the refund or the cancellation', async () => {
    h.tracker.behave('/sale', { kind: 'reply', status: 400, body: 'unknown click' });
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-rejected' })] });
    await paid(order);
    await h.deliver();
    expect((await h.jobs(String(order['id'])))[0]).toMatchObject({ event: 'sale', status: 'failed' });
    const refund = buildRefundPayload(order['id'] ?? null);
    await refunded(refund);
    await paid({ ...order, financial_status: 'partially_refunded', refunds: [refund] });
    await cancelled({ ...order, cancelled_at: '2026-03-03T08:00:00+00:00', financial_status: 'refunded', refunds: [refund] });
    expect((await h.jobs(String(order['id']))).map((j) => j.eventKey)).toEqual(['sale']);
  });

  it('a cancellation of an order whose sale was never reported reverses nothing', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-never' })] });
    await cancelled({ ...order, cancelled_at: '2026-03-03T08:00:00+00:00', financial_status: 'refunded', refunds: [buildRefundPayload(order['id'] ?? null)] });
    expect(await h.jobs()).toEqual([]);
  });

  it('each offer reverses in its own currency: the refund\'s shop and buyer amounts, never another offer\'s code', async () => {
    await h.saveOffer({
      id: 'offer-shop',
      amount: { basis: 'subtotal', currency: 'shop' },
      postbacks: {
        sale: { url: `${h.tracker.url}/sale?tid={transaction_id}&amount={amount}&cur={currency}` },
        refund: { url: `${h.tracker.url}/refund?tid={transaction_id}&amount={amount}&cur={currency}` },
      },
    });
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-cur' })] });
    await paid(order);
    await refunded(buildRefundPayload(order['id'] ?? null));
    expect((await reversals(order['id'])).map((j) => [j.offerId, j.amount, j.currency]).toSorted()).toEqual([
      ['offer-1', '15.20', 'USD'],
      ['offer-shop', '20.00', 'AUD'],
    ]);
    // a refund known only from its transactions (buyer currency): the shop-currency offer cannot tell its amount
    const bare = buildRefundPayload(order['id'] ?? null, { refund_line_items: [], order_adjustments: [] });
    await refunded(bare);
    const bareJobs = (await reversals(order['id'])).filter((j) => j.eventKey === `refund:${String(bare['id'])}`);
    expect(bareJobs.map((j) => [j.offerId, j.amount, j.currency])).toEqual([['offer-1', '16.72', 'USD']]);
    expect(h.logger.entries.some((e) => e.msg === 'offer skipped' && JSON.stringify(e.obj).includes('the refund is in USD, the conversion was reported in AUD'))).toBe(true);
  });

  it('a reversal planned while its sale is not delivered yet names the sale it waits for (dependsOn)', async () => {
    const drafts: PostbackJobDraft[] = [];
    const enqueue = h.store.enqueue.bind(h.store);
    h.store.enqueue = async (input) => {
      drafts.push(...input.jobs);
      return enqueue(input);
    };
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-dep' })] });
    await paid(order);
    await refunded(buildRefundPayload(order['id'] ?? null));
    const sale = drafts.find((d) => d.event === 'sale');
    expect(sale?.dependsOn).toBeUndefined();
    expect(drafts.find((d) => d.event === 'refund')?.dependsOn).toBe(sale?.idempotencyKey);
    await h.deliver();
    await h.deliver();
    await cancelled({ ...order, cancelled_at: '2026-03-03T08:00:00+00:00', financial_status: 'partially_refunded' });
    const cancel = drafts.find((d) => d.event === 'cancel');
    expect(cancel).toBeDefined();
    expect(cancel?.dependsOn).toBeUndefined();
  });

  it('an offer without reversal postbacks sends none', async () => {
    await h.saveOffer({ postbacks: { sale: { url: `${h.tracker.url}/sale?tid={transaction_id}` } } });
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-nr' })] });
    await paid(order);
    await refunded(buildRefundPayload(order['id'] ?? null));
    expect((await h.jobs()).map((j) => j.eventKey)).toEqual(['sale']);
  });
});

describe('test orders under each offer policy', () => {
  it.each([
    ['skip', [] as string[], [] as string[]],
    ['send', ['sale'], ['0']],
    ['send_flagged', ['sale'], ['1']],
  ] as const)('testOrders "%s"', async (policy, events, testParams) => {
    await h.saveOffer({ testOrders: policy });
    const order = buildOrderPayload({ test: true, note_attributes: [captureAttribute({ id: 'tx-test' })] });
    await paid(order);
    const jobs = await h.jobs();
    expect(jobs.map((j) => j.eventKey)).toEqual(events);
    expect(jobs.map((j) => new URL(j.url).searchParams.get('test'))).toEqual(testParams);
    expect(jobs.every((j) => j.test)).toBe(true);
    const skippedAsTest = h.logger.entries.some((e) => e.msg === 'offer skipped' && JSON.stringify(e.obj).includes('test order'));
    expect(skippedAsTest).toBe(policy === 'skip');
  });
});

describe('HMAC: every route refuses what Shopify did not sign', () => {
  const routes = [
    [webhookPaths.ordersPaid, 'orders/paid'],
    [webhookPaths.ordersCancelled, 'orders/cancelled'],
    [webhookPaths.refundsCreate, 'refunds/create'],
    [webhookPaths.appUninstalled, 'app/uninstalled'],
    [webhookPaths.compliance, 'customers/data_request'],
    [webhookPaths.compliance, 'customers/redact'],
    [webhookPaths.compliance, 'shop/redact'],
  ] as const;
  const body = { id: 1, shop_domain: shopDomain };
  const raw = JSON.stringify(body);

  it.each(routes)('%s (%s): wrong key, no header, tampered body, re-serialized body → 401, nothing stored', async (path, topic) => {
    const attempts = [
      { signWith: 'not-the-client-secret' },
      { hmac: null },
      { hmac: '' },
      { hmac: 'garbage' },
      { rawBody: raw.replace('1', '2'), hmac: webhookHmac(raw) },
      // the same JSON with other whitespace: the signature covers the bytes, not the data
      { rawBody: JSON.stringify(body, null, 2), hmac: webhookHmac(raw) },
    ];
    const statuses: Array<[string, number]> = [];
    for (const attempt of attempts) statuses.push([JSON.stringify(attempt), (await h.webhook(path, topic, body, attempt)).status]);
    expect(statuses).toEqual(attempts.map((a) => [JSON.stringify(a), 401]));
    expect(await h.jobs()).toEqual([]);
    expect((await h.shop()).status).toBe('active');
  });

  it('an empty body is refused with 401', async () => {
    expect((await h.webhook(webhookPaths.ordersPaid, 'orders/paid', null, { rawBody: '' })).status).toBe(401);
  });

  it('a validly signed delivery of another topic to a route is refused with 400', async () => {
    expect((await h.webhook(webhookPaths.ordersPaid, 'refunds/create', buildRefundPayload(1))).status).toBe(400);
  });

  it('a validly signed delivery without Shopify\'s required headers is refused with 400', async () => {
    const raw2 = JSON.stringify(buildOrderPayload());
    const res = await fetch(`${h.baseUrl}${webhookPaths.ordersPaid}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': webhookHmac(raw2, apiSecret), 'x-shopify-topic': 'orders/paid' },
      body: raw2,
    });
    expect(res.status).toBe(400);
  });
});

describe('deliveries of one order side by side', () => {
  const gate = sideBySideGate();
  let g: Harness;
  beforeEach(async () => {
    g = await startHarness({ wrapStore: (store) => gate.wrap(store) });
    await g.saveOffer();
  });
  afterEach(async () => {
    await g.close();
  });

  it('a cancellation and a refund planned against the same history never reverse more than the sale together', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-side' })] });
    expect((await g.webhook(webhookPaths.ordersPaid, 'orders/paid', order)).status).toBe(200);
    // cancelled (its payload has no refund yet) and refunded a moment later: Shopify sends both at once
    const partial = buildRefundPayload(order['id'] ?? null);
    gate.arm(2);
    const answers = await Promise.all([
      g.webhook(webhookPaths.ordersCancelled, 'orders/cancelled', { ...order, cancelled_at: '2026-03-03T08:00:00+00:00', refunds: [] }),
      g.webhook(webhookPaths.refundsCreate, 'refunds/create', partial),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const reversed = (await g.jobs(String(order['id']))).filter((j) => j.event === 'refund' || j.event === 'cancel');
    // whichever stored first, the other planned again against it: together, exactly the sale
    expect(reversed.map((j) => Number(j.amount)).reduce((a, b) => a + b, 0)).toBeCloseTo(34.67, 2);
    expect(g.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  });
});
