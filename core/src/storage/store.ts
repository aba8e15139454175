import type { PostbackJobDraft } from '../conversion/postback-job.ts';
import type { Offer } from '../offers/offer-schema.ts';
import type { IdSource, Platform, PostbackEvent } from '../orders/order.ts';
import type { Result } from '../shared/result.ts';

/**
 * The storage port. Two adapters implement it (SQLite, PostgreSQL) and both run one contract test
 * suite. Every "exactly once" in Clickthread is a unique constraint here, never a set in memory.
 * Times are passed in (the Store never reads the clock), as Date values.
 */

export interface Merchant {
  readonly id: string;
  readonly name: string;
  /** The agency that manages this merchant, if any. */
  readonly agencyId: string | null;
  readonly createdAt: Date;
}

export interface StoreConnection {
  /** Clickthread's id for the store (Shopify shop or Woo connection). */
  readonly id: string;
  readonly merchantId: string;
  readonly platform: Platform;
  /** The primary domain: myshopify domain, or the Woo site's host. */
  readonly domain: string;
  /** 'active' until uninstalled/disconnected. */
  readonly status: 'active' | 'disabled' | 'uninstalled';
  /** Platform-specific settings (webhook ids, meta key, reconcile cursor…), JSON. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Encrypted secrets (access token, consumer secret, webhook secret); the adapter stores them opaque. */
  readonly secrets: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type CaptureKind = 'visitor' | 'cart_token' | 'customer';

export interface Capture {
  readonly merchantId: string;
  readonly kind: CaptureKind;
  /** Visitor token, cart token or customer id. */
  readonly key: string;
  readonly transactionId: string;
  readonly param: string | null;
  readonly extras: Readonly<Record<string, string>>;
  readonly capturedAt: Date;
  /** The storefront domain the click was captured on. */
  readonly domain: string | null;
  /**
   * The connected store whose storefront or order reported it, for a capture that belongs to one
   * store (a Shopify cart token or customer id, a capture made on that shop's storefront): what
   * shop/redact deletes with deleteStoreCaptures. Absent: the merchant's alone.
   */
  readonly storeId?: string;
}

export interface OrderLink {
  readonly storeId: string;
  readonly orderId: string;
  readonly visitorToken: string;
  readonly linkedAt: Date;
}

export const jobStatuses = ['pending', 'in_flight', 'succeeded', 'failed', 'dead'] as const;
export type JobStatus = (typeof jobStatuses)[number];
/** The statuses a job ends in (until replayed): no worker sends it again. */
export type FinalJobStatus = Extract<JobStatus, 'succeeded' | 'failed' | 'dead'>;

export function isJobStatus(value: string): value is JobStatus {
  return (jobStatuses as readonly string[]).includes(value);
}

export function isFinalJobStatus(status: string): status is FinalJobStatus {
  return status === 'succeeded' || status === 'failed' || status === 'dead';
}

/**
 * The lastOutcome of a job that waited for another (PostbackJobDraft.dependsOn) which ended failed
 * or dead, or does not exist: it is settled failed without being sent. Replaying the job it waited
 * for puts it back too.
 */
export const neverReportedOutcome = 'its conversion was never reported';

/**
 * The WriteBackOutcome.outcome of such a job: the claim that settles it keeps a write-back task for
 * it (no worker's hook hears of a job that is never sent), so the order still shows it.
 */
export const neverReportedWriteBack = 'never_reported';

export interface PostbackJob extends PostbackJobDraft {
  /** A decimal integer as a string ("42"), increasing with insertion. */
  readonly id: string;
  readonly status: JobStatus;
  /** Every attempt ever started, counted when the job is claimed (so a send cut short by a crash counts). */
  readonly attempts: number;
  /** Attempts counted against the retry schedule: like `attempts`, but a replay starts it again at 0. */
  readonly scheduleAttempts: number;
  readonly nextAttemptAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** The last classified outcome, e.g. "success", "duplicate", "rejected: Invalid Trans. ID". */
  readonly lastOutcome: string | null;
  readonly lastError: string | null;
  /** The worker holding the job while it is in flight, and until when; null otherwise. */
  readonly lockedBy: string | null;
  readonly leaseUntil: Date | null;
}

export interface AttemptRecord {
  readonly jobId: string;
  /** 1-based. */
  readonly attempt: number;
  readonly startedAt: Date;
  readonly latencyMs: number;
  /** The request URL with secrets redacted. */
  readonly requestUrl: string;
  readonly status: number | null;
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** The first KB of the answer. */
  readonly responseBody: string;
  readonly outcome: 'success' | 'duplicate' | 'rejected' | 'retry' | 'blocked' | 'error';
  /** network, timeout, ssrf, http_5xx… */
  readonly errorClass: string | null;
  readonly detail: string | null;
}

export interface SettleInput {
  readonly jobId: string;
  readonly workerId: string;
  readonly attempt: AttemptRecord;
  readonly next: { readonly status: 'succeeded' | 'failed' | 'dead' } | { readonly status: 'pending'; readonly at: Date };
  /** Stored as the job's lastOutcome, e.g. "success", "rejected: Invalid Trans. ID". */
  readonly outcome: string;
  /** Stored as the job's lastError (null on success). */
  readonly error?: string | null;
  readonly now: Date;
}

export interface SettleResult {
  /**
   * False when the worker no longer held the job (its lease expired and another worker claimed it,
   * or it was replayed): the attempt is recorded, the job is left to its current holder.
   */
  readonly applied: boolean;
  /**
   * Present (true) when this settle ended the job and that woke jobs waiting for it
   * (PostbackJobDraft.dependsOn): they are due now, so a worker draining the outbox claims again.
   */
  readonly wokeDependents?: true;
}

export interface EnqueueResult {
  /** Jobs stored now. */
  readonly inserted: number;
  /** Jobs whose idempotency key already existed: nothing stored. */
  readonly duplicates: number;
  /** False when the webhook id (if given) had been processed before: nothing was stored. */
  readonly webhookIsNew: boolean;
  /** Present (true) when the order's history changed since `plannedAgainst`: nothing was stored. */
  readonly stale?: true;
}

export interface PlannedAgainst {
  readonly storeId: string;
  readonly orderId: string;
  readonly knownKeys: readonly string[];
}

export interface JobFilter {
  readonly merchantId?: string;
  readonly storeId?: string;
  readonly offerId?: string;
  readonly orderId?: string;
  readonly status?: JobStatus;
  readonly createdFrom?: Date;
  readonly createdTo?: Date;
  readonly limit?: number;
  /** Keyset pagination: jobs created before this job id's row. */
  readonly before?: string;
}

export interface UnattributedOrder {
  readonly storeId: string;
  readonly orderId: string;
  readonly orderNumber: string;
  readonly reason: string;
  readonly at: Date;
}

/** A WooCommerce order that arrived paid before its order-received link, waiting until `dueAt`. */
export interface PendingOrder {
  readonly storeId: string;
  readonly orderId: string;
  /** What the app needs to process it then (the order as it arrived), JSON text, opaque here. */
  readonly payload: string;
  readonly dueAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One cell of the admin overview: how many jobs of a day (UTC, "YYYY-MM-DD", by creation) are in a status. */
export interface JobDayCount {
  readonly day: string;
  readonly status: JobStatus;
  readonly count: number;
}

/** What a settled postback's write-back shows on the order: the job's final state as the worker settled it. */
export interface WriteBackOutcome {
  readonly status: FinalJobStatus;
  /** The delivery outcome ('success', 'duplicate', 'rejected', …), 'dead', or neverReportedWriteBack. */
  readonly outcome: string;
  readonly reason: string;
}

/**
 * A write-back the store refused or did not answer, waiting for its next try (one per job). The
 * platform's code names its steps, so a try resumes after what already went through (a Woo order
 * note is not added twice because the meta write after it failed).
 */
export interface WriteBackTask {
  readonly jobId: string;
  readonly storeId: string;
  /** The store's platform: only a process that writes back to it claims the task. */
  readonly platform: Platform;
  /** pending: tried again at dueAt; dead: given up, kept with its last error. */
  readonly status: 'pending' | 'dead';
  /** Where the next try starts; null: from the start. */
  readonly step: string | null;
  readonly outcome: WriteBackOutcome;
  /** Tries made so far. */
  readonly attempts: number;
  readonly dueAt: Date;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A value compareAndSetStoreSetting compares: JSON scalars (a cursor, a version), compared alike by both adapters. */
export type StoreSettingScalar = string | number | boolean | null;

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs pending migrations; idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // merchants and stores
  /** Creates the merchant, or returns the existing one with that id unchanged (safe to call on every start). */
  createMerchant(m: { id: string; name: string; agencyId?: string | null; now: Date }): Promise<Merchant>;
  getMerchant(id: string): Promise<Merchant | undefined>;
  listMerchants(filter?: { agencyId?: string }): Promise<Merchant[]>;
  /** Deletes the merchant and everything it owns. */
  deleteMerchant(id: string): Promise<void>;
  upsertStore(s: Omit<StoreConnection, 'createdAt' | 'updatedAt'> & { now: Date }): Promise<StoreConnection>;
  getStore(id: string): Promise<StoreConnection | undefined>;
  findStoreByDomain(domain: string): Promise<StoreConnection | undefined>;
  listStores(merchantId?: string): Promise<StoreConnection[]>;
  /** Deletes a store's own data (jobs, links, webhook receipts, pending orders); the merchant's captures stay. */
  deleteStore(id: string): Promise<void>;
  /**
   * Merges `patch` into the store's settings in one statement, so concurrent writers (several
   * processes) never lose each other's keys: each top-level key is replaced by its value (objects
   * are not merged into), a null value deletes the key. Returns the updated store, or undefined
   * when there is none.
   */
  patchStoreSettings(id: string, patch: Readonly<Record<string, unknown>>, now: Date): Promise<StoreConnection | undefined>;
  /**
   * Sets one top-level settings key to `next` (null deletes it) only if it currently holds
   * `expected` (null: absent or null), in one statement; returns whether it did. For cursors that
   * several processes advance.
   */
  compareAndSetStoreSetting(id: string, key: string, expected: StoreSettingScalar, next: unknown, now: Date): Promise<boolean>;
  /**
   * Adds a storefront domain (stored in lower case) to a merchant; adding it again is a no-op.
   * A domain that belongs to another merchant is refused.
   */
  addDomain(merchantId: string, domain: string): Promise<Result<void>>;
  listDomains(merchantId: string): Promise<string[]>;
  findMerchantByDomain(domain: string): Promise<string | undefined>;

