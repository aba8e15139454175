import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PostbackJobDraft } from '@clickthread/core';
import { transactionIdMetaKey } from '@clickthread/woocommerce-bridge';
import { wooOrderAt, type FakeWoo, type WooOrderJson } from '@clickthread/woocommerce-bridge/testing';
import { createBridgeMetrics, wooOrderSchema } from '@clickthread/woocommerce-bridge';
import { createOrderProcessor } from '../../woocommerce-bridge/src/orders/process-order.ts';
import { sideBySideGate } from '../support/side-by-side-gate.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { newVisitor, reportClick, reportOrder } from './support/storefront.ts';

/**
 * Order lifecycles end to end: a fake WooCommerce on loopback fires real signed webhooks at the
 * bridge's HTTP server; the worker sends postbacks to the fake tracker and writes back.
 */

let h: Harness;
let woo: FakeWoo;
let connectionId: string;

beforeEach(async () => {
  h = await startHarness();
  await h.saveOffer();
  woo = await h.startWoo();
  connectionId = (await h.connect(woo, { idMetaKeys: ['_transaction_id_demo'] })).connection.id;
  h.clock.advance(60_000);
});
afterEach(async () => {
  await h.close();
});

const order = (overrides: Partial<WooOrderJson>): WooOrderJson => wooOrderAt(h.clock.now(), overrides);
const events = () => h.postbacks().map((p) => `${p['event']} ${p['order']} ${p['amount']} ${p['tid']}`);

