import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettledOutcome } from '../delivery/worker.ts';
import { ManualClock } from '../ports/clock.ts';
import { createMemoryLogger } from '../ports/logger.ts';
import { createSqliteStore } from '../storage/sqlite-store.ts';
import type { PostbackJob, Store } from '../storage/store.ts';
import { buildJobDraft } from '../testing/builders.ts';
import { createDurableWriteBack, type DurableWriteBackOptions, type WriteBackAnswer, type WriteBackCall, type WriteBackFn } from './durable-write-back.ts';

const start = new Date('2026-03-01T10:00:00.000Z');
let dir: string;
let store: Store;
let clock: ManualClock;
let logger: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-write-back-'));
  store = createSqliteStore({ path: join(dir, 'ct.db') });
  await store.migrate();
  clock = new ManualClock(start);
  logger = createMemoryLogger();
  await store.createMerchant({ id: 'm1', name: 'Merchant', now: start });
  await store.upsertStore({ id: 's1', merchantId: 'm1', platform: 'woocommerce', domain: 'shop.example', status: 'active', settings: {}, secrets: null, now: start });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function settled(overrides: Partial<SettledOutcome> = {}): SettledOutcome {
  return {
    status: 'succeeded',
    outcome: 'success',
    final: true,
    reason: 'success=true;',
    attempt: {
      jobId: '1',
      attempt: 1,
      startedAt: start,
      latencyMs: 5,
      requestUrl: 'https://tracker.example/p?transaction_id=abc',
      status: 200,
      responseHeaders: {},
      responseBody: 'success=true;',
      outcome: 'success',
      errorClass: null,
      detail: null,
    },
    ...overrides,
  };
}

/** A job as the worker leaves it: sent and settled (`status`), at the clock's now. */
async function storedJob(orderId = '1001', status: 'succeeded' | 'dead' = 'succeeded'): Promise<PostbackJob> {
  await store.enqueue({ jobs: [buildJobDraft({ orderId })], now: clock.now() });
  const [claimed] = await store.claimDueJobs({ workerId: 'w', now: clock.now(), limit: 1, leaseUntil: new Date(clock.now().getTime() + 60_000) });
  if (!claimed) throw new Error('no job');
  await store.settleJob({ jobId: claimed.id, workerId: 'w', attempt: settled().attempt, next: { status }, outcome: status, now: clock.now() });
  return claimed;
}

/** A platform whose answers are scripted, one per call, recording what it was asked. */
function scripted(...answers: Array<WriteBackAnswer | Error>) {
  const calls: WriteBackCall[] = [];
  const write = async (call: WriteBackCall): Promise<WriteBackAnswer> => {
    calls.push(call);
    const next = answers.shift() ?? { ok: true };
    if (next instanceof Error) throw next;
    return next;
  };
  return { calls, write };
}

function durable(write: WriteBackFn, overrides: Partial<DurableWriteBackOptions> = {}) {
  return createDurableWriteBack({ store, clock, logger, writers: { woocommerce: write }, schedule: [60_000, 300_000], pollIntervalMs: 10, ...overrides });
}

const unavailable = { ok: false, reason: 'HTTP 503 from the store', retry: true } as const;

