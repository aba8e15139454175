import { describe, expect, it } from 'vitest';
import { ConflictError } from '../shared/errors.ts';
import type { EnqueueResult, PostbackJob, Store } from '../storage/store.ts';
import { buildJobDraft } from '../testing/builders.ts';
import { enqueueAgainstHistory } from './enqueue-against-history.ts';

const t0 = new Date('2026-11-21T10:00:00.000Z');
const stored: EnqueueResult = { inserted: 1, duplicates: 0, webhookIsNew: true };
const stale: EnqueueResult = { inserted: 0, duplicates: 0, webhookIsNew: true, stale: true };

function storedJob(overrides: Partial<PostbackJob> = {}): PostbackJob {
  return {
    ...buildJobDraft(),
    id: '1',
    status: 'succeeded',
    attempts: 1,
    scheduleAttempts: 1,
    nextAttemptAt: t0,
    createdAt: t0,
    updatedAt: t0,
    lastOutcome: 'success',
    lastError: null,
    lockedBy: null,
    leaseUntil: null,
    ...overrides,
  };
}

/** listJobs answers `jobs`; enqueue answers `answers` in turn and keeps what it was given. */
function stubStore(jobs: PostbackJob[], answers: EnqueueResult[]) {
  const calls = { listJobs: 0, enqueued: [] as Array<Parameters<Store['enqueue']>[0]> };
  const store: Pick<Store, 'listJobs' | 'enqueue'> = {
    listJobs: async () => {
      calls.listJobs += 1;
      return jobs;
    },
    enqueue: async (input) => {
      calls.enqueued.push(input);
      return answers.shift() ?? stored;
    },
  };
  return { store, calls };
}

const planOnce = (history: readonly unknown[]) => ({ enqueue: { jobs: [buildJobDraft({ event: 'refund', eventKey: 'refund:1' })], now: t0 }, value: history.length });

describe('enqueueAgainstHistory', () => {
  it('stores what was planned against the jobs it was given, naming them as the known history', async () => {
    const sale = storedJob();
    const { store, calls } = stubStore([], []);
    const out = await enqueueAgainstHistory(store, { storeId: 's1', orderId: '1001', jobs: [sale], plan: planOnce });
    expect(out).toMatchObject({ result: stored, value: 1, history: [{ idempotencyKey: sale.idempotencyKey, event: 'sale' }] });
    expect(calls.listJobs).toBe(0);
    expect(calls.enqueued[0]?.plannedAgainst).toEqual({ storeId: 's1', orderId: '1001', knownKeys: [sale.idempotencyKey] });
  });

  it('plans again against the order as it is now when the store says the plan is stale', async () => {
    const sale = storedJob();
    const cancel = storedJob({ id: '2', event: 'cancel', eventKey: 'cancel', idempotencyKey: 'cancel-key', status: 'pending' });
    const { store, calls } = stubStore([sale, cancel], [stale]);
    const out = await enqueueAgainstHistory(store, { storeId: 's1', orderId: '1001', jobs: [sale], plan: planOnce });
    expect(out.value).toBe(2);
    expect(calls.listJobs).toBe(1);
    expect(calls.enqueued.map((e) => e.plannedAgainst?.knownKeys)).toEqual([[sale.idempotencyKey], [sale.idempotencyKey, 'cancel-key']]);
  });

  it('refuses the delivery with a ConflictError when the order keeps changing under it', async () => {
    const { store, calls } = stubStore([storedJob()], [stale, stale, stale]);
    await expect(enqueueAgainstHistory(store, { storeId: 's1', orderId: '1001', plan: planOnce, maxPlans: 3 })).rejects.toBeInstanceOf(ConflictError);
    expect(calls.enqueued).toHaveLength(3);
  });
});