describe('order lifecycles', () => {
  it('pending → processing → completed sends one sale postback, then writes it back without a second one', async () => {
    await woo.addOrder(order({ id: 20, status: 'pending' }));
    h.clock.advance(30_000);
    await woo.updateOrder(20, { status: 'processing' });
    h.clock.advance(30_000);
    await woo.updateOrder(20, { status: 'completed' });
    expect(woo.deliveries.filter((d) => d.orderId === 20).map((d) => [d.topic, d.status])).toEqual([
      ['order.created', 200],
      ['order.updated', 200],
      ['order.updated', 200],
      ['order.updated', 200],
    ]);

    expect((await h.runWorker()).succeeded).toBe(1);
    expect(events()).toEqual(['sale 20 39.98 abc']);
    expect(h.postbacks()[0]).toMatchObject({ cur: 'USD' });

    // the write-back: a private note and the ID in meta; its order.updated is planned again and stores nothing
    expect(woo.notes(20).map((n) => [n.note, n.customer_note])).toEqual([['Affiliate postback sent to Network A: success', false]]);
    expect(woo.order(20)?.meta_data.find((m) => m.key === transactionIdMetaKey)?.value).toBe('abc');
    expect(woo.deliveries.at(-1)).toMatchObject({ orderId: 20, topic: 'order.updated', status: 200 });
    expect(await h.counter('orders', { result: 'duplicate', trigger: 'webhook' })).toBe(2);
    expect(await h.store.listJobs({ orderId: '20' })).toHaveLength(1);

    await h.runWorker();
    expect(h.postbacks()).toHaveLength(1);
  });

  it('coalesced async delivery (Action Scheduler): three changes arrive as one delivery with the final state', async () => {
    woo.deliveryMode = 'queue';
    await woo.addOrder(order({ id: 19, status: 'pending' }));
    await woo.updateOrder(19, { status: 'on-hold' });
    await woo.updateOrder(19, { status: 'processing' });
    await woo.updateOrder(19, { status: 'completed' });
    await woo.flush();
    expect(woo.deliveries.map((d) => d.topic)).toEqual(['order.created', 'order.updated']);
    expect((await h.store.listJobs({ orderId: '19' })).map((j) => j.event)).toEqual(['sale']);
    await h.runWorker();
    await woo.flush();
    expect(events()).toEqual(['sale 19 39.98 abc']);
    // the write-back's echo came through and stored nothing
    expect(woo.deliveries.map((d) => d.topic)).toEqual(['order.created', 'order.updated', 'order.updated']);
    expect(await h.store.listJobs({ orderId: '19' })).toHaveLength(1);
  });

  it('echoes of the write-back and meta written by other plugins send nothing twice: the outbox key holds', async () => {
    await woo.addOrder(order({ id: 21, status: 'processing' }));
    await h.runWorker();
    const meta = woo.order(21)!.meta_data;
    await woo.updateOrder(21, { meta_data: [...meta, { key: '_other_plugin', value: 'x' }] });
    await h.bridge.reconciler.runOnce();
    await h.runWorker();
    expect(events()).toEqual(['sale 21 39.98 abc']);
    expect(await h.store.listJobs({ orderId: '21' })).toHaveLength(1);
  });

  it('a refund made between the sale and its write-back rides in the echo (queued delivery) and is reversed', async () => {
    woo.deliveryMode = 'queue';
    await woo.addOrder(order({ id: 18, status: 'processing' }));
    await woo.flush();
    expect((await h.store.listJobs({ orderId: '18' })).map((j) => j.eventKey)).toEqual(['sale']);
    h.clock.advance(60_000);
    // the refund is queued in Action Scheduler; the write-back's meta PUT is coalesced into the same delivery
    const refund = await woo.refundOrder(18, '10.00');
    await h.runWorker();
    expect(woo.order(18)?.meta_data.find((m) => m.key === transactionIdMetaKey)?.value).toBe('abc');
    await woo.flush();
    expect((await h.store.listJobs({ orderId: '18' })).map((j) => j.eventKey).toSorted()).toEqual([`refund:${refund}`, 'sale']);
    await h.runWorker();
    await woo.flush();
    await h.runWorker();
    expect(events()).toEqual(['sale 18 39.98 abc', 'refund 18 10.00 abc']);
    // and the refund's own write-back echo adds nothing
    expect(await h.store.listJobs({ orderId: '18' })).toHaveLength(2);
  });

  it('cash on delivery: a storefront order paid at checkout waits for its order-received link, then uses it', async () => {
    const vid = newVisitor();
    expect((await reportClick(h, woo, { vid, id: 'COD-CLICK-1' })).status).toBe(204);
    h.clock.advance(120_000);
    await woo.addOrder(order({ id: 22, status: 'processing', created_via: 'checkout', payment_method: 'cod', meta_data: [] }));
    expect(await h.store.listJobs({ orderId: '22' })).toEqual([]);
    expect(await h.store.getPendingOrder(connectionId, '22')).toMatchObject({ dueAt: new Date(h.clock.now().getTime() + h.config.linkGraceMs) });
    expect(await h.store.countPendingOrders(connectionId)).toBe(1);

    h.clock.advance(3_000);
    expect((await reportOrder(h, woo, { vid, orderId: 22, orderKey: woo.order(22)!.order_key })).status).toBe(204);
    const [job] = await h.store.listJobs({ orderId: '22' });
    expect(job).toMatchObject({ event: 'sale', transactionId: 'COD-CLICK-1', idSource: 'order_link' });
    expect(await h.store.countPendingOrders(connectionId)).toBe(0);
    await h.runWorker();
    expect(events()).toEqual(['sale 22 39.98 COD-CLICK-1']);
  });

  it('an order that cannot be recorded as waiting fails its delivery (500), and reconciliation brings it again', async () => {
    const failure = vi.spyOn(h.store, 'putPendingOrder').mockRejectedValueOnce(new Error('SQLITE_FULL: database or disk is full'));
    await woo.addOrder(order({ id: 28, status: 'processing', created_via: 'checkout', payment_method: 'cod', meta_data: [] }));
    expect(failure).toHaveBeenCalledTimes(1);
    // Woo counts a failed delivery; nothing answered "waiting" for an order nothing would come back to
    expect(woo.deliveries.filter((d) => d.orderId === 28).map((d) => [d.topic, d.status])).toEqual([['order.created', 500]]);
    expect(await h.store.countPendingOrders(connectionId)).toBe(0);
    expect(h.logger.entries.find((e) => e.msg === 'woocommerce webhook failed')?.obj).toMatchObject({ err: expect.anything() });

    const [report] = await h.bridge.reconciler.runOnce();
    expect(report).toMatchObject({ ok: true, orders: 1 });
    expect(await h.store.getPendingOrder(connectionId, '28')).toBeDefined();
  });

  it("orders an older bridge kept waiting in the connection's settings move into the pending orders table", async () => {
    const until = new Date(h.clock.now().getTime() + 60_000);
    const row = (await h.store.getStore(connectionId))!;
    await h.store.upsertStore({ ...row, settings: { ...row.settings, pendingOrders: { '29': until.toISOString() } }, now: h.clock.now() });
    expect((await h.bridge.reconciler.runOnce())[0]).toMatchObject({ ok: true });
    expect(await h.store.getPendingOrder(connectionId, '29')).toMatchObject({ dueAt: until });
    expect((await h.store.getStore(connectionId))?.settings).not.toHaveProperty('pendingOrders');
  });

  it('on-hold (bank transfer) → processing sends the sale when the payment arrives', async () => {
    const vid = newVisitor();
    await reportClick(h, woo, { vid, id: 'BACS-1' });
    await woo.addOrder(order({ id: 23, status: 'on-hold', created_via: 'checkout', meta_data: [] }));
    await reportOrder(h, woo, { vid, orderId: 23, orderKey: woo.order(23)!.order_key });
    expect(await h.store.listJobs({ orderId: '23' })).toEqual([]);
    h.clock.advance(2 * 86_400_000);
    await woo.updateOrder(23, { status: 'processing' });
    await h.runWorker();
    expect(events()).toEqual(['sale 23 39.98 BACS-1']);
  });

  it('a partial refund, then the rest: one reversal postback per refund with its own amount', async () => {
    await woo.addOrder(order({ id: 24, status: 'completed' }));
    await h.runWorker();
    h.clock.advance(60_000);
    const first = await woo.refundOrder(24, '5.00', 'scratched');
    expect(woo.order(24)?.status).toBe('completed');
    await h.runWorker();
    h.clock.advance(60_000);
    const second = await woo.refundOrder(24, '34.98');
    expect(woo.order(24)?.status).toBe('refunded');
    await h.runWorker();
    expect(events()).toEqual(['sale 24 39.98 abc', 'refund 24 5.00 abc', 'refund 24 34.98 abc']);
    expect((await h.store.listJobs({ orderId: '24' })).map((j) => j.eventKey).toSorted()).toEqual([`refund:${first}`, `refund:${second}`, 'sale']);
    expect(woo.notes(24).map((n) => n.note)).toEqual([
      'Affiliate postback sent to Network A: success',
      `Affiliate postback sent to Network A (refund:${first}): success`,
      `Affiliate postback sent to Network A (refund:${second}): success`,
    ]);
  });

  it('a full refund in one go reverses the whole order', async () => {
    await woo.addOrder(order({ id: 25, status: 'processing' }));
    const refund = await woo.refundOrder(25, '39.98');
    // the refund waits for its sale to be reported: the same drain sends it once the sale is settled
    await h.runWorker();
    expect(events().toSorted()).toEqual(['refund 25 39.98 abc', 'sale 25 39.98 abc']);
    expect((await h.store.listJobs({ orderId: '25' })).find((j) => j.event === 'refund')?.eventKey).toBe(`refund:${refund}`);
  });

  it('a paid order cancelled later sends the cancel postback; one cancelled before payment sends nothing', async () => {
    await woo.addOrder(order({ id: 26, status: 'processing' }));
    await h.runWorker();
    await woo.updateOrder(26, { status: 'cancelled' });
    await woo.addOrder(order({ id: 27, status: 'pending' }));
    await woo.updateOrder(27, { status: 'cancelled' });
    await h.runWorker();
    expect(events()).toEqual(['sale 26 39.98 abc', 'cancel 26 39.98 abc']);
  });

  it('a partial refund, then a cancellation: the cancel reverses only the rest', async () => {
    await woo.addOrder(order({ id: 50, status: 'processing' }));
    await h.runWorker();
    const refund = await woo.refundOrder(50, '9.98');
    await h.runWorker();
    await woo.updateOrder(50, { status: 'cancelled' });
    await h.runWorker();
    expect(events()).toEqual(['sale 50 39.98 abc', 'refund 50 9.98 abc', 'cancel 50 30.00 abc']);
    expect((await h.store.listJobs({ orderId: '50' })).map((j) => j.eventKey).toSorted()).toEqual(['cancel', `refund:${refund}`, 'sale']);
  });

  it('a cancellation and a refund of one order processed side by side never reverse more than the sale together', async () => {
    await woo.addOrder(order({ id: 58, status: 'processing' }));
    expect((await h.store.listJobs({ orderId: '58' })).map((j) => j.eventKey)).toEqual(['sale']);
    // a webhook with one state of the order and a reconciliation pass with another, both planned
    // against the sale alone: without the guard, 39.98 cancelled plus 9.98 refunded
    const gate = sideBySideGate();
    const processor = createOrderProcessor({ store: gate.wrap(h.store), clock: h.clock, logger: h.logger, metrics: createBridgeMetrics(), linkGraceMs: h.config.linkGraceMs });
    const connection = await h.connection(connectionId);
    const cancelledState = wooOrderSchema.parse(order({ id: 58, status: 'cancelled' }));
    const refundedState = wooOrderSchema.parse(order({ id: 58, status: 'processing', refunds: [{ id: 901, reason: '', total: '-9.98' }] }));
    gate.arm(2);
    await Promise.all([
      processor.process({ connection, order: cancelledState, trigger: 'webhook' }),
      processor.process({ connection, order: refundedState, trigger: 'reconcile' }),
    ]);
    const reversed = (await h.store.listJobs({ orderId: '58' })).filter((j) => j.event === 'refund' || j.event === 'cancel');
    expect(reversed.map((j) => Number(j.amount)).reduce((a, b) => a + b, 0)).toBeCloseTo(39.98, 2);
  });

  it('a cancellation that carries its refund (both in one delivery) sends one cancel, never the refund besides', async () => {
    await woo.addOrder(order({ id: 51, status: 'processing' }));
    await h.runWorker();
    woo.deliveryMode = 'queue';
    await woo.refundOrder(51, '39.98');
    await woo.updateOrder(51, { status: 'cancelled' });
    await woo.flush();
    await h.runWorker();
    expect(events()).toEqual(['sale 51 39.98 abc', 'cancel 51 39.98 abc']);
  });

  it('refunds are reported in the offer\'s amount basis: a subtotal offer gets the subtotal\'s share', async () => {
    await woo.addOrder(order({ id: 52, status: 'processing', shipping_total: '10.00', total: '49.98' }));
    await h.runWorker();
    await woo.refundOrder(52, '24.99');
    await h.runWorker();
    // 24.99 × 39.98 ÷ 49.98
    expect(events()).toEqual(['sale 52 39.98 abc', 'refund 52 19.99 abc']);
  });

  it('a full refund after a partial one reverses only what is left, also when Woo reports `refunded` before the refund', async () => {
    await woo.addOrder(order({ id: 53, status: 'processing' }));
    await h.runWorker();
    await woo.refundOrder(53, '5.00');
    await h.runWorker();
    // synchronous delivery: saving the status fires order.updated before wc_order_fully_refunded adds the refund
    await woo.updateOrder(53, { status: 'refunded' });
    await woo.refundOrder(53, '34.98');
    await h.runWorker();
    expect(events()).toEqual(['sale 53 39.98 abc', 'refund 53 5.00 abc', 'refund 53 34.98 abc']);
  });

  it('a full refund reported status first, then as a refund object, reverses the sale once (capped at the sale)', async () => {
    await woo.addOrder(order({ id: 57, status: 'processing' }));
    await h.runWorker();
    await woo.updateOrder(57, { status: 'refunded' });
    const refund = await woo.refundOrder(57, '39.98');
    await h.runWorker();
    expect(events()).toEqual(['sale 57 39.98 abc', 'refund 57 39.98 abc']);
    expect((await h.store.listJobs({ orderId: '57' })).map((j) => j.eventKey).toSorted()).toEqual(['refund:full', 'sale']);
    expect(h.logger.entries.some((e) => JSON.stringify(e.obj).includes(`refund:${refund}: the conversion is already fully reversed`))).toBe(true);
  });

  it('a sale the network rejected is never reversed', async () => {
    h.tracker.behave('*', { kind: 'reply', status: 400, body: 'Invalid Trans. ID' });
    await woo.addOrder(order({ id: 54, status: 'processing' }));
    await h.runWorker();
    expect((await h.store.listJobs({ orderId: '54' }))[0]).toMatchObject({ event: 'sale', status: 'failed' });
    await woo.refundOrder(54, '5.00');
    await woo.updateOrder(54, { status: 'cancelled' });
    expect((await h.store.listJobs({ orderId: '54' })).map((j) => j.eventKey)).toEqual(['sale']);
  });

  it('a refund that waited for a sale the network rejected is never sent, and the order says so', async () => {
    h.tracker.behave('*', { kind: 'reply', status: 400, body: 'Invalid Trans. ID' });
    woo.deliveryMode = 'queue';
    await woo.addOrder(order({ id: 58, status: 'processing' }));
    await woo.flush();
    const refund = await woo.refundOrder(58, '5.00');
    await woo.flush();
    expect((await h.store.listJobs({ orderId: '58' })).map((j) => j.eventKey).toSorted()).toEqual([`refund:${refund}`, 'sale']);
    await h.runWorker();
    await h.runWorker();
    expect(h.postbacks().map((p) => p['event'])).toEqual(['sale']);
    expect((await h.store.listJobs({ orderId: '58' })).map((j) => [j.event, j.status])).toEqual([
      ['refund', 'failed'],
      ['sale', 'failed'],
    ]);
    // no worker sent the refund, so the claim that settled it kept its write-back, due now
    expect(await h.bridge.writeBacks.runOnce()).toMatchObject({ written: 1 });
    expect(woo.notes(58).map((n) => n.note)).toEqual([
      'Affiliate postback sent to Network A: failed (rejected: HTTP 400: Invalid Trans. ID)',
      `Affiliate postback to Network A (refund:${refund}) not sent: its conversion was never reported (the job it waited for is failed)`,
    ]);
  });

  it('an order whose first delivery is already cancelled reverses nothing: its sale was never reported', async () => {
    woo.deliveryMode = 'queue';
    await woo.addOrder(order({ id: 55, status: 'processing' }));
    await woo.updateOrder(55, { status: 'cancelled' });
    await woo.flush();
    expect(await h.store.listJobs({ orderId: '55' })).toEqual([]);
  });

  it('a reversal planned while its sale is not delivered yet names the sale it waits for (dependsOn)', async () => {
    const drafts: PostbackJobDraft[] = [];
    const enqueue = h.store.enqueue.bind(h.store);
    h.store.enqueue = async (input) => {
      drafts.push(...input.jobs);
      return enqueue(input);
    };
    await woo.addOrder(order({ id: 56, status: 'processing' }));
    await woo.refundOrder(56, '5.00');
    const sale = drafts.find((d) => d.eventKey === 'sale');
    const refund = drafts.find((d) => d.event === 'refund');
    expect(sale?.dependsOn).toBeUndefined();
    expect(refund?.dependsOn).toBe(sale?.idempotencyKey);
    await h.runWorker();
    await h.runWorker();
    // once the sale is delivered, a later reversal waits for nothing
    await woo.refundOrder(56, '4.00');
    expect(drafts.filter((d) => d.event === 'refund').at(-1)?.dependsOn).toBeUndefined();
  });

  it('an order whose webhooks were lost is found by reconciliation, once', async () => {
    woo.deliveryMode = 'drop';
    await woo.addOrder(order({ id: 28, status: 'pending' }));
    h.clock.advance(60_000);
    await woo.updateOrder(28, { status: 'processing' });
    expect(await h.store.listJobs({})).toEqual([]);

    const progress: number[] = [];
    const [report] = await h.bridge.reconciler.runOnce({ onProgress: (p) => progress.push(p.orders) });
    expect(report).toMatchObject({ connectionId, ok: true, orders: 1, pages: 1, error: null });
    expect(progress).toEqual([1]);
    await h.runWorker();
    expect(events()).toEqual(['sale 28 39.98 abc']);

    // the write-back modified the order, so the next pass sees it again: nothing new is sent
    h.clock.advance(300_000);
    await h.bridge.reconciler.runOnce();
    await h.runWorker();
    expect(h.postbacks()).toHaveLength(1);
    expect((await h.connection(connectionId)).settings.lastReconcile).toMatchObject({ error: null });
  });

  it('after the bridge failed more than 5 deliveries Woo disables the hook; reconciliation catches up and re-enables it', async () => {
    const row = (await h.store.getStore(connectionId))!;
    await h.store.upsertStore({ ...row, status: 'disabled', now: h.clock.now() });
    await woo.addOrder(order({ id: 29, status: 'pending' }));
    for (const status of ['on-hold', 'pending', 'on-hold', 'pending', 'processing']) {
      h.clock.advance(1000);
      await woo.updateOrder(29, { status });
    }
    expect(woo.deliveries.filter((d) => d.topic === 'order.updated').map((d) => d.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(woo.webhooks().find((w) => w.topic === 'order.updated')?.status).toBe('disabled');
    h.clock.advance(1000);
    await woo.updateOrder(29, { status: 'completed' });
    expect(woo.deliveries).toHaveLength(7);

    await h.store.upsertStore({ ...row, status: 'active', now: h.clock.now() });
    const [report] = await h.bridge.reconciler.runOnce();
    expect(report).toMatchObject({ orders: 1, reenabledWebhooks: ['order.updated'] });
    expect(woo.webhooks().every((w) => w.status === 'active')).toBe(true);
    await h.runWorker();
    expect(events()).toEqual(['sale 29 39.98 abc']);
  });

  it('reconciliation re-enables a webhook Woo disabled and recreates one that was deleted', async () => {
    const [created, updated] = woo.webhooks();
    woo.setWebhookStatus(created!.id, 'disabled');
    woo.deleteWebhook(updated!.id);
    const pingsBefore = woo.pings.length;
    const [report] = await h.bridge.reconciler.runOnce();
    expect(report).toMatchObject({ reenabledWebhooks: ['order.created'], recreatedWebhooks: ['order.updated'] });
    expect(woo.webhooks().map((w) => [w.topic, w.status]).toSorted()).toEqual([
      ['order.created', 'active'],
      ['order.deleted', 'active'],
      ['order.restored', 'active'],
      ['order.updated', 'active'],
    ]);
    // re-activation and creation ping the bridge, which answers 200
    expect(woo.pings.slice(pingsBefore).map((p) => p.status)).toEqual([200, 200]);
    expect((await h.connection(connectionId)).settings.webhookIds['order.updated']).toBe(woo.webhooks().find((w) => w.topic === 'order.updated')?.id);
    expect(await h.counter('webhooksReenabled')).toBe(2);
  });
});

describe('the ID resolution chain, one source at a time', () => {
  beforeEach(async () => {
    // only the chain sources under test: no configured meta key
    await h.connect(woo, { idMetaKeys: [] });
  });

  it('order link: the click reported on the landing page, the order on the thank-you page', async () => {
    const vid = newVisitor();
    await reportClick(h, woo, { vid, id: 'LINK-1', param: 'click_id' });
    await woo.addOrder(order({ id: 30, status: 'pending', created_via: 'checkout', meta_data: [] }));
    await reportOrder(h, woo, { vid, orderId: 30, orderKey: woo.order(30)!.order_key });
    await woo.updateOrder(30, { status: 'processing' });
    expect((await h.store.listJobs({ orderId: '30' }))[0]).toMatchObject({ transactionId: 'LINK-1', idSource: 'order_link' });
  });

  it('Order Attribution session entry, once the wait for a link is over', async () => {
    const entry = { key: '_wc_order_attribution_session_entry', value: 'https://shop.example/?utm_source=net&click_id=ENTRY-1' };
    await woo.addOrder(order({ id: 31, status: 'processing', created_via: 'checkout', meta_data: [entry] }));
    expect(await h.store.listJobs({ orderId: '31' })).toEqual([]);
    // a pass within the wait reads it (it waits on) and a later order: the cursor moves past it
    h.clock.advance(1000);
    await woo.addOrder(order({ id: 32, status: 'pending' }));
    expect((await h.bridge.reconciler.runOnce())[0]).toMatchObject({ ok: true, orders: 2, resolvedPending: 0 });
    expect(await h.store.getPendingOrder(connectionId, '31')).toBeDefined();
    h.clock.advance(h.config.linkGraceMs + 1000);
    const [report] = await h.bridge.reconciler.runOnce();
    expect(report).toMatchObject({ ok: true, orders: 1, resolvedPending: 1 });
    expect((await h.store.listJobs({ orderId: '31' }))[0]).toMatchObject({ transactionId: 'ENTRY-1', idSource: 'order_attribution' });
    expect(await h.store.countPendingOrders(connectionId)).toBe(0);
  });

  it('Order Attribution utm_* meta, for an offer that reads its ID from utm_content', async () => {
    await woo.addOrder(order({ id: 32, status: 'processing', meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'UTM-1' }] }));
    expect((await h.store.listJobs({ orderId: '32' }))[0]).toMatchObject({ transactionId: 'UTM-1', idSource: 'order_attribution' });
  });

  it("customer map: a returning customer's order gets the ID of their attributed one", async () => {
    await woo.addOrder(order({ id: 33, status: 'processing', customer_id: 7, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'CUST-1' }] }));
    // a Woo customer id means something in one store: the map entry is that connection's
    expect(await h.store.getCapture('m1', 'customer', `${connectionId}:7`)).toMatchObject({ transactionId: 'CUST-1', storeId: connectionId });
    h.clock.advance(86_400_000);
    await woo.addOrder(order({ id: 34, status: 'processing', customer_id: 7, meta_data: [] }));
    expect((await h.store.listJobs({ orderId: '34' }))[0]).toMatchObject({ transactionId: 'CUST-1', idSource: 'customer' });
  });

  it("a refund after the customer's remembered click changed goes out with the sale's ID", async () => {
    await woo.addOrder(order({ id: 60, status: 'processing', customer_id: 7, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'CUST-X' }] }));
    h.clock.advance(3_600_000);
    await woo.addOrder(order({ id: 61, status: 'processing', customer_id: 7, meta_data: [] }));
    expect((await h.store.listJobs({ orderId: '61' }))[0]).toMatchObject({ transactionId: 'CUST-X', idSource: 'customer' });
    await h.runWorker();
    // the customer comes back through another affiliate's link
    h.clock.advance(3_600_000);
    await woo.addOrder(order({ id: 62, status: 'processing', customer_id: 7, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'CUST-Y' }] }));
    expect(await h.store.getCapture('m1', 'customer', `${connectionId}:7`)).toMatchObject({ transactionId: 'CUST-Y' });
    await woo.refundOrder(61, '39.98');
    const refund = (await h.store.listJobs({ orderId: '61' })).find((j) => j.event === 'refund');
    expect(refund).toMatchObject({ transactionId: 'CUST-X', idSource: 'customer' });
  });

  it("customer map: customer 7 of the merchant's other store is someone else and gets no ID from it", async () => {
    const other = await h.startWoo({ host: '127.0.0.2' });
    const otherId = (await h.connect(other)).connection.id;
    expect(otherId).not.toBe(connectionId);
    await woo.addOrder(order({ id: 35, status: 'processing', customer_id: 7, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'CUST-A' }] }));
    expect((await h.store.listJobs({ orderId: '35' }))[0]).toMatchObject({ transactionId: 'CUST-A' });
    h.clock.advance(86_400_000);
    // the same number on the other store: a different WordPress user, and an order without a click
    await other.addOrder(order({ id: 36, status: 'processing', customer_id: 7, meta_data: [] }));
    expect(await h.store.listJobs({ storeId: otherId, orderId: '36' })).toEqual([]);
    expect(await h.store.getCapture('m1', 'customer', `${otherId}:7`)).toBeUndefined();
    // while customer 7 of the first store still finds their click
    await woo.addOrder(order({ id: 37, status: 'processing', customer_id: 7, meta_data: [] }));
    expect((await h.store.listJobs({ orderId: '37' }))[0]).toMatchObject({ transactionId: 'CUST-A', idSource: 'customer' });
  });

  it('re-processing an old order never puts its older click back over the newer one in the customer map', async () => {
    await woo.addOrder(order({ id: 63, status: 'processing', customer_id: 8, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'OLD-1' }] }));
    h.clock.advance(86_400_000);
    await woo.addOrder(order({ id: 64, status: 'processing', customer_id: 8, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'NEW-1' }] }));
    await h.runWorker();
    // the old order is completed, refunded in part and reconciled: none of it is a new conversion
    await woo.updateOrder(63, { status: 'completed' });
    await woo.refundOrder(63, '1.00');
    await h.bridge.reconciler.runOnce();
    await h.runWorker();
    expect(await h.store.getCapture('m1', 'customer', `${connectionId}:8`)).toMatchObject({ transactionId: 'NEW-1' });
    // an order placed before the newer one but delivered only now does not replace it either
    const late = wooOrderAt(new Date(h.clock.now().getTime() - 2 * 86_400_000), {
      id: 65,
      status: 'processing',
      customer_id: 8,
      meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'OLDER-2' }],
    });
    await woo.addOrder(late);
    expect((await h.store.listJobs({ orderId: '65' }))[0]).toMatchObject({ transactionId: 'OLDER-2' });
    expect(await h.store.getCapture('m1', 'customer', `${connectionId}:8`)).toMatchObject({ transactionId: 'NEW-1' });
    h.clock.advance(60_000);
    await woo.addOrder(order({ id: 66, status: 'processing', customer_id: 8, meta_data: [] }));
    expect((await h.store.listJobs({ orderId: '66' }))[0]).toMatchObject({ transactionId: 'NEW-1', idSource: 'customer' });
  });

  it('a first-click offer keeps the first click in the customer map', async () => {
    await h.saveOffer({ attribution: { windowDays: 30, model: 'first_click' } });
    await woo.addOrder(order({ id: 67, status: 'processing', customer_id: 9, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'FIRST-1' }] }));
    h.clock.advance(86_400_000);
    await woo.addOrder(order({ id: 68, status: 'processing', customer_id: 9, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'SECOND-1' }] }));
    expect(await h.store.getCapture('m1', 'customer', `${connectionId}:9`)).toMatchObject({ transactionId: 'FIRST-1' });
  });

  it.each([
    ['admin', 'an order made in the admin'],
    ['pos-rest-api', 'a point-of-sale order'],
  ])('created_via %s (%s) is never attributed through the customer map alone', async (createdVia) => {
    await woo.addOrder(order({ id: 69, status: 'processing', customer_id: 10, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'CUST-10' }] }));
    expect(await h.store.getCapture('m1', 'customer', `${connectionId}:10`)).toMatchObject({ transactionId: 'CUST-10' });
    await woo.addOrder(order({ id: 70, status: 'processing', customer_id: 10, created_via: createdVia, meta_data: [] }));
    expect(await h.store.listJobs({ orderId: '70' })).toEqual([]);
    const [row] = await h.store.listUnattributed({ storeId: connectionId });
    expect(row).toMatchObject({ orderId: '70' });
    expect(row?.reason).toContain(`created_via "${createdVia}": an order made by staff is not attributed through the customer map`);
    // its own sources still count
    await woo.addOrder(order({ id: 71, status: 'processing', customer_id: 10, created_via: createdVia, meta_data: [{ key: '_wc_order_attribution_utm_content', value: 'OWN-71' }] }));
    expect((await h.store.listJobs({ orderId: '71' }))[0]).toMatchObject({ transactionId: 'OWN-71', idSource: 'order_attribution' });
  });

  it('configured meta key wins over every other source', async () => {
    await h.connect(woo, { idMetaKeys: ['_my_tid'] });
    await woo.addOrder(
      order({ id: 35, status: 'processing', meta_data: [{ key: '_my_tid', value: 'META-1' }, { key: '_wc_order_attribution_utm_content', value: 'UTM-2' }] }),
    );
    expect((await h.store.listJobs({ orderId: '35' }))[0]).toMatchObject({ transactionId: 'META-1', idSource: 'order_meta' });
  });

  it('no source at all: after the grace period the order is logged unattributed, with why', async () => {
    await woo.addOrder(order({ id: 36, status: 'processing', created_via: 'checkout', meta_data: [] }));
    expect(await h.store.listUnattributed({})).toEqual([]);
    h.clock.advance(h.config.linkGraceMs + 1000);
    await h.bridge.reconciler.runOnce();
    const [row] = await h.store.listUnattributed({ storeId: connectionId });
    expect(row).toMatchObject({ orderId: '36', orderNumber: '36' });
    expect(row?.reason).toMatch(/no transaction ID/);
    expect(await h.store.listJobs({})).toEqual([]);
  });
});