  // offers (validated by offerSchema before they get here)
  saveOffer(merchantId: string, offer: Offer, now: Date): Promise<void>;
  getOffer(merchantId: string, offerId: string): Promise<Offer | undefined>;
  listOffers(merchantId: string): Promise<Offer[]>;
  deleteOffer(merchantId: string, offerId: string): Promise<boolean>;

  // captures: per merchant, not per domain, so a click on one domain serves an order on another
  /**
   * Stores the capture when there is none for the key, or over the existing one when `replace` is
   * set (the caller decides with decideCapture). Returns whether it was stored.
   */
  putCapture(c: Capture, options?: { replace?: boolean }): Promise<boolean>;
  getCapture(merchantId: string, kind: CaptureKind, key: string): Promise<Capture | undefined>;
  /** customers/redact and GDPR: removes every capture for these keys. */
  deleteCaptures(merchantId: string, kind: CaptureKind, keys: readonly string[]): Promise<number>;
  /** shop/redact: removes every capture that store reported (Capture.storeId), of any kind; returns how many. */
  deleteStoreCaptures(merchantId: string, storeId: string): Promise<number>;
  /** Links an order to a visitor; the first link wins (a later report cannot re-point it). Returns whether it was stored. */
  linkOrder(link: OrderLink): Promise<boolean>;
  getOrderLink(storeId: string, orderId: string): Promise<OrderLink | undefined>;
  /** customers/redact: removes the links (visitor token per order) of these orders; returns how many. */
  deleteOrderLinks(storeId: string, orderIds: readonly string[]): Promise<number>;

