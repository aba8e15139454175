import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { answerRulesOf } from '../offers/offer-schema.ts';
import type { AnswerRules } from '../offers/network-presets.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { ConfigError } from '../shared/errors.ts';
import type { AttemptRecord, JobFilter, JobStatus, PostbackJob, SettleInput, SettleResult, Store } from '../storage/store.ts';
import { deliverPostback, type DeliveryOutcome } from './deliver-postback.ts';
import { defaultRetrySchedule, nextRetryDelay, scheduleProblems } from './retry-schedule.ts';
import type { SsrfPolicy } from './ssrf-guard.ts';
import type { Transport } from './transport.ts';
import { createUndiciTransport } from './undici-transport.ts';

/**
 * The delivery worker: claims due jobs from the outbox, sends them with bounded concurrency,
 * classifies each answer with the offer's rules, records every attempt and moves the job on
 * (done, refused, retry later on the schedule, or dead).
 *
 * Answer rules are read from the offer at send time (one lookup per offer per batch), not
 * snapshotted into the job: they describe how the network answers, not what was promised, so a
 * merchant who fixes a wrong rule (say, the duplicate pattern) gets it applied to jobs still
 * retrying and to dead letters they replay. The URL itself was rendered at enqueue time and never
 * changes. A job whose offer is gone is still sent, judged by HTTP status alone.
 *
 * Crash safety: a claimed job is leased until `leaseMs` from the claim; a worker that dies leaves
 * its jobs in flight, and once the lease runs out any worker claims them again. A job in flight at
 * the crash may therefore be sent twice, with the same URL and order ID, which networks dedupe.
 *
 * Throughput: the next batch is claimed while the current one is still being sent, and results
 * are written in group commits (a finished send waits up to settleLingerMs for others, and lanes
 * go on sending meanwhile), so a busy worker does one transaction per few dozen postbacks.
 */

export interface SettledOutcome {
  /** The job's status after this attempt. */
  readonly status: JobStatus;
  /** What happened: the attempt's outcome, or 'dead' when it was the last retry. */
  readonly outcome: DeliveryOutcome | 'dead';
  /** True when the job will not be tried again (unless replayed). */
  readonly final: boolean;
  readonly reason: string;
  readonly attempt: AttemptRecord;
  readonly nextAttemptAt?: Date;
}

export interface WorkerOptions {
  readonly store: Store;
  /** Defaults to the undici transport with `ssrf`. */
  readonly transport?: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Delays between attempts (ms); after the last one a job is dead. */
  readonly schedule?: readonly number[];
  /** Spread of each delay, as a fraction both ways (default 0.1). */
  readonly jitter?: number;
  /** [0, 1) source for the jitter (tests pin it). */
  readonly random?: () => number;
  /** Jobs claimed at once (default 100). */
  readonly batchSize?: number;
  /** Sends in flight at once (default 16). */
  readonly concurrency?: number;
  /** How long a claim lasts; must outlast a whole batch (default: twice the worst case, at least 1 min). */
  readonly leaseMs?: number;
  readonly workerId?: string;
  readonly ssrf?: SsrfPolicy;
  /** Per send (default 10 s). */
  readonly timeoutMs?: number;
  /** Pause between polls when nothing was due (default 1 s). */
  readonly pollIntervalMs?: number;
  /** How long a finished send may wait for others to share its commit (default 20 ms). */
  readonly settleLingerMs?: number;
  /**
   * Called after every attempt is stored (retries included; see `final`), e.g. for a Woo order
   * note or a Shopify tag. Failures are logged and never affect the job.
   */
  readonly onSettled?: (job: PostbackJob, outcome: SettledOutcome) => Promise<void> | void;
}

export interface BatchSummary {
  readonly claimed: number;
  readonly succeeded: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly blocked: number;
  readonly retried: number;
  readonly dead: number;
  /** Attempts whose job had been claimed by another worker meanwhile (lease expired). */
  readonly lostLease: number;
}

export interface Worker {
  readonly id: string;
  /** Claims one batch, sends it, stores the results; resolves when all of it (and the hooks) is done. */
  runOnce(): Promise<BatchSummary>;
  /** Sends until nothing is due (claiming batch after batch, overlapped with sending); what start() runs on each poll. */
  drain(): Promise<BatchSummary>;
  /** Drains, then polls every pollIntervalMs (or on wake()), until stop(). */
  start(): void;
  /** Finishes the sends in flight and stores their results; claimed jobs not yet sent are released. */
  stop(): Promise<void>;
  /** Ends the pause between polls now (after an enqueue, so the job goes out at once). */
  wake(): void;
  /** Puts dead (or failed) jobs back in the outbox, due now (see Store.replayJobs). */
  replay(input: { ids?: readonly string[]; filter?: JobFilter }): Promise<number>;
}

