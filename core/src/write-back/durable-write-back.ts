import type { SettledOutcome } from '../delivery/worker.ts';
import type { Clock } from '../ports/clock.ts';
import type { Platform } from '../orders/order.ts';
import type { Logger } from '../ports/logger.ts';
import { isFinalJobStatus, type PostbackJob, type Store, type StoreConnection, type WriteBackOutcome } from '../storage/store.ts';

/**
 * Write-back shows a settled postback on its order in the store's admin (a WooCommerce order note,
 * Shopify order tags). The store may be down, throttling or mid-deploy when a postback settles;
 * the merchant should still see it there once the store answers again. So a write-back the store
 * refused for a passing reason is kept in the Store (one task per job, deleted with it) and tried
 * again on a schedule; one that can never succeed (the order was deleted, the app was uninstalled)
 * is given up at once and kept as dead with its reason. The platform's code does the writing, in
 * named steps: a retry resumes at the step that failed, so what went through is not written twice.
 *
 * Each process writes back to the platforms it serves (`writers`) and claims only their tasks; a
 * worker that settles a job of a platform it does not serve (two apps on one PostgreSQL database)
 * hands the write-back over as a task due now, for a process that does.
 */

/** One try of a platform's write-back. */
export interface WriteBackCall {
  readonly job: PostbackJob;
  /** The job's store, read once for this try (the writer of its platform is the one called). */
  readonly connection: StoreConnection;
  readonly outcome: WriteBackOutcome;
  /** The step to start at: undefined on the first try, else the step the last try failed at. */
  readonly step: string | undefined;
  /** 1 for the try made when the job settled. */
  readonly attempt: number;
}

export type WriteBackAnswer =
  /** Written, or nothing to write for this job (not this platform's, a test-fire, write-back off). */
  | { readonly ok: true }
  /** `retry`: the reason may pass (network, 5xx, 429, a timeout); `step`: where to resume. */
  | { readonly ok: false; readonly reason: string; readonly retry: boolean; readonly step?: string };

export type WriteBackFn = (call: WriteBackCall) => Promise<WriteBackAnswer>;

/** 1 min, 5 min, 30 min, 2 h, 6 h: six tries over about 8.6 hours. */
export const defaultWriteBackSchedule: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000];

export interface DurableWriteBackOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The write-back of each platform this process serves. */
  readonly writers: Readonly<Partial<Record<Platform, WriteBackFn>>>;
  /** Delays (ms) after the 1st, 2nd, … failed try; after the last one the task is dead. */
  readonly schedule?: readonly number[];
  /** Tasks taken per claim (default 20). */
  readonly batchSize?: number;
  /** How long a claimed task is out of other processes' reach (ms, default 5 minutes). */
  readonly leaseMs?: number;
  /** How often start() looks for due tasks (ms, default 30 s). */
  readonly pollIntervalMs?: number;
}

export interface WriteBackSummary {
  readonly tried: number;
  readonly written: number;
  readonly deferred: number;
  readonly dead: number;
}

export interface DurableWriteBack {
  /** The delivery worker's onSettled hook: writes back a final postback, keeps it for later if it could not. Never throws. */
  onSettled(job: PostbackJob, outcome: SettledOutcome): Promise<void>;
  /** Tries every write-back that is due now, once. */
  runOnce(): Promise<WriteBackSummary>;
  /** Runs runOnce every poll interval until stop(). */
  start(): void;
  stop(): Promise<void>;
}

function summaryOf(settled: SettledOutcome): WriteBackOutcome | undefined {
  const { status } = settled;
  return settled.final && isFinalJobStatus(status) ? { status, outcome: settled.outcome, reason: settled.reason } : undefined;
}

