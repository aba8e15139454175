import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../storage/sqlite-store.ts';
import type { Store } from '../storage/store.ts';
import { buildJobDraft } from '../testing/builders.ts';
import { startFakeTracker, type FakeTracker } from '../testing/fake-tracker.ts';

/**
 * Crash safety, for real: a `clickthread worker` process is SIGKILLed while a batch is in flight
 * (the tracker answers slowly), and a restarted worker delivers every job: the ones never claimed
 * at once, the ones leased to the dead worker once their lease runs out. Jobs in flight at the
 * kill are sent again, with exactly the same URL (same order ID), which is what lets the network
 * dedupe them.
 */

const bin = resolve(import.meta.dirname, '../../bin/clickthread.js');
const leaseMs = 1_500;

let dir: string;
let tracker: FakeTracker;
let store: Store;
const children: ChildProcess[] = [];

function startWorker(): ChildProcess {
  const child = spawn(
    process.execPath,
    [bin, 'worker', '--batch-size', '10', '--concurrency', '5', '--timeout-ms', '1000', '--lease-ms', String(leaseMs), '--poll-ms', '50'],
    {
      env: { PATH: process.env['PATH'] ?? '', CLICKTHREAD_DATA_DIR: dir, CLICKTHREAD_ALLOW_PRIVATE_TARGETS: '1', CLICKTHREAD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-crash-'));
  tracker = await startFakeTracker();
  store = createSqliteStore({ path: join(dir, 'clickthread.db') });
  await store.migrate();
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  }
  await store.close();
  await tracker.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('crash recovery', () => {
  it('a worker SIGKILLed mid-batch loses nothing: a restarted worker delivers every job', { timeout: 60_000 }, async () => {
    tracker.behave('/pb', { kind: 'slow', delayMs: 400, after: { kind: 'everflow' } });
    const count = 30;
    await store.enqueue({
      jobs: Array.from({ length: count }, (_, i) =>
        buildJobDraft({ orderId: `order-${i}`, transactionId: `tx-${i}`, offerId: 'ef', allowHttp: true, url: `${tracker.url}/pb?transaction_id=tx-${i}&order_id=order-${i}` }),
      ),
      now: new Date(),
    });

    const first = startWorker();
    // five sends are in flight at the tracker, none answered yet: kill the worker now
    await tracker.waitForRequests(5, 15_000);
    first.kill('SIGKILL');
    expect(await exited(first)).toEqual({ code: null, signal: 'SIGKILL' });
    const atCrash = await store.countJobs();
    expect(atCrash.in_flight).toBeGreaterThanOrEqual(5);
    expect(atCrash.succeeded).toBeLessThan(count);

    const second = startWorker();
    await until(async () => (await store.countJobs()).succeeded === count, 'every job to succeed');
    second.kill('SIGTERM');
    expect(await exited(second)).toEqual({ code: 0, signal: null });

    expect(await store.countJobs()).toEqual({ pending: 0, in_flight: 0, succeeded: count, failed: 0, dead: 0 });
    const byOrder = new Map<string, string[]>();
    for (const r of tracker.requests) byOrder.set(r.query['order_id'] ?? '', [...(byOrder.get(r.query['order_id'] ?? '') ?? []), r.target]);
    // nothing lost: every order reached the network
    expect(byOrder.size).toBe(count);
    // the sends cut short by the crash went out again, each time with the same URL and order ID
    const resent = [...byOrder.entries()].filter(([, targets]) => targets.length > 1);
    expect(resent.length).toBeGreaterThanOrEqual(5);
    for (const [order, targets] of resent) {
      expect(new Set(targets)).toEqual(new Set([`/pb?transaction_id=tx-${order.slice('order-'.length)}&order_id=${order}`]));
    }
    // a re-sent job counts the lost attempt; only the completed one is in its log
    const job = (await store.listJobs({ orderId: resent[0]?.[0] ?? '' }))[0];
    expect(job?.attempts).toBe(2);
    expect(await store.listAttempts(job?.id ?? '')).toHaveLength(1);
  });
});