describe('durable write-back', () => {
  it('writes a final postback once and keeps nothing when the store answers', async () => {
    const job = await storedJob();
    const platform = scripted({ ok: true });
    await durable(platform.write).onSettled(job, settled());
    expect(platform.calls).toEqual([
      { job, connection: await store.getStore('s1'), outcome: { status: 'succeeded', outcome: 'success', reason: 'success=true;' }, step: undefined, attempt: 1 },
    ]);
    expect(await store.listWriteBacks({})).toEqual([]);
  });

  it.each([
    ['a retry still to come', settled({ status: 'pending', outcome: 'retry', final: false })],
    ['an in-flight status', settled({ status: 'in_flight' })],
  ])('does not write %s', async (_name, outcome) => {
    const platform = scripted();
    await durable(platform.write).onSettled(await storedJob(), outcome);
    expect(platform.calls).toEqual([]);
  });

  it('tries a refused write-back again on the schedule, from the step that failed, until it goes through', async () => {
    const job = await storedJob();
    const platform = scripted({ ...unavailable, step: 'meta' }, { ok: false, reason: 'timeout', retry: true }, { ok: true });
    const writeBack = durable(platform.write);
    await writeBack.onSettled(job, settled({ status: 'dead', outcome: 'dead', reason: 'HTTP 500 (gave up after 7 attempts)' }));
    expect(await store.listWriteBacks({})).toMatchObject([{ jobId: job.id, status: 'pending', step: 'meta', attempts: 1, dueAt: new Date(start.getTime() + 60_000), lastError: 'HTTP 503 from the store' }]);

    clock.advance(59_999);
    expect(await writeBack.runOnce()).toEqual({ tried: 0, written: 0, deferred: 0, dead: 0 });
    clock.advance(1);
    expect(await writeBack.runOnce()).toEqual({ tried: 1, written: 0, deferred: 1, dead: 0 });
    // the step the last try resumed at stays when the next failure names none
    expect(await store.listWriteBacks({})).toMatchObject([{ step: 'meta', attempts: 2, lastError: 'timeout' }]);
    clock.advance(300_000);
    expect(await writeBack.runOnce()).toEqual({ tried: 1, written: 1, deferred: 0, dead: 0 });
    expect(platform.calls.map((c) => [c.attempt, c.step, c.outcome.status, c.job.id])).toEqual([
      [1, undefined, 'dead', job.id],
      [2, 'meta', 'dead', job.id],
      [3, 'meta', 'dead', job.id],
    ]);
    expect(await store.listWriteBacks({})).toEqual([]);
  });

  it('gives up after the schedule and keeps the task dead with the reason', async () => {
    const job = await storedJob();
    const platform = scripted(unavailable, unavailable, unavailable, { ok: true });
    const writeBack = durable(platform.write);
    await writeBack.onSettled(job, settled());
    clock.advance(60_000);
    await writeBack.runOnce();
    clock.advance(300_000);
    expect(await writeBack.runOnce()).toEqual({ tried: 1, written: 0, deferred: 0, dead: 1 });
    clock.advance(10 ** 9);
    expect(await writeBack.runOnce()).toEqual({ tried: 0, written: 0, deferred: 0, dead: 0 });
    expect(platform.calls).toHaveLength(3);
    expect(await store.listWriteBacks({ status: 'dead' })).toMatchObject([{ jobId: job.id, attempts: 3, lastError: 'HTTP 503 from the store (gave up after 3 tries)' }]);
    expect(logger.entries.some((e) => e.level === 'warn' && e.msg === 'write-back given up')).toBe(true);
  });

  it('gives up at once on a failure that cannot pass, keeping why', async () => {
    const job = await storedJob();
    const platform = scripted({ ok: false, reason: 'order 1001 not found (404)', retry: false });
    const writeBack = durable(platform.write);
    await writeBack.onSettled(job, settled());
    clock.advance(10 ** 9);
    await writeBack.runOnce();
    expect(platform.calls).toHaveLength(1);
    expect(await store.listWriteBacks({})).toMatchObject([{ jobId: job.id, status: 'dead', lastError: 'order 1001 not found (404)' }]);
  });

  it('keeps a write-back whose code threw, logs the error as an object, and tries it again', async () => {
    const job = await storedJob();
    const platform = scripted(new TypeError('boom'), { ok: true });
    const writeBack = durable(platform.write);
    await writeBack.onSettled(job, settled());
    const logged = logger.entries.find((e) => e.msg === 'write-back threw');
    expect((logged?.obj as { err?: unknown } | undefined)?.err).toBeInstanceOf(TypeError);
    clock.advance(60_000);
    expect(await writeBack.runOnce()).toMatchObject({ written: 1 });
  });

  it('drops the task of a job deleted meanwhile without calling the platform', async () => {
    const job = await storedJob();
    const platform = scripted(unavailable);
    const writeBack = durable(platform.write);
    await writeBack.onSettled(job, settled());
    await store.deleteStore(job.storeId);
    clock.advance(60_000);
    expect(await writeBack.runOnce()).toEqual({ tried: 0, written: 0, deferred: 0, dead: 0 });
    expect(platform.calls).toHaveLength(1);
  });

  it("hands a job of a platform this process does not serve to one that does", async () => {
    const job = await storedJob();
    const shopifyOnly = scripted();
    await createDurableWriteBack({ store, clock, logger, writers: { shopify: shopifyOnly.write } }).onSettled(job, settled());
    expect(shopifyOnly.calls).toEqual([]);
    expect(await store.listWriteBacks({})).toMatchObject([{ jobId: job.id, platform: 'woocommerce', status: 'pending', attempts: 0, dueAt: start }]);
    // the Shopify process never claims it; the Woo one does, at once
    expect(await createDurableWriteBack({ store, clock, logger, writers: { shopify: shopifyOnly.write } }).runOnce()).toMatchObject({ tried: 0 });
    const woo = scripted({ ok: true });
    expect(await durable(woo.write).runOnce()).toEqual({ tried: 1, written: 1, deferred: 0, dead: 0 });
    expect(woo.calls).toMatchObject([{ attempt: 1, step: undefined, job: { id: job.id } }]);
  });

  it('writes nothing for a job whose store does not exist (a test-fire)', async () => {
    await store.enqueue({ jobs: [buildJobDraft({ orderId: 'sample', storeId: 'test-fire' })], now: clock.now() });
    const [job] = await store.listJobs({ orderId: 'sample' });
    const platform = scripted();
    await durable(platform.write).onSettled(job ?? (await storedJob()), settled());
    expect(platform.calls).toEqual([]);
    expect(await store.listWriteBacks({})).toEqual([]);
  });

  it('drops the task of a job replayed since: the replay writes back what is true then, the old outcome never follows', async () => {
    const job = await storedJob('1001', 'dead');
    const platform = scripted(unavailable);
    const writeBack = durable(platform.write);
    await writeBack.onSettled(job, settled({ status: 'dead', outcome: 'dead', reason: 'HTTP 500' }));
    clock.advance(1_000);
    expect(await store.replayJobs({ ids: [job.id], now: clock.now() })).toBe(1);
    clock.advance(60_000);
    expect(await writeBack.runOnce()).toEqual({ tried: 0, written: 0, deferred: 0, dead: 0 });
    expect(platform.calls).toHaveLength(1);
    expect(await store.listWriteBacks({})).toEqual([]);
  });

  it('works through more due tasks than one claim takes', async () => {
    const platform = scripted(...Array.from({ length: 5 }, () => unavailable));
    const writeBack = durable(platform.write, { batchSize: 2 });
    for (let i = 0; i < 5; i += 1) await writeBack.onSettled(await storedJob(String(2000 + i)), settled());
    clock.advance(60_000);
    expect(await writeBack.runOnce()).toEqual({ tried: 5, written: 5, deferred: 0, dead: 0 });
  });

  it('runs on its own once started, and stops', async () => {
    const job = await storedJob();
    const platform = scripted(unavailable);
    const writeBack = durable(platform.write);
    await writeBack.onSettled(job, settled());
    clock.advance(60_000);
    writeBack.start();
    for (let i = 0; i < 200 && (await store.listWriteBacks({})).length > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    await writeBack.stop();
    expect(await store.listWriteBacks({})).toEqual([]);
    expect(platform.calls).toHaveLength(2);
  });
});
