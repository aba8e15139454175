import { createMemoryLogger, ManualClock } from '@clickthread/core';
import type { PostbackJob } from '@clickthread/core/storage';
import { wpJsonEncode, wooOrderAt } from '@clickthread/woocommerce-bridge/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildOrderPayload, captureAttribute } from '../shopify/order-payload-builder.ts';
import { hour, liveFor, minute } from './support/fake-time.ts';
import { startSystem, wooMetaKey, type System } from './support/system.ts';

/**
 * The tracker down for a long time, on a ManualClock (hours pass in milliseconds) with the worker
 * driven by runOnce: orders keep arriving through both apps while every send fails (resets on one
 * network, 503 on the other). Nothing is lost: once the tracker is back everything is delivered,
 * exactly once per order · offer; past the retry schedule jobs become dead letters, are sent no
 * more, and a replay delivers them.
 */

const schedule = [1 * minute, 5 * minute, 30 * minute, 2 * hour, 6 * hour];
const scheduleSpan = schedule.reduce((a, b) => a + b, 0);

let system: System;
let clock: ManualClock;
let nextOrder = 0;

beforeEach(async () => {
  clock = new ManualClock('2026-03-02T12:05:00.000Z');
  system = await startSystem({ logger: createMemoryLogger(), clock, schedule });
});
afterEach(async () => {
  await system.close();
});

function trackerDown(): void {
  system.tracker.behave('/net-a', { kind: 'reset' });
  system.tracker.behave('/net-b', { kind: 'reply', status: 503, body: 'Service Unavailable' });
}

function trackerUp(): void {
  system.tracker.behave('/net-a', { kind: 'tune', answer: 'success' });
  system.tracker.behave('/net-b', { kind: 'tune', answer: 'success' });
}

/** One Shopify and one Woo order, placed now; returns their order ids. */
async function placeOrders(): Promise<string[]> {
  nextOrder += 1;
  const shopify = buildOrderPayload({
    note_attributes: [captureAttribute({ id: `out-tx-${nextOrder}`, t: new Date(clock.now().getTime() - hour).toISOString() })],
    created_at: clock.now().toISOString(),
  });
  expect((await system.sendShopify(JSON.stringify(shopify))).status).toBe(200);
  const wooId = 7000 + nextOrder;
  const woo = wooOrderAt(clock.now(), { id: wooId, status: 'processing', meta_data: [{ id: 3, key: wooMetaKey, value: `out-woo-${nextOrder}` }] });
  expect((await system.sendWoo(wpJsonEncode(woo))).status).toBe(200);
  return [String(shopify['id']), String(wooId)];
}

/** Moves the clock in steps, running the worker at each, placing orders where asked. */
function live(durationMs: number, placeEvery?: number): Promise<string[]> {
  return liveFor(clock, durationMs, async () => void (await system.drain()), placeEvery === undefined ? undefined : { every: placeEvery, place: placeOrders });
}

function successesByJob(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of system.tracker.requests) {
    const order = r.query['adv_sub'] ?? r.query['order'];
    counts.set(`${r.path}|${order}`, (counts.get(`${r.path}|${order}`) ?? 0) + 1);
  }
  return counts;
}

async function allJobs(): Promise<PostbackJob[]> {
  return system.store.listJobs({ limit: 1_000 });
}

describe('tracker outage', () => {
  it('down for 4 hours while orders keep coming: nothing is lost, everything is delivered once it is back', { timeout: 30_000 }, async () => {
    trackerDown();
    const placed = await live(4 * hour, 30 * minute);
    expect(placed.length).toBe(2 * 9);
    let jobs = await allJobs();
    expect(jobs.length).toBe(placed.length * 2);
    // every job is still waiting, none given up: 4 hours is inside the schedule
    expect(jobs.every((j) => j.status === 'pending')).toBe(true);
    expect(jobs.every((j) => j.attempts >= 1 && j.attempts <= schedule.length)).toBe(true);
    const failedSends = system.tracker.requests.length;
    expect(failedSends).toBeGreaterThan(jobs.length);

    trackerUp();
    system.tracker.clear();
    await live(7 * hour);
    jobs = await allJobs();
    expect(jobs.map((j) => j.status).filter((s) => s !== 'succeeded')).toEqual([]);
    // exactly one (successful) postback per order · offer after the tracker came back
    const counts = successesByJob();
    expect(counts.size).toBe(jobs.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    for (const job of jobs) {
      const attempts = await system.store.listAttempts(job.id);
      expect(attempts.at(-1)?.outcome).toBe('success');
      expect(attempts.length).toBe(job.attempts);
    }
  });

  it('down for longer than the whole schedule: dead letters, no more sends, then replayed and delivered', { timeout: 30_000 }, async () => {
    trackerDown();
    const placed = await live(hour, 20 * minute);
    await live(scheduleSpan + 2 * hour);
    const jobs = await allJobs();
    expect(jobs.length).toBe(placed.length * 2);
    expect(jobs.every((j) => j.status === 'dead')).toBe(true);
    // the first attempt plus one per delay of the schedule, then no more
    expect(jobs.every((j) => j.attempts === schedule.length + 1)).toBe(true);
    const sendsWhenDead = system.tracker.requests.length;
    expect(sendsWhenDead).toBe(jobs.length * (schedule.length + 1));
    await live(24 * hour);
    expect(system.tracker.requests.length).toBe(sendsWhenDead);

    trackerUp();
    system.tracker.clear();
    expect(await system.worker.replay({ filter: { status: 'dead' } })).toBe(jobs.length);
    await system.drain();
    const after = await allJobs();
    expect(after.every((j) => j.status === 'succeeded')).toBe(true);
    const counts = successesByJob();
    expect(counts.size).toBe(jobs.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});