const firstOrderOffer = async () => {
  const url = `${h.tracker.url}/postback?tid={transaction_id}&amount={amount}&order={order_id}&event={event}&cur={currency}`;
  await h.saveOffer({ postbacks: { sale: { url }, first_order: { url } } });
};
const eventKeys = async (orderId: number) => (await h.store.listJobs({ orderId: String(orderId) })).map((j) => j.eventKey).toSorted();
const customerListings = () => woo.orderListings.filter((l) => l['customer'] !== undefined);

describe('first order (registered customers)', () => {
  beforeEach(firstOrderOffer);

  it("a registered customer's first placed order sends first_order besides the sale; their next order only the sale", async () => {
    await woo.addOrder(order({ id: 81, status: 'processing', customer_id: 21 }));
    h.clock.advance(60_000);
    await woo.addOrder(order({ id: 82, status: 'processing', customer_id: 21 }));
    expect(await eventKeys(81)).toEqual(['first_order', 'sale']);
    expect(await eventKeys(82)).toEqual(['sale']);
    // the store was asked for the customer's earliest placed order, nothing more
    expect(customerListings().at(-1)).toMatchObject({ customer: '21', status: 'processing,completed,on-hold,refunded', orderby: 'date', order: 'asc', per_page: '1' });
    await h.runWorker();
    // the first-order postback carries its own order reference, so a network that dedupes by order id keeps both
    expect(events().toSorted()).toEqual(['first_order 81:first_order 39.98 abc', 'sale 81 39.98 abc', 'sale 82 39.98 abc']);
  });

  it('an earlier order that never became a purchase does not count; one refunded since does', async () => {
    await woo.addOrder(order({ id: 83, status: 'cancelled', customer_id: 22 }));
    await woo.addOrder(order({ id: 84, status: 'refunded', customer_id: 23 }));
    h.clock.advance(60_000);
    await woo.addOrder(order({ id: 85, status: 'processing', customer_id: 22 }));
    await woo.addOrder(order({ id: 86, status: 'processing', customer_id: 23 }));
    expect(await eventKeys(85)).toEqual(['first_order', 'sale']);
    expect(await eventKeys(86)).toEqual(['sale']);
  });

  it('asks once per order: later deliveries, the write-back echo included, ask nothing', async () => {
    await woo.addOrder(order({ id: 87, status: 'processing', customer_id: 24 }));
    expect(customerListings()).toHaveLength(1);
    await h.runWorker();
    await woo.updateOrder(87, { status: 'completed' });
    expect(customerListings()).toHaveLength(1);
    expect(await eventKeys(87)).toEqual(['first_order', 'sale']);
  });

  it('a guest order asks nothing; a store that cannot answer costs the first-order postback, never the sale', async () => {
    await woo.addOrder(order({ id: 88, status: 'processing', customer_id: 0 }));
    expect(customerListings()).toHaveLength(0);
    expect(await eventKeys(88)).toEqual(['sale']);
    woo.beforeOrderListing = () => {
      throw new Error('the store is down');
    };
    await woo.addOrder(order({ id: 89, status: 'processing', customer_id: 25 }));
    expect(await eventKeys(89)).toEqual(['sale']);
    expect(h.logger.entries.some((e) => e.level === 'warn' && e.msg?.startsWith('first order not known'))).toBe(true);
  });

  it('a store too slow to answer does not hold the webhook past the deadline: the sale is stored without a first order', async () => {
    woo.beforeOrderListing = () => new Promise((resolve) => setTimeout(resolve, 2_500));
    const started = performance.now();
    await woo.addOrder(order({ id: 90, status: 'processing', customer_id: 26 }));
    // the harness's deadline is 300 ms; the store would have answered after 2.5 s
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await eventKeys(90)).toEqual(['sale']);
    const warning = h.logger.entries.find((e) => e.level === 'warn' && e.msg?.startsWith('first order not known'));
    expect((warning?.obj as { err?: Error } | undefined)?.err?.message).toBe('the store did not say within 300 ms');
  });
});