  // orders waiting for their order-received link (WooCommerce)
  /** Stores the order as waiting until `dueAt`, or replaces the payload and due time of the one waiting. */
  putPendingOrder(p: { storeId: string; orderId: string; payload: string; dueAt: Date; now: Date }): Promise<void>;
  getPendingOrder(storeId: string, orderId: string): Promise<PendingOrder | undefined>;
  /** Waiting orders whose time is up (dueAt <= now), earliest first, of one store or all. */
  listDuePendingOrders(filter: { storeId?: string; now: Date; limit: number }): Promise<PendingOrder[]>;
  countPendingOrders(storeId: string): Promise<number>;
  /** Returns whether one was waiting. */
  deletePendingOrder(storeId: string, orderId: string): Promise<boolean>;

  // the outbox
  /**
   * Stores the jobs and (when given) the webhook receipt and the unattributed-order row in ONE
   * transaction. A job whose idempotency key exists is skipped; a webhook id seen before stores
   * nothing at all. An unattributed row is kept once per (store, order), the latest reason wins; it
   * is removed when jobs for that order are stored later (the order found its ID after all).
   */
  enqueue(input: {
    jobs: readonly PostbackJobDraft[];
    webhook?: { storeId: string; webhookId: string };
    unattributed?: UnattributedOrder;
    /**
     * The order's jobs the plan was made against (their idempotency keys). When the order has a job
     * that is not among them (another delivery of the same order stored it meanwhile), nothing is
     * stored, the webhook receipt included, and the result says `stale`: the caller plans again
     * against the new history. Reversals are capped by what the history says was reported, so two
     * deliveries planned side by side (an orders/cancelled beside a refunds/create) must not both
     * store. Checked inside the transaction; PostgreSQL serializes such enqueues per order.
     */
    plannedAgainst?: PlannedAgainst;
    now: Date;
  }): Promise<EnqueueResult>;
  /**
   * Leases up to `limit` due jobs to a worker until `leaseUntil`; concurrent workers never share a
   * job. Due: pending with nextAttemptAt <= now, or in flight with an expired lease (its worker
   * died). Claiming counts an attempt. Returned in due order.
   *
   * A job with `dependsOn` is claimed only once the job with that idempotency key succeeded. While
   * that one is pending or in flight, the dependent is postponed to its next attempt (and woken
   * when it settles); when it failed, is dead or does not exist, the dependent is settled `failed`
   * with lastOutcome `neverReportedOutcome`, never sent.
   */
  claimDueJobs(input: { workerId: string; now: Date; limit: number; leaseUntil: Date }): Promise<PostbackJob[]>;
  /**
   * Records an attempt and moves the job: succeeded/failed (final), pending again at `next.at`, or
   * dead; only while `workerId` still holds it (see SettleResult.applied).
   */
  settleJob(input: SettleInput): Promise<SettleResult>;
  /** settleJob for many jobs in one transaction (the worker's group commit); results in input order. */
  settleJobs(inputs: readonly SettleInput[]): Promise<SettleResult[]>;
  /**
   * Gives back jobs a worker claimed but never sent (it is stopping): pending again, due as they
   * were, the claim's attempt uncounted. Only jobs `workerId` still holds; returns how many.
   */
  releaseJobs(input: { ids: readonly string[]; workerId: string; now: Date }): Promise<number>;
  getJob(id: string): Promise<PostbackJob | undefined>;
  /** Newest first (by id); `limit` defaults to 100. */
  listJobs(filter: JobFilter): Promise<PostbackJob[]>;
  /** How many jobs are in each status (for dashboards and /metrics). */
  countJobs(filter?: Pick<JobFilter, 'merchantId' | 'storeId' | 'offerId'>): Promise<Record<JobStatus, number>>;
  /**
   * Jobs created in [from, to) counted per UTC day and status, for the admin overview; only
   * non-zero cells, by day then status.
   */
  countJobsByDay(filter: { merchantId?: string; from: Date; to: Date }): Promise<JobDayCount[]>;
  /**
   * Settles every pending job of a store (not those in flight: their send already started) as
   * failed with `reason` as outcome, never sent; returns how many. For a Shopify uninstall.
   */
  cancelPendingJobs(input: { storeId: string; reason: string; now: Date }): Promise<number>;
  /** Oldest first. */
  listAttempts(jobId: string): Promise<AttemptRecord[]>;
  /**
   * Puts dead (or failed) jobs back to pending, due now, with a fresh retry schedule; returns how
   * many. By ids: dead or failed jobs among them. By filter: jobs in filter.status (dead or failed),
   * dead by default. Pending, in-flight and succeeded jobs are never touched. The jobs that were
   * settled failed because one of these was never reported (neverReportedOutcome) come back too,
   * still waiting for it; they are counted.
   */
  replayJobs(input: { ids?: readonly string[]; filter?: JobFilter; now: Date }): Promise<number>;
  hasProcessedWebhook(storeId: string, webhookId: string): Promise<boolean>;
  listUnattributed(filter: { merchantId?: string; storeId?: string; limit?: number }): Promise<UnattributedOrder[]>;