export function createDurableWriteBack(options: DurableWriteBackOptions): DurableWriteBack {
  const { store, clock, writers } = options;
  const platforms = (Object.keys(writers) as Platform[]).filter((p) => writers[p] !== undefined);
  const logger = options.logger.child({ component: 'write-back' });
  const schedule = options.schedule ?? defaultWriteBackSchedule;
  const batchSize = options.batchSize ?? 20;
  const leaseMs = options.leaseMs ?? 300_000;
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;

  /** One try; a write that throws has a bug, and is kept to be tried again like a passing failure. */
  async function attempt(write: WriteBackFn, call: WriteBackCall): Promise<WriteBackAnswer> {
    try {
      return await write(call);
    } catch (error) {
      logger.error({ err: error, jobId: call.job.id }, 'write-back threw');
      return { ok: false, reason: `write-back failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`, retry: true, ...(call.step === undefined ? {} : { step: call.step }) };
    }
  }

  /** After a failed try number `attempt`: the next try is scheduled, or the task is dead. */
  async function afterFailure(platform: Platform, call: WriteBackCall, answer: Extract<WriteBackAnswer, { ok: false }>): Promise<'deferred' | 'dead'> {
    const context = { jobId: call.job.id, storeId: call.job.storeId, orderId: call.job.orderId, attempt: call.attempt, reason: answer.reason };
    const delay = answer.retry ? schedule[call.attempt - 1] : undefined;
    const now = clock.now();
    const kept = { jobId: call.job.id, storeId: call.job.storeId, platform, step: answer.step ?? call.step ?? null, outcome: call.outcome, attempts: call.attempt };
    if (delay === undefined) {
      const why = answer.retry ? `${answer.reason} (gave up after ${call.attempt} tries)` : answer.reason;
      // kept (the first try has no task yet), dead, with every try counted: the merchant sees why the order shows nothing
      await store.deferWriteBack({ ...kept, dueAt: now, error: why, now });
      await store.abandonWriteBack({ jobId: call.job.id, error: why, now });
      logger.warn(context, 'write-back given up');
      return 'dead';
    }
    await store.deferWriteBack({ ...kept, dueAt: new Date(now.getTime() + delay), error: answer.reason, now });
    logger.info({ ...context, retryInMs: delay }, 'write-back deferred');
    return 'deferred';
  }

  async function runOnce(): Promise<WriteBackSummary> {
    const counts = { tried: 0, written: 0, deferred: 0, dead: 0 };
    for (;;) {
      const now = clock.now();
      const tasks = await store.claimDueWriteBacks({ platforms, now, limit: batchSize, leaseUntil: new Date(now.getTime() + leaseMs) });
      for (const task of tasks) {
        const job = await store.getJob(task.jobId);
        const connection = job && (await store.getStore(job.storeId));
        // gone with its store; or replayed since (pending again, or settled anew after the task was
        // kept): that settle writes back what is true now, and this older outcome must not follow it
        if (!job || !connection || !isFinalJobStatus(job.status) || job.updatedAt.getTime() > task.updatedAt.getTime()) {
          await store.finishWriteBack(task.jobId);
          continue;
        }
        const write = writers[task.platform];
        if (!write) continue;
        counts.tried += 1;
        const call: WriteBackCall = { job, connection, outcome: task.outcome, step: task.step ?? undefined, attempt: task.attempts + 1 };
        const answer = await attempt(write, call);
        if (answer.ok) {
          await store.finishWriteBack(task.jobId);
          counts.written += 1;
          logger.info({ jobId: job.id, orderId: job.orderId, attempt: call.attempt }, 'write-back done on a later try');
        } else {
          counts[await afterFailure(task.platform, call, answer)] += 1;
        }
      }
      if (tasks.length < batchSize) return counts;
    }
  }

  const state: { stopping: boolean; running: Promise<void> | undefined; timer: NodeJS.Timeout | undefined; wake: (() => void) | undefined } = {
    stopping: false,
    running: undefined,
    timer: undefined,
    wake: undefined,
  };

  async function loop(): Promise<void> {
    while (!state.stopping) {
      try {
        await runOnce();
      } catch (error) {
        logger.error({ err: error }, 'write-back retries failed; trying again after the poll interval');
      }
      if (state.stopping) break;
      await new Promise<void>((resolve) => {
        state.wake = resolve;
        state.timer = setTimeout(resolve, pollIntervalMs);
      });
    }
  }

  return {
    async onSettled(job, settled) {
      const outcome = summaryOf(settled);
      if (!outcome) return;
      try {
        // a test-fire's made-up store, or a store deleted meanwhile: no order to write to
        const connection = await store.getStore(job.storeId);
        if (!connection) return;
        const write = writers[connection.platform];
        if (!write) {
          const now = clock.now();
          const waiting = `waiting for a process that writes back to ${connection.platform}`;
          await store.deferWriteBack({ jobId: job.id, storeId: job.storeId, platform: connection.platform, step: null, outcome, attempts: 0, dueAt: now, error: waiting, now });
          return;
        }
        const call: WriteBackCall = { job, connection, outcome, step: undefined, attempt: 1 };
        const answer = await attempt(write, call);
        if (!answer.ok) await afterFailure(connection.platform, call, answer);
      } catch (error) {
        // the Store failed to keep the task: this write-back is lost, and says so
        logger.error({ err: error, jobId: job.id }, 'write-back could not be kept for a later try');
      }
    },
    runOnce,
    start() {
      if (state.running) return;
      state.stopping = false;
      state.running = loop().finally(() => {
        state.running = undefined;
      });
    },
    async stop() {
      state.stopping = true;
      if (state.timer !== undefined) clearTimeout(state.timer);
      state.wake?.();
      await state.running;
    },
  };
}
