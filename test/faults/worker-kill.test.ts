import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryLogger, systemClock } from '@clickthread/core';
import { wpJsonEncode, wooOrderAt } from '@clickthread/woocommerce-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrderPayload, captureAttribute } from '../shopify/order-payload-builder.ts';
import { startSystem, wooMetaKey, type System } from './support/system.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';

/**
 * kill -9, repeatedly, during a burst of orders: the real apps take orders over HTTP into a SQLite
 * file while delivery workers run in child processes on that same file and are SIGKILLed right
 * after a postback left them (so something is always in flight), again and again, until the burst
 * is over; a last worker drains the rest. No postback is lost; a job is sent again only when it was
 * in flight at a kill (a claim that never got its result recorded), and every send of a job is the
 * same request (same order ID, same transaction ID).
 */

const leaseMs = 1_500;
const batchSize = 10;
const ordersPerPlatform = 40;

let dir: string;
let system: System;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clickthread-kill-'));
  system = await startSystem({ logger: createMemoryLogger(), clock: systemClock, sqlitePath: join(dir, 'clickthread.db') });
  // slow enough that a kill right after a request arrives always finds sends in flight
  system.tracker.behave('/net-a', { kind: 'slow', delayMs: 60, after: { kind: 'tune', answer: 'success' } });
  system.tracker.behave('/net-b', { kind: 'slow', delayMs: 40, after: { kind: 'tune', answer: 'success' } });
});
afterAll(async () => {
  for (const worker of workers) await worker.kill('SIGKILL');
  await system.close();
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(n: number): Promise<WorkerProcess> {
  return startWorkerProcess({
    sqlitePath: join(dir, 'clickthread.db'),
    workerId: `kill-worker-${n}`,
    leaseMs,
    timeoutMs: 1_000,
    batchSize,
    concurrency: 4,
    pollIntervalMs: 50,
  }).then((worker) => {
    workers.push(worker);
    return worker;
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Places the burst: Shopify and Woo orders, a few at a time. */
async function burst(): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < ordersPerPlatform; i += 1) {
    const shopify = buildOrderPayload({
      note_attributes: [captureAttribute({ id: `kill-tx-${i}`, t: new Date(Date.now() - 3_600_000).toISOString() })],
      created_at: new Date().toISOString(),
    });
    const woo = wooOrderAt(new Date(), { id: 8000 + i, status: 'processing', meta_data: [{ id: 5, key: wooMetaKey, value: `kill-woo-${i}` }] });
    const [a, b] = await Promise.all([system.sendShopify(JSON.stringify(shopify)), system.sendWoo(wpJsonEncode(woo))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    ids.push(String(shopify['id']), String(8000 + i));
    await sleep(40);
  }
  return ids;
}

describe('worker killed with SIGKILL during a burst of orders', () => {
  it('loses no postback, re-sends only jobs in flight at a kill, each time with the same order ID', { timeout: 60_000 }, async () => {
    const placing = burst();
    let kills = 0;
    // an object: the loop below re-reads it after each await
    const progress = { burstDone: false };
    void placing.then(() => {
      progress.burstDone = true;
    });
    // kill -9 a worker right after a postback left it, over and over, until the burst is over (and at least 5 times)
    while (!progress.burstDone || kills < 5) {
      const worker = await startWorker(kills);
      const seen = system.tracker.requests.length;
      const wantMore = 1 + (kills % 7);
      try {
        await waitFor(() => system.tracker.requests.length >= seen + wantMore, 'a postback from the worker', 10_000);
      } catch (error) {
        throw new Error(`${String(error)}\n${worker.stderr()}`, { cause: error });
      }
      const { signal } = await worker.kill('SIGKILL');
      expect(signal).toBe('SIGKILL');
      kills += 1;
    }
    const orderIds = await placing;

    // a last worker, left alone, drains everything (jobs leased to dead workers come back after the lease)
    const last = await startWorker(kills);
    const total = orderIds.length * 2;
    await waitFor(async () => (await system.store.countJobs()).succeeded === total, `${total} jobs succeeded`, 30_000);
    expect((await last.kill('SIGTERM')).code).toBe(0);

    const jobs = await system.store.listJobs({ limit: 1_000 });
    expect(jobs.length).toBe(total);
    let resent = 0;
    let crashedClaims = 0;
    for (const job of jobs) {
      const path = `/${job.offerId}`;
      const sends = system.tracker.requests.filter((r) => r.path === path && (r.query['adv_sub'] ?? r.query['order']) === job.orderId);
      // never lost: at least one send; every send the same request, carrying the job's order and transaction IDs
      expect(sends.length).toBeGreaterThanOrEqual(1);
      expect(new Set(sends.map((s) => s.target)).size).toBe(1);
      expect(sends[0]?.target).toContain(encodeURIComponent(job.transactionId));
      const attempts = await system.store.listAttempts(job.id);
      expect(attempts.filter((a) => a.outcome === 'success').length).toBe(1);
      // a claim whose result was never recorded is a send cut short by a kill: only those may repeat
      const unrecordedClaims = job.attempts - attempts.length;
      expect(sends.length - 1).toBeLessThanOrEqual(unrecordedClaims);
      resent += sends.length - 1;
      crashedClaims += unrecordedClaims;
    }
    expect(kills).toBeGreaterThanOrEqual(5);
    // the kills did land mid-flight (otherwise this test proved nothing), and each cost at most what one
    // worker holds: the batch it is sending and the next one it claims before the first is done
    expect(crashedClaims).toBeGreaterThan(0);
    expect(crashedClaims).toBeLessThanOrEqual(kills * 2 * batchSize);
    expect(resent).toBeLessThanOrEqual(crashedClaims);
  });
});