  // write-backs waiting for another try (core/src/write-back)
  /**
   * Saves the job's write-back, pending until `dueAt` (replacing any earlier one of the job: a
   * replayed job's newer outcome is the one to show). False, and nothing saved, if the job does not
   * exist (its store was deleted meanwhile).
   */
  deferWriteBack(input: {
    jobId: string;
    storeId: string;
    platform: Platform;
    step: string | null;
    outcome: WriteBackOutcome;
    attempts: number;
    dueAt: Date;
    error: string;
    now: Date;
  }): Promise<boolean>;
  /** Takes up to `limit` due write-backs of `platforms`, oldest due first; no other claim takes them before `leaseUntil`. */
  claimDueWriteBacks(input: { platforms: readonly Platform[]; now: Date; limit: number; leaseUntil: Date }): Promise<WriteBackTask[]>;
  /** Written (or nothing left to write): the task goes. */
  finishWriteBack(jobId: string): Promise<void>;
  /** Given up: kept as dead with its last error, for the merchant to see. */
  abandonWriteBack(input: { jobId: string; error: string; now: Date }): Promise<void>;
  /** Newest first (at most `limit`, default 100); `merchantId`: the tasks of that merchant's stores. */
  listWriteBacks(filter: { merchantId?: string; storeId?: string; status?: WriteBackTask['status']; limit?: number }): Promise<WriteBackTask[]>;
}

export type { PostbackEvent, IdSource };