const emptySummary: BatchSummary = { claimed: 0, succeeded: 0, duplicates: 0, rejected: 0, blocked: 0, retried: 0, dead: 0, lostLease: 0 };

function workerOptionProblems(o: { batchSize: number; concurrency: number; timeoutMs: number; leaseMs: number; jitter: number; schedule: readonly number[] }): string[] {
  const problems = scheduleProblems(o.schedule);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) problems.push(`batchSize must be a positive whole number (got ${o.batchSize})`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) problems.push(`concurrency must be a positive whole number (got ${o.concurrency})`);
  if (!(o.timeoutMs > 0)) problems.push(`timeoutMs must be positive (got ${o.timeoutMs})`);
  if (!(o.leaseMs > o.timeoutMs)) problems.push(`leaseMs (${o.leaseMs}) must be longer than timeoutMs (${o.timeoutMs})`);
  if (!(o.jitter >= 0 && o.jitter <= 1)) problems.push(`jitter must be between 0 and 1 (got ${o.jitter})`);
  return problems;
}

const ruleKey = (job: PostbackJob): string => JSON.stringify([job.merchantId, job.offerId]);

/** The offer schema's optional fields may hold undefined; AnswerRules leaves them out. */
function definedRules(rules: { readonly successBody?: string | undefined; readonly duplicateBody?: string | undefined; readonly rejectBody?: string | undefined }): AnswerRules {
  return {
    ...(rules.successBody === undefined ? {} : { successBody: rules.successBody }),
    ...(rules.duplicateBody === undefined ? {} : { duplicateBody: rules.duplicateBody }),
    ...(rules.rejectBody === undefined ? {} : { rejectBody: rules.rejectBody }),
  };
}