describe('several domains of one merchant', () => {
  it('a click caught on one store is found for an order placed on a sibling store', async () => {
    await h.connect(woo, { idMetaKeys: [] });
    const sibling = await h.startWoo({ host: '127.0.0.2' });
    const siblingId = (await h.connect(sibling)).connection.id;
    expect(await h.store.listDomains('m1')).toEqual(expect.arrayContaining(['127.0.0.1', '127.0.0.2']));

    const vid = newVisitor();
    // landing on store A; the script carries the visitor token to store B in the _ctv handoff
    expect((await reportClick(h, woo, { vid, id: 'CROSS-1' })).status).toBe(204);
    await sibling.addOrder(order({ id: 40, status: 'processing', created_via: 'checkout', meta_data: [] }));
    expect((await reportOrder(h, sibling, { vid, orderId: 40, orderKey: sibling.order(40)!.order_key })).status).toBe(204);

    const [job] = await h.store.listJobs({ orderId: '40' });
    expect(job).toMatchObject({ storeId: siblingId, transactionId: 'CROSS-1', idSource: 'order_link' });
    await h.runWorker();
    expect(events()).toEqual(['sale 40 39.98 CROSS-1']);
    expect(sibling.notes(40)).toHaveLength(1);
  });
});

const paidOrder = async (id: number) => {
  await woo.addOrder(order({ id, status: 'processing' }));
};
const noteCount = (id: number) => woo.notes(id).length;
const metaOf = (id: number) => woo.order(id)?.meta_data.find((m) => m.key === transactionIdMetaKey)?.value;

