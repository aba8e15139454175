import { wpJsonEncode, wooOrderAt } from '@clickthread/woocommerce-bridge/testing';
import { createMemoryLogger } from '@clickthread/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrderPayload, captureAttribute } from '../shopify/order-payload-builder.ts';
import { startSystem, wooMetaKey, type System } from './support/system.ts';

/**
 * Duplicate and out-of-order webhook storms, both platforms at once, all requests concurrent: each
 * order is delivered many times (Shopify retries keep the event id, duplicates do not; Woo sends
 * `order.updated` for every change, in any order, with states skipped), and after the worker has
 * drained the outbox the tracker has exactly one postback per order · offer · event.
 */

const orders = 12;
const copies = 6;
const offers = ['net-a', 'net-b'] as const;

let system: System;
beforeAll(async () => {
  system = await startSystem({ logger: createMemoryLogger() });
});
afterAll(async () => {
  await system.close();
});

/** A deterministic shuffle, so a failure can be replayed. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function postbacksByKey(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of system.tracker.requests) {
    const order = request.query['adv_sub'] ?? request.query['order'] ?? '?';
    const event = request.query['event'] ?? 'sale';
    const key = `${request.path.slice(1)}|${order}|${event}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('webhook storms', () => {
  it('many concurrent duplicates and out-of-order updates give exactly one postback per order · offer · event', { timeout: 30_000 }, async () => {
    const requests: Array<() => Promise<Response>> = [];
    const expected: string[] = [];

    // Shopify: each order's orders/paid sent `copies` times: retries (same event id) and duplicates (new ids),
    // with different triggered-at/updated_at so their order of arrival says nothing
    for (let i = 0; i < orders; i += 1) {
      const base = buildOrderPayload({ note_attributes: [captureAttribute({ id: `shop-tx-${i}` })] });
      const orderId = String(base['id']);
      for (const offer of offers) expected.push(`${offer}|${orderId}|sale`);
      for (let c = 0; c < copies; c += 1) {
        const body = JSON.stringify({ ...base, updated_at: `2026-03-02T12:0${c}:00+00:00` });
        const retry = c % 2 === 0;
        requests.push(() => system.sendShopify(body, retry ? { eventId: `ev-order-${orderId}`, webhookId: `wh-order-${orderId}` } : {}));
      }
    }

    // Woo: pending → processing → on-hold → completed → processing …, several copies of each, shuffled.
    // The orders also live in the fake store (added without deliveries), so the bridge's write-back
    // succeeds and its echo (Woo fires order.updated for the bridge's own note/meta) reaches the bridge.
    system.woo.fake.deliveryMode = 'drop';
    const statuses = ['pending', 'processing', 'on-hold', 'completed', 'processing', 'completed'] as const;
    const at = system.clock.now();
    for (let i = 0; i < orders; i += 1) {
      const id = 9100 + i;
      for (const offer of offers) expected.push(`${offer}|${id}|sale`);
      for (const [step, status] of statuses.entries()) {
        const paid = status === 'processing' || status === 'completed';
        const order = wooOrderAt(at, {
          id,
          status,
          date_paid: paid ? '2026-03-02T12:00:00' : null,
          date_paid_gmt: paid ? '2026-03-02T12:00:00' : null,
          date_modified_gmt: `2026-03-02T12:0${step}:00`,
          meta_data: [{ id: 77, key: wooMetaKey, value: `woo-tx-${i}` }],
        });
        const body = wpJsonEncode(order);
        requests.push(() => system.sendWoo(body));
        if (step === statuses.length - 1) await system.woo.fake.addOrder(order);
      }
    }
    system.woo.fake.deliveryMode = 'sync';

    const responses = await Promise.all(shuffle(requests, 20260302).map((send) => send()));
    const statusCounts = new Map<number, number>();
    for (const response of responses) {
      statusCounts.set(response.status, (statusCounts.get(response.status) ?? 0) + 1);
      await response.arrayBuffer();
    }
    expect(Object.fromEntries(statusCounts)).toEqual({ 200: requests.length });

    // a second storm of the same deliveries after delivery started must not add anything either
    await system.drain();
    const replies = await Promise.all(shuffle(requests, 7).slice(0, 40).map((send) => send()));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      await reply.arrayBuffer();
    }
    await system.drain();

    const counts = postbacksByKey();
    expect([...counts.keys()].toSorted()).toEqual(expected.toSorted());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // the write-backs happened (a note per settled postback) and their echoes added nothing
    expect(system.woo.fake.notes(9100).length).toBe(offers.length);
    expect(system.woo.fake.deliveries.filter((d) => d.orderId === 9100 && d.status === 200).length).toBeGreaterThan(0);
    const jobs = await system.store.countJobs();
    expect(jobs).toMatchObject({ succeeded: expected.length, pending: 0, in_flight: 0, dead: 0, failed: 0 });
  });
});