export function createWorker(options: WorkerOptions): Worker {
  const { store, clock } = options;
  const schedule = options.schedule ?? defaultRetrySchedule;
  const jitter = options.jitter ?? 0.1;
  const random = options.random ?? Math.random;
  const batchSize = options.batchSize ?? 100;
  const concurrency = options.concurrency ?? 16;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const leaseMs = options.leaseMs ?? Math.max(60_000, 2 * timeoutMs * Math.ceil(batchSize / Math.max(concurrency, 1)));
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const settleLingerMs = options.settleLingerMs ?? 20;
  const maxSettleGroup = Math.max(batchSize, 1);
  const lowWater = Math.max(concurrency, Math.floor(batchSize / 2));
  const ssrf = options.ssrf ?? { allowPrivate: false };
  const problems = workerOptionProblems({ batchSize, concurrency, timeoutMs, leaseMs, jitter, schedule });
  if (problems.length > 0) throw new ConfigError(problems);

  const id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const logger = options.logger.child({ component: 'delivery-worker', workerId: id });
  const ownsTransport = options.transport === undefined;
  const transport = options.transport ?? createUndiciTransport({ ssrf });

  // group commit: finished sends wait here (at most settleLingerMs, or until a group is full) and
  // are stored together; sends go on meanwhile, so a commit's fsync never holds up the network
  type Pending = { input: SettleInput; resolve: (result: SettleResult) => void; reject: (error: unknown) => void };
  let queue: Pending[] = [];
  let flushing: Promise<void> | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;

  async function flushLoop(): Promise<void> {
    while (queue.length > 0) {
      const group = queue.splice(0, maxSettleGroup);
      try {
        const results = await store.settleJobs(group.map((p) => p.input));
        group.forEach((p, i) => p.resolve(results[i] ?? { applied: false }));
      } catch (error) {
        for (const p of group) p.reject(error);
      }
    }
  }

  function flushNow(): void {
    if (lingerTimer !== undefined) clearTimeout(lingerTimer);
    lingerTimer = undefined;
    flushing ??= flushLoop().finally(() => {
      flushing = undefined;
      if (queue.length > 0) flushNow();
    });
  }

  function settle(input: SettleInput): Promise<SettleResult> {
    const settled = new Promise<SettleResult>((resolve, reject) => queue.push({ input, resolve, reject }));
    if (queue.length >= maxSettleGroup) flushNow();
    else lingerTimer ??= setTimeout(flushNow, settleLingerMs);
    return settled;
  }

  async function rulesFor(jobs: readonly PostbackJob[]): Promise<Map<string, AnswerRules>> {
    const rules = new Map<string, AnswerRules>();
    for (const job of jobs) {
      const key = ruleKey(job);
      if (rules.has(key)) continue;
      try {
        const offer = await store.getOffer(job.merchantId, job.offerId);
        if (!offer) logger.warn({ merchantId: job.merchantId, offerId: job.offerId }, 'offer not found: its jobs are judged by HTTP status alone');
        rules.set(key, offer ? definedRules(answerRulesOf(offer)) : {});
      } catch (error) {
        logger.error({ err: error, merchantId: job.merchantId, offerId: job.offerId }, 'offer could not be read: its jobs are judged by HTTP status alone');
        rules.set(key, {});
      }
    }
    return rules;
  }

  async function runHook(job: PostbackJob, outcome: SettledOutcome): Promise<void> {
    if (!options.onSettled) return;
    try {
      await options.onSettled(job, outcome);
    } catch (error) {
      logger.error({ err: error, jobId: job.id }, 'onSettled hook failed');
    }
  }

  /** Sends one job and queues its result; `stored` gets a promise that settles once the result is stored. */
  async function process1(
    job: PostbackJob,
    rules: AnswerRules,
    counts: Record<keyof BatchSummary, number>,
    hooks: Promise<void>[],
    stored: Promise<void>[],
    flags: { woke: boolean },
  ): Promise<void> {
    const delivered = await deliverPostback({ job, jobId: job.id, attemptNumber: job.attempts, rules, transport, clock, timeoutMs, ssrf });
    const now = clock.now();
    let settled: Omit<SettledOutcome, 'attempt'>;
    let next: SettleInput['next'];
    switch (delivered.outcome) {
      case 'success':
      case 'duplicate':
        settled = { status: 'succeeded', outcome: delivered.outcome, final: true, reason: delivered.reason };
        next = { status: 'succeeded' };
        break;
      case 'rejected':
      case 'blocked':
        settled = { status: 'failed', outcome: delivered.outcome, final: true, reason: delivered.reason };
        next = { status: 'failed' };
        break;
      case 'retry':
      case 'error': {
        const delay = nextRetryDelay({ schedule, scheduleAttempts: job.scheduleAttempts, jitter, random, retryAfterMs: delivered.retryAfterMs });
        if (delay === undefined) {
          settled = { status: 'dead', outcome: 'dead', final: true, reason: `${delivered.reason} (gave up after ${job.scheduleAttempts} attempts)` };
          next = { status: 'dead' };
        } else {
          const at = new Date(now.getTime() + delay);
          settled = { status: 'pending', outcome: delivered.outcome, final: false, reason: delivered.reason, nextAttemptAt: at };
          next = { status: 'pending', at };
        }
        break;
      }
    }
    const outcomeText = settled.outcome === 'success' ? 'success' : `${settled.outcome}: ${settled.reason}`;
    const log = { jobId: job.id, offerId: job.offerId, orderId: job.orderId, attempt: job.attempts, url: delivered.attempt.requestUrl, outcome: settled.outcome, reason: settled.reason };
    const pending = settle({
      jobId: job.id,
      workerId: id,
      attempt: delivered.attempt,
      next,
      outcome: outcomeText.slice(0, 1_000),
      error: settled.outcome === 'success' || settled.outcome === 'duplicate' ? null : settled.reason.slice(0, 1_000),
      now,
    });
    stored.push(
      pending.then(
        (result) => {
          if (result.wokeDependents === true) flags.woke = true;
          afterSettle(job, settled, delivered.attempt, result.applied, log, counts, hooks);
        },
        (error: unknown) => {
          // the store failed to record the result: the job stays leased and is sent again after the lease
          logger.error({ err: error, jobId: job.id }, 'could not record a postback attempt; the job will be retried after its lease');
        },
      ),
    );
  }

  function afterSettle(
    job: PostbackJob,
    settled: Omit<SettledOutcome, 'attempt'>,
    attempt: AttemptRecord,
    applied: boolean,
    log: Record<string, unknown>,
    counts: Record<keyof BatchSummary, number>,
    hooks: Promise<void>[],
  ): void {
    if (!applied) {
      counts.lostLease += 1;
      logger.warn(log, 'postback sent, but the job had been claimed by another worker meanwhile (lease expired): attempt recorded, job left to it');
      return;
    }
    const countKey = ({ success: 'succeeded', duplicate: 'duplicates', rejected: 'rejected', blocked: 'blocked', retry: 'retried', error: 'retried', dead: 'dead' } as const)[settled.outcome];
    counts[countKey] += 1;
    // every attempt is in the postback log (the store); the process log gets what needs a look
    if (settled.outcome === 'dead' || settled.outcome === 'blocked') logger.warn(log, 'postback dead-lettered or refused');
    else if (settled.outcome === 'success' || settled.outcome === 'duplicate') logger.debug(log, 'postback delivered');
    else logger.info(log, 'postback attempt failed');
    // hooks run beside the sends, not in their lane: a slow write-back must not slow delivery
    if (options.onSettled) hooks.push(runHook(job, { ...settled, attempt }));
  }

  // an object, so loops re-read it after each await (stop() flips it from outside)
  const state = { stopping: false };

  /**
   * The send pipeline. Lanes (`concurrency` of them) take jobs from a buffer; when the buffer runs
   * low, the next batch is claimed in the background, so claiming and storing results overlap
   * with sending. `once`: one claim only (runOnce). Otherwise it runs until nothing is due, or
   * until stop(): jobs claimed but not yet sent are then released (due again at once, their claim
   * uncounted) instead of waiting for their lease to run out.
   */
  async function pump(once: boolean): Promise<BatchSummary> {
    const counts: Record<keyof BatchSummary, number> = { ...emptySummary };
    const hooks: Promise<void>[] = [];
    const stored: Promise<void>[] = [];
    const buffer: PostbackJob[] = [];
    const rules = new Map<string, AnswerRules>();
    // a settle that ended a job woke the jobs waiting for it (a refund for its sale): they are due now
    const flags = { woke: false };
    let exhausted = false;
    let fetching: Promise<void> | undefined;

    const fetchMore = (): Promise<void> =>
      (fetching ??= (async () => {
        try {
          const now = clock.now();
          const jobs = await store.claimDueJobs({ workerId: id, now, limit: batchSize, leaseUntil: new Date(now.getTime() + leaseMs) });
          // fewer than asked: that was everything due now
          if (once || jobs.length < batchSize) exhausted = true;
          counts.claimed += jobs.length;
          for (const [key, value] of await rulesFor(jobs.filter((j) => !rules.has(ruleKey(j))))) rules.set(key, value);
          buffer.push(...jobs);
        } catch (error) {
          exhausted = true;
          logger.error({ err: error }, 'claiming due postbacks failed; trying again after the poll interval');
        }
      })().finally(() => {
        fetching = undefined;
      }));

    const lane = async () => {
      for (;;) {
        if (state.stopping) return;
        // claim the next batch while half of this one is still to send, so lanes never wait on a claim
        if (!exhausted && buffer.length <= lowWater) void fetchMore();
        const job = buffer.shift();
        if (job === undefined) {
          if (exhausted && fetching === undefined) return;
          await fetchMore();
          continue;
        }
        try {
          await process1(job, rules.get(ruleKey(job)) ?? {}, counts, hooks, stored, flags);
        } catch (error) {
          // a bug between send and settle: the job stays leased and is sent again after the lease
          logger.error({ err: error, jobId: job.id }, 'postback could not be processed; the job will be retried after its lease');
        }
      }
    };
    do {
      flags.woke = false;
      exhausted = false;
      await fetchMore();
      await Promise.all(Array.from({ length: concurrency }, lane));
      await fetching;
      if (once || state.stopping) break;
      // all sent: store the results now, then claim again if they woke jobs waiting for them
      if (queue.length > 0) flushNow();
      await Promise.all(stored);
    } while (flags.woke && !state.stopping);
    if (buffer.length > 0) {
      const ids = buffer.splice(0).map((j) => j.id);
      try {
        const released = await store.releaseJobs({ ids, workerId: id, now: clock.now() });
        logger.info({ released }, 'stopping: released claimed postbacks that were not sent yet');
      } catch (error) {
        logger.error({ err: error, ids }, 'could not release unsent postbacks; they are sent after their lease');
      }
    }
    // everything is sent: store what is still waiting without lingering
    if (queue.length > 0) flushNow();
    await Promise.all(stored);
    await Promise.all(hooks);
    return counts;
  }

  let running: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  // a wake() while a drain runs must not be lost: the jobs it announces may have missed that drain
  const wakes = { pending: false };

  async function loop(): Promise<void> {
    while (!state.stopping) {
      wakes.pending = false;
      try {
        await pump(false);
      } catch (error) {
        logger.error({ err: error }, 'delivery pipeline failed; retrying after the poll interval');
      }
      if (state.stopping) break;
      if (wakes.pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  return {
    id,
    runOnce: () => pump(true),
    drain: () => pump(false),
    start() {
      if (running) return;
      state.stopping = false;
      logger.info({ batchSize, concurrency, timeoutMs, leaseMs, schedule, jitter, store: store.dialect }, 'delivery worker started');
      if (ssrf.allowPrivate) {
        logger.warn(
          { allowPrivateTargets: true },
          'SSRF GUARD RELAXED: postbacks may go to loopback and private addresses (CLICKTHREAD_ALLOW_PRIVATE_TARGETS). For local testing only, never in production.',
        );
      }
      running = loop();
    },
    async stop() {
      state.stopping = true;
      wakeUp?.();
      await running;
      running = undefined;
      await flushing;
      if (ownsTransport) await transport.close();
      logger.info({}, 'delivery worker stopped');
    },
    wake() {
      wakes.pending = true;
      wakeUp?.();
    },
    async replay(input) {
      const count = await store.replayJobs({ ...input, now: clock.now() });
      if (count > 0) {
        wakes.pending = true;
        wakeUp?.();
      }
      return count;
    },
  };
}
