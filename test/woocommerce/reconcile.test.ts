import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wooOrderAt, type FakeWoo, type WooOrderJson } from '@clickthread/woocommerce-bridge/testing';
import { startHarness, type Harness } from './support/harness.ts';

/**
 * Reconciliation pages through a list that changes while it is read: every order modified in the
 * meantime (the bridge's own write-back, a merchant's edit) moves to the end of `orderby=modified`.
 * Keyset paging — always the first page after the last modification read — finds every order once.
 */

let h: Harness;
let woo: FakeWoo;
let connectionId: string;

beforeEach(async () => {
  h = await startHarness({ env: { CLICKTHREAD_WOO_RECONCILE_PAGE_SIZE: '2' } });
  await h.saveOffer();
  woo = await h.startWoo();
  connectionId = (await h.connect(woo, { idMetaKeys: ['_transaction_id_demo'] })).connection.id;
  h.clock.advance(60_000);
  // every webhook is lost: only reconciliation can find the orders
  woo.deliveryMode = 'drop';
});
afterEach(async () => {
  await h.close();
});

const order = (overrides: Partial<WooOrderJson>): WooOrderJson => wooOrderAt(h.clock.now(), overrides);
const saleOrders = async (): Promise<string[]> =>
  (await h.store.listJobs({}))
    .filter((j) => j.event === 'sale')
    .map((j) => j.orderId)
    .toSorted();
async function storeCursor(cursor: string): Promise<void> {
  const row = (await h.store.getStore(connectionId))!;
  await h.store.upsertStore({ ...row, settings: { ...row.settings, reconcileCursor: cursor }, now: h.clock.now() });
}
/** The reconciler's listings (the connect's key check lists orders too). */
const pollListings = () => woo.orderListings.filter((l) => 'modified_after' in l);
/** Runs `change` before the `n`th of the reconciler's listings. */
function beforePoll(n: number, change: () => Promise<void>): void {
  woo.beforeOrderListing = async (listing) => {
    if ('modified_after' in (woo.orderListings[listing - 1] ?? {}) && pollListings().length === n) await change();
  };
}
const storedCursor = async (): Promise<string | null> => (await h.connection(connectionId)).settings.reconcileCursor;

/** Orders `ids`, each modified one second after the previous one. */
async function addOrdersOneSecondApart(ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    await woo.addOrder(order({ id, status: 'processing' }));
    h.clock.advance(1000);
  }
}