describe('write-backs the store did not take are tried again', () => {
  it('a store that is down when the postback settles gets its note and meta once it is back', async () => {
    await paidOrder(21);
    woo.outage = (request) => (request.startsWith('POST /orders/21/notes') || request === 'PUT /orders/21' ? 503 : null);
    expect((await h.runWorker()).succeeded).toBe(1);
    expect(events()).toEqual(['sale 21 39.98 abc']);
    expect(noteCount(21)).toBe(0);
    const [task] = await h.store.listWriteBacks({});
    expect(task).toMatchObject({ platform: 'woocommerce', status: 'pending', step: 'note', attempts: 1 });
    expect(task?.lastError).toMatch(/order note not added: WooCommerce answered HTTP 503/);

    // still down at the first retry: kept, later
    h.clock.advance(60_000);
    expect(await h.bridge.writeBacks.runOnce()).toEqual({ tried: 1, written: 0, deferred: 1, dead: 0 });
    woo.outage = null;
    h.clock.advance(300_000);
    expect(await h.bridge.writeBacks.runOnce()).toEqual({ tried: 1, written: 1, deferred: 0, dead: 0 });
    expect(woo.notes(21).map((n) => n.note)).toEqual(['Affiliate postback sent to Network A: success']);
    expect(metaOf(21)).toBe('abc');
    expect(await h.store.listWriteBacks({})).toEqual([]);
    // the postback itself was never sent again
    await h.runWorker();
    expect(h.postbacks()).toHaveLength(1);
  });

  it('a note that went through is not added again when only the meta write failed', async () => {
    await paidOrder(22);
    woo.outage = (request) => (request === 'PUT /orders/22' ? 429 : null);
    await h.runWorker();
    expect(noteCount(22)).toBe(1);
    expect(await h.store.listWriteBacks({})).toMatchObject([{ step: 'meta', attempts: 1 }]);
    woo.outage = null;
    h.clock.advance(60_000);
    expect(await h.bridge.writeBacks.runOnce()).toMatchObject({ written: 1 });
    expect(noteCount(22)).toBe(1);
    expect(metaOf(22)).toBe('abc');
  });

  it('an order deleted before its write-back is given up at once, with the reason kept', async () => {
    await paidOrder(23);
    woo.outage = (request) => (request.startsWith('POST /orders/23/notes') ? 404 : null);
    await h.runWorker();
    expect(await h.store.listWriteBacks({})).toMatchObject([{ status: 'dead', step: 'note', lastError: expect.stringMatching(/order note not added/) }]);
    woo.outage = null;
    h.clock.advance(10 ** 9);
    expect(await h.bridge.writeBacks.runOnce()).toEqual({ tried: 0, written: 0, deferred: 0, dead: 0 });
    expect(noteCount(23)).toBe(0);
  });
});
