import { createMemoryLogger, ManualClock } from '@clickthread/core';
import { transactionIdMetaKey } from '@clickthread/woocommerce-bridge';
import { wooOrderAt } from '@clickthread/woocommerce-bridge/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hour, liveFor, minute } from './support/fake-time.ts';
import { startSystem, wooMetaKey, type System } from './support/system.ts';

/**
 * The WooCommerce store down for hours while its orders' postbacks settle (ManualClock; the worker
 * and the write-back retries driven by hand): the postbacks go out, and every order gets its note
 * and meta once the store answers again, exactly once; past the write-back schedule the tasks are
 * kept dead with the store's answer, and nothing is written after.
 */

const writeBackSchedule = [1 * minute, 5 * minute, 30 * minute, 2 * hour];

let system: System;
let clock: ManualClock;
let nextOrder = 0;

beforeEach(async () => {
  clock = new ManualClock('2026-03-02T12:05:00.000Z');
  system = await startSystem({ logger: createMemoryLogger(), clock, writeBackSchedule });
  system.tracker.behave('*', { kind: 'tune', answer: 'success' });
});
afterEach(async () => {
  await system.close();
});

/** The store answers its REST API with 503 (webhooks to the bridge still arrive: the site is up, its API is not). */
function storeDown(): void {
  system.woo.fake.outage = (request) => (/^(POST|PUT) \/orders\//.test(request) ? 503 : null);
}

function storeUp(): void {
  system.woo.fake.outage = null;
}

async function placeWooOrder(): Promise<number> {
  nextOrder += 1;
  const id = 8000 + nextOrder;
  // placed in the store (its webhook reaches the bridge as Woo sends it): the write-back needs the order there
  await system.woo.fake.addOrder(wooOrderAt(clock.now(), { id, status: 'processing', meta_data: [{ id: 3, key: wooMetaKey, value: `so-tx-${nextOrder}` }] }));
  expect(system.woo.fake.deliveries.at(-1)).toMatchObject({ orderId: id, status: 200 });
  return id;
}

/** One turn of the system: due postbacks sent, due write-backs tried. */
async function turn(): Promise<void> {
  await system.drain();
  await system.writeBacks.runOnce();
}

/** Moves the clock in steps, taking a turn at each, placing orders where asked. */
function live(durationMs: number, placeEvery?: number): Promise<number[]> {
  return liveFor(clock, durationMs, turn, placeEvery === undefined ? undefined : { every: placeEvery, place: async () => [await placeWooOrder()] });
}

/** One note per offer's postback (the system's two networks). */
const NOTES = ['Affiliate postback sent to Network A (TUNE): success', 'Affiliate postback sent to Network B: success'];
const notesOf = (id: number) => system.woo.fake.notes(id).map((n) => n.note);
const metaOf = (id: number) => system.woo.fake.order(id)?.meta_data.find((m) => m.key === transactionIdMetaKey)?.value;

describe('store outage', () => {
  it('down for 2 hours while postbacks settle: every order gets its note and meta once the store is back, once', { timeout: 30_000 }, async () => {
    storeDown();
    const placed = await live(2 * hour, 20 * minute);
    expect(placed).toHaveLength(7);
    const jobs = await system.store.listJobs({ storeId: system.woo.connectionId, limit: 100 });
    expect(jobs.map((j) => j.status).filter((s) => s !== 'succeeded')).toEqual([]);
    for (const id of placed) expect(notesOf(id)).toEqual([]);
    const waiting = await system.store.listWriteBacks({ storeId: system.woo.connectionId });
    // one postback per order and offer, each with its note to write
    expect(waiting).toHaveLength(jobs.length);
    expect(jobs.length).toBe(placed.length * 2);
    expect(waiting.every((t) => t.status === 'pending' && t.step === 'note' && /503/.test(t.lastError ?? ''))).toBe(true);

    storeUp();
    await live(3 * hour);
    for (const [i, id] of placed.entries()) {
      expect(notesOf(id).toSorted()).toEqual(NOTES);
      expect(metaOf(id)).toBe(`so-tx-${i + 1}`);
    }
    expect(await system.store.listWriteBacks({})).toEqual([]);
    // the postbacks themselves went out once each
    expect(system.tracker.requests).toHaveLength(jobs.length);
  });

  it('down for longer than the write-back schedule: the tasks are kept dead with the store\'s answer, nothing written after', { timeout: 30_000 }, async () => {
    storeDown();
    const placed = await live(0, hour);
    await live(4 * hour);
    const dead = await system.store.listWriteBacks({ status: 'dead' });
    expect(dead.map((t) => [t.attempts, t.step])).toEqual([
      [writeBackSchedule.length + 1, 'note'],
      [writeBackSchedule.length + 1, 'note'],
    ]);
    expect(dead[0]?.lastError).toMatch(/order note not added: WooCommerce answered HTTP 503.*\(gave up after 5 tries\)/);

    storeUp();
    await live(6 * hour);
    expect(notesOf(placed[0] ?? 0)).toEqual([]);
    expect(await system.store.listWriteBacks({ status: 'dead' })).toHaveLength(2);
  });
});