describe('reconciliation over a list that changes while it is read', () => {
  it('an order read on page 1 and modified before page 2 does not push another order out of the pass', async () => {
    await addOrdersOneSecondApart([101, 102, 103, 104, 105, 106]);
    beforePoll(2, async () => {
      // the merchant edits order 101, already read: it moves to the end of the list
      h.clock.advance(1000);
      await woo.updateOrder(101, { customer_note: 'gift wrap, please' });
    });

    const [report] = await h.bridge.reconciler.runOnce();
    expect(report).toMatchObject({ ok: true, error: null });
    expect(await saleOrders()).toEqual(['101', '102', '103', '104', '105', '106']);
    // keyset paging: always the first page of what comes after the last modification read
    const listings = pollListings();
    expect(listings.length).toBeGreaterThanOrEqual(4);
    for (const listing of listings) {
      expect(listing).toMatchObject({ orderby: 'modified', order: 'asc', dates_are_gmt: 'true' });
      expect(listing['page'] ?? '1').toBe('1');
      expect(listing['offset']).toBeUndefined();
    }
    expect(listings.map((l) => l['modified_after'])).toEqual(listings.map((l) => l['modified_after']).toSorted());
  });

  it("the worker's write-backs between pages move orders already read; none is skipped and none is sent twice", async () => {
    await addOrdersOneSecondApart([111, 112, 113, 114, 115, 116, 117]);
    woo.beforeOrderListing = async () => {
      // the worker runs beside the reconciler: it sends what the previous page enqueued and writes it back
      h.clock.advance(1000);
      await h.runWorker();
    };
    await h.bridge.reconciler.runOnce();
    woo.beforeOrderListing = null;
    await h.runWorker();
    expect(await saleOrders()).toEqual(['111', '112', '113', '114', '115', '116', '117']);
    expect(
      h
        .postbacks()
        .map((p) => p['order'])
        .toSorted(),
    ).toEqual(['111', '112', '113', '114', '115', '116', '117']);
    // every order carries its write-back
    for (const id of [111, 112, 113, 114, 115, 116, 117]) expect(woo.notes(id)).toHaveLength(1);

    // the next pass reads the write-backs' modifications and sends nothing again
    h.clock.advance(300_000);
    const [again] = await h.bridge.reconciler.runOnce();
    expect(again).toMatchObject({ ok: true });
    await h.runWorker();
    expect(h.postbacks()).toHaveLength(7);
  });

  it('more orders modified in one second than a page holds are all read, while some of them change', async () => {
    // a bulk edit: eight orders share one modified second; pages hold two
    const bulk = [121, 122, 123, 124, 125, 126, 127, 128];
    for (const id of bulk) await woo.addOrder(order({ id, status: 'processing' }));
    h.clock.advance(1000);
    await woo.addOrder(order({ id: 129, status: 'processing' }));
    beforePoll(3, async () => {
      // two orders of the group change during the pass: one already read, one not yet
      h.clock.advance(1000);
      await woo.updateOrder(121, { customer_note: 'changed after it was read' });
      await woo.updateOrder(127, { customer_note: 'changed before it was read' });
    });

    const [report] = await h.bridge.reconciler.runOnce();
    expect(report).toMatchObject({ ok: true, error: null });
    expect(await saleOrders()).toEqual(['121', '122', '123', '124', '125', '126', '127', '128', '129']);
    // the second the group shares was read by id, skipping what had been read
    expect(pollListings().some((l) => l['orderby'] === 'id' && (l['exclude'] ?? '') !== '')).toBe(true);
  });

  it('a pass cut short inside a one-second group resumes after what it read, and a stored cursor of the old shape still works', async () => {
    const groupSecond = h.clock.now();
    for (const id of [131, 132, 133, 134, 135, 136]) await woo.addOrder(order({ id, status: 'processing' }));
    h.clock.advance(1000);
    await woo.addOrder(order({ id: 137, status: 'processing' }));

    // an existing connection's cursor, as earlier versions stored it: a plain GMT time
    const before = new Date(groupSecond.getTime() - 5000).toISOString().slice(0, 19);
    await storeCursor(before);

    // page 1: 131, 132; page 2 (same second, from one second before it): 131, 132 again, skipped —
    // a full page of one second, so page 3 reads that second by id without them: 133, 134
    const [first] = await h.bridge.reconciler.runOnce({ maxPages: 3 });
    expect(first).toMatchObject({ ok: true, pages: 3, orders: 4 });
    expect(await saleOrders()).toEqual(['131', '132', '133', '134']);
    // the cursor keeps the second and the ids already read in it
    const cut = await storedCursor();
    expect(cut).toBe(`${new Date(groupSecond.getTime() - 1000).toISOString().slice(0, 19)};seen=131,132,133,134`);

    const listedBefore = pollListings().length;
    const [second] = await h.bridge.reconciler.runOnce();
    expect(second).toMatchObject({ ok: true, orders: 3 });
    expect(await saleOrders()).toEqual(['131', '132', '133', '134', '135', '136', '137']);
    // it resumed inside the group: its first request leaves out what was read
    expect(pollListings()[listedBefore]).toMatchObject({ orderby: 'id', exclude: '131,132,133,134' });
    // caught up, the cursor is a plain time again (the last second is read again next time)
    expect(await storedCursor()).toBe(new Date(groupSecond.getTime()).toISOString().slice(0, 19));
  });

  it('a cursor that is not a time is reported, and nothing is polled with it', async () => {
    await storeCursor('yesterday');
    const [report] = await h.bridge.reconciler.runOnce();
    expect(report).toMatchObject({ ok: false });
    expect(report?.error).toMatch(/reconcile cursor/);
    expect(pollListings()).toEqual([]);
    expect(await storedCursor()).toBe('yesterday');
  });
});
