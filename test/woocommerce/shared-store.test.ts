import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@clickthread/core';
import type { ReconcileReport } from '@clickthread/woocommerce-bridge';
import { wooOrderAt, type FakeWoo, type WooOrderJson } from '@clickthread/woocommerce-bridge/testing';
import { startHarness, type Harness } from './support/harness.ts';

/**
 * Two bridge processes over one database (review finding 6): web processes behind a load balancer,
 * or `clickthread-woo reconcile` beside the service. Each harness is one process: its own Store
 * connection to the same SQLite file, its own bridge and reconciler, one clock. Nothing either
 * writes to a connection may be lost to the other's writes: the orders waiting for their link are
 * rows of their own, settings keys are patched one by one, and the reconcile cursor moves by
 * compare-and-set, never backwards and never behind a pass that read further.
 */

let dir: string;
let a: Harness;
let b: Harness;
let woo: FakeWoo;
let connectionId: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clickthread-woo-shared-'));
  const storePath = join(dir, 'clickthread.sqlite');
  const clock = new ManualClock('2026-11-21T18:26:00.000Z');
  // one secret key, as two processes of one deployment have: each opens the connection's secrets
  const env = { CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('base64'), CLICKTHREAD_WOO_RECONCILE_PAGE_SIZE: '2' };
  a = await startHarness({ storePath, clock, env });
  b = await startHarness({ storePath, clock, env });
  await a.saveOffer();
  woo = await a.startWoo();
  connectionId = (await a.connect(woo, { idMetaKeys: ['_transaction_id_demo'] })).connection.id;
  clock.advance(60_000);
});
afterEach(async () => {
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

const order = (overrides: Partial<WooOrderJson>): WooOrderJson => wooOrderAt(a.clock.now(), overrides);
/**
 * A storefront order paid at checkout with no link yet: it waits for its order-received page, which
 * would outrank the click its Order Attribution landing page shows.
 */
const storefrontOrder = (id: number): WooOrderJson =>
  order({
    id,
    status: 'processing',
    created_via: 'checkout',
    payment_method: 'cod',
    meta_data: [{ key: '_wc_order_attribution_session_entry', value: `https://shop.example/?click_id=ENTRY-${id}` }],
  });
const storedCursor = async (): Promise<unknown> => (await a.store.getStore(connectionId))?.settings['reconcileCursor'];

/** Orders `ids`, each modified one second after the previous one (pages of two: one page per two orders). */
async function addOrdersOneSecondApart(ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    await woo.addOrder(order({ id, status: 'processing' }));
    a.clock.advance(1000);
  }
}

/** Runs `change` once, before the first order listing that comes after this call. */
function onceBeforeNextListing(change: () => Promise<void>): void {
  let done = false;
  woo.beforeOrderListing = async () => {
    if (done) return;
    done = true;
    await change();
  };
}

describe('two bridge processes on one database', () => {
  it("orders waiting for their link in one process survive the other's reconciliation and settings writes", async () => {
    // process A takes the webhooks while process B reconciles: B's pass reads the connection
    // before A's orders arrive and writes the cursor, the last run and the webhook ids after
    const ids = [41, 42, 43, 44, 45, 46, 47, 48];
    onceBeforeNextListing(async () => {
      await Promise.all(ids.slice(0, 4).map((id) => woo.addOrder(storefrontOrder(id))));
    });
    const [passes] = await Promise.all([
      Promise.all([b.bridge.reconciler.runOnce(), b.bridge.reconciler.runOnce()]),
      ...ids.slice(4).map((id) => woo.addOrder(storefrontOrder(id))),
    ]);
    expect(woo.deliveries.filter((d) => d.topic === 'order.created').map((d) => d.status)).toEqual(ids.map(() => 200));
    for (const report of passes.flat()) expect(report).toMatchObject({ ok: true, error: null });

    const waiting = await a.store.listDuePendingOrders({ storeId: connectionId, now: new Date('2100-01-01T00:00:00Z'), limit: 100 });
    expect(waiting.map((p) => p.orderId).toSorted()).toEqual(ids.map(String));
    expect(await b.store.countPendingOrders(connectionId)).toBe(ids.length);
    // and B's writes are all there too, beside A's last-delivery time
    const settings = (await a.store.getStore(connectionId))?.settings ?? {};
    expect(settings).toMatchObject({ lastReconcile: { error: null }, lastWebhookAt: expect.any(String), reconcileCursor: expect.any(String) });
    expect(Object.keys(settings['webhookIds'] ?? {})).toHaveLength(4);
    expect(settings).not.toHaveProperty('pendingOrders');

    // when the wait is over, the two processes' passes resolve them: one sale each
    a.clock.advance(a.config.linkGraceMs + 1000);
    for (const report of (await Promise.all([a.bridge.reconciler.runOnce(), b.bridge.reconciler.runOnce()])).flat()) expect(report).toMatchObject({ ok: true });
    expect(await a.store.countPendingOrders(connectionId)).toBe(0);
    const sales = (await a.store.listJobs({ storeId: connectionId })).filter((j) => j.event === 'sale').map((j) => j.orderId);
    expect(sales.toSorted()).toEqual(ids.map(String));
  });

  it("a pass that read less never puts the cursor back behind another process's pass", async () => {
    woo.deliveryMode = 'drop';
    await addOrdersOneSecondApart([51, 52, 53, 54, 55, 56]);
    // A reads one page; while it does, B reads everything and stores its cursor first
    let passB: ReconcileReport | undefined;
    onceBeforeNextListing(async () => {
      [passB] = await b.bridge.reconciler.runOnce();
    });
    const [passA] = await a.bridge.reconciler.runOnce({ maxPages: 1 });
    expect(passB).toMatchObject({ ok: true, orders: 6, cursor: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/) });
    expect(await storedCursor()).toBe(passB?.cursor);
    // A reports the cursor that stays, not the shorter one it reached
    expect(passA).toMatchObject({ ok: true, pages: 1, cursor: passB?.cursor });
    expect(a.logger.entries.some((e) => e.msg === 'reconcile: another pass moved the cursor as far or further; its cursor stays')).toBe(true);
  });

  it('a pass that read further than the one that wrote first still records how far it got', async () => {
    woo.deliveryMode = 'drop';
    await addOrdersOneSecondApart([61, 62, 63, 64, 65, 66]);
    // A reads everything; while it reads its first page, B reads one page and stores its cursor
    let passB: ReconcileReport | undefined;
    let storedByB: unknown;
    onceBeforeNextListing(async () => {
      [passB] = await b.bridge.reconciler.runOnce({ maxPages: 1 });
      storedByB = await storedCursor();
    });
    const [passA] = await a.bridge.reconciler.runOnce();
    expect(passB).toMatchObject({ ok: true, pages: 1 });
    expect(storedByB).toBe(passB?.cursor);
    expect(passA).toMatchObject({ ok: true, orders: 6 });
    expect(passA?.cursor).not.toBe(passB?.cursor);
    expect(await storedCursor()).toBe(passA?.cursor);

    // nothing is lost either way: every order was planned once
    const sales = (await a.store.listJobs({ storeId: connectionId })).filter((j) => j.event === 'sale').map((j) => j.orderId);
    expect(sales.toSorted()).toEqual(['61', '62', '63', '64', '65', '66']);
  });

  it('concurrent passes of both processes end with the furthest cursor and every order planned', async () => {
    woo.deliveryMode = 'drop';
    await addOrdersOneSecondApart([71, 72, 73, 74, 75, 76, 77]);
    const reports = (
      await Promise.all([
        a.bridge.reconciler.runOnce({ maxPages: 2 }),
        b.bridge.reconciler.runOnce(),
        a.bridge.reconciler.runOnce(),
        b.bridge.reconciler.runOnce({ maxPages: 1 }),
      ])
    ).flat();
    for (const report of reports) expect(report).toMatchObject({ ok: true });
    const furthest = reports.map((r) => r.cursor ?? '').toSorted().at(-1);
    expect(await storedCursor()).toBe(furthest);
    const sales = (await a.store.listJobs({ storeId: connectionId })).filter((j) => j.event === 'sale').map((j) => j.orderId);
    expect(sales.toSorted()).toEqual(['71', '72', '73', '74', '75', '76', '77']);
  });
});
