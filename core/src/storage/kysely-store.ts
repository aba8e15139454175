import { CompiledQuery, sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import { migrateToLatestLocked } from './run-migrations.ts';
import { Migrator } from 'kysely/migration';
import type { PostbackJobDraft } from '../conversion/postback-job.ts';
import { parseOffer, formatOfferIssues, type Offer } from '../offers/offer-schema.ts';
import type { IdSource, Platform, PostbackEvent } from '../orders/order.ts';
import { InvariantError, StorageError } from '../shared/errors.ts';
import { formatIsoTime } from '../shared/iso-time.ts';
import { err, ok } from '../shared/result.ts';
import type { AttemptsTable, CapturesTable, Database, JobsTable, OrderLinksTable, StoresTable, WriteBacksTable } from './database.ts';
import { migrationProvider, type SqlDialect } from './migrations.ts';
import { isFinalJobStatus, isJobStatus, jobStatuses, neverReportedOutcome, neverReportedWriteBack } from './store.ts';
import type {
  AttemptRecord,
  Capture,
  CaptureKind,
  EnqueueResult,
  JobDayCount,
  JobFilter,
  JobStatus,
  Merchant,
  OrderLink,
  PendingOrder,
  PostbackJob,
  SettleInput,
  SettleResult,
  Store,
  StoreConnection,
  UnattributedOrder,
  WriteBackOutcome,
  WriteBackTask,
} from './store.ts';

/**
 * The one implementation of the Store, over Kysely. The adapters (sqlite-store.ts,
 * postgres-store.ts) only build the Kysely instance; the dialect shows through in exactly one
 * place here, claiming jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the claim runs in
 * an IMMEDIATE transaction, which already excludes every other writer).
 */

export interface KyselyStoreOptions {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** Where Kysely keeps its migration tables (PostgreSQL schema); undefined on SQLite. */
  readonly migrationTableSchema?: string;
  /** Runs before migrating (e.g. creating the PostgreSQL schema). */
  readonly beforeMigrate?: () => Promise<void>;
  /**
   * Runs the worker's bookkeeping (claim, settle, release) with relaxed durability (SQLite:
   * synchronous=NORMAL instead of FULL; PostgreSQL: a transaction with synchronous_commit off).
   * Losing such a commit to a power cut only makes a job be sent again; an enqueue is never
   * relaxed. `run` may get a transaction already: it must not need a fresh one.
   */
  readonly relaxed?: <T>(run: (db: Kysely<Database>) => Promise<T>) => Promise<T>;
  /**
   * Resolves once every commit made so far is durable (SQLite `full`: its WAL fsynced, off the
   * event loop). Awaited after every write a caller relies on (an enqueue before its webhook is
   * answered, a capture, a link…), outside the transaction so the next one need not wait; never
   * after the worker's bookkeeping. Undefined: a commit is durable when it returns (PostgreSQL).
   */
  readonly durable?: () => Promise<void>;
  /**
   * SQLite: concurrent enqueue calls are gathered and run in ONE transaction, each call in a
   * savepoint of its own (so one call's failure rolls back only that call), and each caller gets
   * its own result. With one writer connection, per-call transactions would serialize webhooks
   * behind each other's BEGIN/COMMIT and WAL writes; a group shares them. PostgreSQL commits on
   * a pool of connections and gains nothing from it.
   */
  readonly groupEnqueue?: boolean;
}

const defaultListLimit = 100;
const maxListLimit = 10_000;
/** Rows per multi-row INSERT: ~30 columns each stays far below SQLite's bound-parameter limit. */
const insertChunk = 200;
/** Jobs per settle statement group (about 15 parameters each). */
const settleChunk = 200;
/** The longest run of one settle statement (a power of two: see SettleStatements). */
const settleRun = 128;
/** Enqueue calls per group transaction: bounds how long one transaction holds the connection. */
const maxEnqueueGroup = 256;

const iso = formatIsoTime;

/** The attempts row of one send, as both settle paths (one job, a group commit) write it. */
function attemptRow(jobId: number, a: AttemptRecord): Insertable<AttemptsTable> {
  return {
    job_id: jobId,
    attempt: a.attempt,
    started_at: iso(a.startedAt),
    latency_ms: Math.max(0, Math.round(a.latencyMs)),
    request_url: a.requestUrl,
    status: a.status,
    response_headers: JSON.stringify(a.responseHeaders),
    response_body: a.responseBody,
    outcome: a.outcome,
    error_class: a.errorClass,
    detail: a.detail,
  };
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function toDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : toDate(value);
}

function writeBackFromRow(r: Selectable<WriteBacksTable>): WriteBackTask {
  return {
    jobId: String(r.job_id),
    storeId: r.store_id,
    platform: r.platform as Platform,
    status: r.status === 'dead' ? 'dead' : 'pending',
    step: r.step,
    outcome: parseJsonObject<WriteBackOutcome>(r.outcome, 'write-back outcome'),
    attempts: Number(r.attempts),
    dueAt: toDate(r.due_at),
    lastError: r.last_error,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

/** Job ids are decimal integers; anything else matches no job (rather than failing the query). */
function jobIdNumber(id: string): number | undefined {
  if (!/^\d{1,15}$/.test(id)) return undefined;
  return Number(id);
}

function parseJsonObject<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new StorageError(`stored ${what} is not valid JSON`, { cause });
  }
}

const normalizeDomain = (domain: string): string => domain.trim().toLowerCase();

function jobFromRow(row: Selectable<JobsTable>): PostbackJob {
  return {
    id: String(row.id),
    idempotencyKey: row.idempotency_key,
    merchantId: row.merchant_id,
    storeId: row.store_id,
    orderId: row.order_id,
    orderNumber: row.order_number,
    offerId: row.offer_id,
    event: row.event as PostbackEvent,
    eventKey: row.event_key,
    method: row.method as 'GET' | 'POST',
    url: row.url,
    headers: parseJsonObject<Record<string, string>>(row.headers, `headers of job ${String(row.id)}`),
    transactionId: row.transaction_id,
    idSource: row.id_source as IdSource,
    amount: row.amount,
    currency: row.currency,
    test: Number(row.test) === 1,
    allowHttp: Number(row.allow_http) === 1,
    status: row.status as JobStatus,
    attempts: Number(row.attempts),
    scheduleAttempts: Number(row.schedule_attempts),
    nextAttemptAt: toDate(row.next_attempt_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    lastOutcome: row.last_outcome,
    lastError: row.last_error,
    lockedBy: row.locked_by,
    leaseUntil: toDateOrNull(row.lease_until),
    ...(row.depends_on === null ? {} : { dependsOn: row.depends_on }),
  };
}

function attemptFromRow(row: Selectable<AttemptsTable>): AttemptRecord {
  return {
    jobId: String(row.job_id),
    attempt: Number(row.attempt),
    startedAt: toDate(row.started_at),
    latencyMs: Number(row.latency_ms),
    requestUrl: row.request_url,
    status: row.status === null ? null : Number(row.status),
    responseHeaders: parseJsonObject<Record<string, string>>(row.response_headers, 'attempt headers'),
    responseBody: row.response_body,
    outcome: row.outcome as AttemptRecord['outcome'],
    errorClass: row.error_class,
    detail: row.detail,
  };
}

function jobRowOf(job: PostbackJobDraft, now: Date) {
  return {
    idempotency_key: job.idempotencyKey,
    merchant_id: job.merchantId,
    store_id: job.storeId,
    order_id: job.orderId,
    order_number: job.orderNumber,
    offer_id: job.offerId,
    event: job.event,
    event_key: job.eventKey,
    method: job.method,
    url: job.url,
    headers: JSON.stringify(job.headers),
    transaction_id: job.transactionId,
    id_source: job.idSource,
    amount: job.amount,
    currency: job.currency,
    test: job.test ? 1 : 0,
    allow_http: job.allowHttp ? 1 : 0,
    status: 'pending',
    attempts: 0,
    schedule_attempts: 0,
    next_attempt_at: iso(now),
    locked_by: null,
    lease_until: null,
    last_outcome: null,
    last_error: null,
    created_at: iso(now),
    updated_at: iso(now),
    depends_on: job.dependsOn ?? null,
  };
}

/**
 * The database behind a Store, for a module that keeps its own tables beside the Store's in the
 * same database (core/src/access: agencies, API tokens, the offer audit log) with its own migrations.
 */
export interface StoreDatabase {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** Where migration tables go (the PostgreSQL schema); undefined on SQLite. */
  readonly migrationTableSchema: string | undefined;
}

const databases = new WeakMap<Store, StoreDatabase>();

/** The Kysely instance of a Store made by createKyselyStore; undefined for any other Store. */
export function storeDatabaseOf(store: Store): StoreDatabase | undefined {
  return databases.get(store);
}

/** Runs `work` in the transaction `q` already is, or in a new one. */
function inTransaction<T>(q: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return q.isTransaction ? work(q) : q.transaction().execute(work);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Offers parsed from their stored text, by that text. Every webhook lists its merchant's offers,
 * and validating an offer (zod) costs more than reading it: the same text always parses to the same
 * offer, so it is done once. Each caller gets its own copy (the Offer type is mutable), made from
 * the parsed offer's JSON (an offer is plain JSON data; JSON.parse copies it faster than
 * structuredClone); bounded, oldest out first.
 */
const parsedOffers = new Map<string, string>();
const parsedOffersMax = 1_000;

function offerFromBody(merchantId: string, body: string): Offer {
  const cached = parsedOffers.get(body);
  if (cached !== undefined) return JSON.parse(cached) as Offer;
  const parsed = parseOffer(parseJsonObject<unknown>(body, `offer of merchant ${merchantId}`));
  if (!parsed.ok) throw new StorageError(`stored offer of merchant ${merchantId} no longer validates:\n${formatOfferIssues(parsed.reason)}`);
  if (parsedOffers.size >= parsedOffersMax) {
    const oldest = parsedOffers.keys().next();
    if (!oldest.done) parsedOffers.delete(oldest.value);
  }
  parsedOffers.set(body, JSON.stringify(parsed.value));
  return parsed.value;
}

/** SQLite's JSON path of a top-level settings key; keys are chosen by code, so a quote in one is a bug. */
function settingsKeyPath(key: string): string {
  if (key === '' || /["\\]/.test(key)) throw new InvariantError(`store settings key ${JSON.stringify(key)} must be non-empty, without quotes or backslashes`);
  return `$."${key}"`;
}

/** A SQLite json_type as compareAndSetStoreSetting compares it: absent is null, integer and real are one kind. */
function sqliteJsonKind(type: ReturnType<typeof sql>) {
  return sql`case coalesce(${type}, 'null') when 'integer' then 'real' else coalesce(${type}, 'null') end`;
}

function pendingOrderFromRow(row: Selectable<Database['pending_orders']>): PendingOrder {
  return {
    storeId: row.store_id,
    orderId: row.order_id,
    payload: row.payload,
    dueAt: toDate(row.due_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

function storeFromRow(row: Selectable<Database['stores']>): StoreConnection {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    platform: row.platform as Platform,
    domain: row.domain,
    status: row.status as StoreConnection['status'],
    settings: parseJsonObject<Record<string, unknown>>(row.settings, `settings of store ${row.id}`),
    secrets: row.secrets,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/**
 * A status as a literal, so SQLite's planner can use the partial index of that status (see
 * migrations.ts); only the known statuses are ever written into SQL.
 */
function statusLiteral(status: JobStatus) {
  if (!isJobStatus(status)) throw new InvariantError(`unknown job status ${JSON.stringify(status)}`);
  return sql.lit(status);
}

function jobQuery(trx: Kysely<Database>, filter: JobFilter) {
  let q = trx.selectFrom('jobs').selectAll();
  if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
  if (filter.storeId !== undefined) q = q.where('store_id', '=', filter.storeId);
  if (filter.offerId !== undefined) q = q.where('offer_id', '=', filter.offerId);
  if (filter.orderId !== undefined) q = q.where('order_id', '=', filter.orderId);
  if (filter.status !== undefined) q = q.where('status', '=', statusLiteral(filter.status));
  if (filter.createdFrom !== undefined) q = q.where('created_at', '>=', iso(filter.createdFrom));
  if (filter.createdTo !== undefined) q = q.where('created_at', '<=', iso(filter.createdTo));
  if (filter.before !== undefined) q = q.where('id', '<', jobIdNumber(filter.before) ?? 0);
  return q;
}

/**
 * unorderedOnSqlite: the SQLite that better-sqlite3 ships is built with STAT4, so a statement whose
 * plan could depend on a bound value (an ORDER BY the index may or may not give, a range) is
 * prepared again every time it is run with new bindings: 5–40 µs instead of 1–5. The few queries
 * every webhook runs that return a handful of rows leave the ORDER BY out and sort in JavaScript.
 */

/**
 * The reads every webhook makes, as SQL text run through Kysely's executor without its query
 * builder and compiler: on SQLite those cost more than the query itself (5–7 µs of 8–14). Plain SQL
 * both dialects accept; PostgreSQL gets numbered placeholders (hotSql).
 */
const hotReads = {
  store: 'select * from "stores" where "id" = ?',
  storesByDomain: 'select * from "stores" where "domain" = ?',
  offers: 'select "id", "body" from "offers" where "merchant_id" = ?',
  capture: 'select * from "captures" where "merchant_id" = ? and "kind" = ? and "key" = ?',
  orderLink: 'select * from "order_links" where "store_id" = ? and "order_id" = ?',
  orderJobs: 'select * from "jobs" where "store_id" = ? and "order_id" = ?',
  receipt: 'select "webhook_id" from "webhook_receipts" where "store_id" = ? and "webhook_id" = ?',
} as const;

function hotSql(dialect: SqlDialect): Record<keyof typeof hotReads, string> {
  const out = { ...hotReads } as Record<keyof typeof hotReads, string>;
  if (dialect === 'postgres') {
    for (const name of Object.keys(out) as Array<keyof typeof hotReads>) {
      let n = 0;
      out[name] = out[name].replace(/\?/g, () => `$${(n += 1)}`);
    }
  }
  return out;
}

/** Waiting jobs looked at per claim (the rest on the next one). */
const waitingBatch = 500;
/** A job waiting for one due now is looked at again no sooner than this (it is woken when that one settles). */
const minWaitMs = 1_000;

/** Whether any job waits for another; in the order of jobs_waiting, so the planner reads that index's first entry (not every job that ever had a dependency). */
const anyWaitingSql = `select "id" from "jobs" where "status" = 'pending' and "depends_on" is not null order by "next_attempt_at", "id" limit 1`;

/** A write-back task's own columns (its job, store and platform are the target's; created_at is when it was first kept). */
type WriteBackTaskRow = Pick<Insertable<WriteBacksTable>, 'status' | 'step' | 'outcome' | 'attempts' | 'due_at' | 'last_error' | 'updated_at'>;

/** Keeps `task` for each job: one task per job, so one kept before is replaced (its created_at stays). */
async function keepWriteBacks(
  q: Kysely<Database>,
  targets: ReadonlyArray<{ readonly jobId: number; readonly storeId: string; readonly platform: string }>,
  task: WriteBackTaskRow,
): Promise<void> {
  if (targets.length === 0) return;
  await q
    .insertInto('write_backs')
    .values(targets.map((t) => ({ job_id: t.jobId, store_id: t.storeId, platform: t.platform, ...task, created_at: task.updated_at })))
    .onConflict((oc) => oc.column('job_id').doUpdateSet((eb) => ({ ...task, store_id: eb.ref('excluded.store_id'), platform: eb.ref('excluded.platform') })))
    .execute();
}

/**
 * The jobs waiting for any of `ids` (by idempotency key) that were postponed are due now: those
 * jobs just ended (succeeded: the dependents go out; failed or dead: the next claim settles them).
 */
async function wakeDependents(trx: Kysely<Database>, ids: readonly number[], now: string): Promise<Set<string>> {
  const woken = new Set<string>();
  // almost always nobody waits (a refund waits only while its sale is unsent): one probe of the
  // small jobs_waiting index then spares a look-up per ended job on every settle
  const { rows: anyWaiting } = await trx.executeQuery(CompiledQuery.raw(anyWaitingSql));
  if (anyWaiting.length === 0) return woken;
  for (const part of chunks(ids, 500)) {
    const rows = await trx
      .updateTable('jobs')
      .set({ next_attempt_at: now })
      .where('status', '=', 'pending')
      .where('depends_on', 'is not', null)
      .where('depends_on', 'in', trx.selectFrom('jobs').select('idempotency_key').where('id', 'in', part))
      .where('next_attempt_at', '>', now)
      .returning('depends_on')
      .execute();
    for (const row of rows) if (row.depends_on !== null) woken.add(row.depends_on);
  }
  return woken;
}

async function settleIn(trx: Kysely<Database>, input: SettleInput): Promise<SettleResult> {
  const id = jobIdNumber(input.jobId);
  if (id === undefined) return { applied: false };
  const next = input.next;
  const updated = await trx
    .updateTable('jobs')
    .set({
      status: next.status,
      next_attempt_at: next.status === 'pending' ? iso(next.at) : iso(input.now),
      locked_by: null,
      lease_until: null,
      last_outcome: input.outcome,
      last_error: input.error ?? null,
      updated_at: iso(input.now),
    })
    .where('id', '=', id)
    .where('status', '=', 'in_flight')
    .where('locked_by', '=', input.workerId)
    .executeTakeFirst();
  const applied = Number(updated.numUpdatedRows) > 0;
  const woke = applied && isFinalJobStatus(next.status) && (await wakeDependents(trx, [id], iso(input.now))).size > 0;
  // a job deleted meanwhile (its store was uninstalled) has nowhere to keep the attempt
  const exists = applied || (await trx.selectFrom('jobs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  if (exists) {
    const a = input.attempt;
    await trx
      .insertInto('attempts')
      .values(attemptRow(id, a))
      .execute();
  }
  return woke ? { applied, wokeDependents: true } : { applied };
}

type EnqueueInput = Parameters<Store['enqueue']>[0];

/** `?` placeholders as the dialect wants them (PostgreSQL numbers them); the texts hold no other `?`. */
function placeholders(dialect: SqlDialect, text: string): string {
  if (dialect !== 'postgres') return text;
  let n = 0;
  return text.replace(/\?/g, () => `$${(n += 1)}`);
}

const jobColumns = [
  'idempotency_key', 'merchant_id', 'store_id', 'order_id', 'order_number', 'offer_id', 'event', 'event_key', 'method', 'url',
  'headers', 'transaction_id', 'id_source', 'amount', 'currency', 'test', 'allow_http', 'status', 'attempts', 'schedule_attempts',
  'next_attempt_at', 'locked_by', 'lease_until', 'last_outcome', 'last_error', 'created_at', 'updated_at', 'depends_on',
] as const satisfies ReadonlyArray<keyof ReturnType<typeof jobRowOf>>;

/** SQL texts that differ only by a row count, each made the first time it is asked for. */
function textsBySize(build: (rows: number) => string): (rows: number) => string {
  const texts = new Map<number, string>();
  return (rows) => {
    let text = texts.get(rows);
    if (text === undefined) texts.set(rows, (text = build(rows)));
    return text;
  };
}

/** `count` placeholders, comma-separated: `?, ?, ?`. */
function marks(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** `insert into "table" (columns) values (?, …), …` for `rows` rows, then `tail`. */
function multiRowInsert(table: string, columns: readonly string[], rows: number, tail = ''): string {
  const row = `(${marks(columns.length)})`;
  return `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: rows }, () => row).join(', ')}${tail}`;
}

const captureColumns = ['merchant_id', 'kind', 'key', 'transaction_id', 'param', 'extras', 'captured_at', 'domain', 'store_id'] as const satisfies ReadonlyArray<keyof CapturesTable>;

/**
 * The writes of a paid order's intake besides the enqueue (the order's link to its visitor, the
 * customer's capture) as SQL text, like hotReads: each runs once per webhook, and Kysely built and
 * compiled them each time.
 */
class IntakeWriteStatements {
  /** Parameters: captureColumns, in order. */
  readonly captureInsert: string;
  /** The same, replacing the capture kept under that key. */
  readonly captureReplace: string;
  /** Parameters: store id, order id, visitor token, linked at. */
  readonly orderLink: string;
  /** Parameters: merchant id, kind, then `keys` keys. */
  readonly captureDelete: (keys: number) => string;
  constructor(dialect: SqlDialect) {
    const insert = multiRowInsert('captures', captureColumns, 1, ' on conflict ("merchant_id", "kind", "key") do ');
    const replaced = captureColumns.filter((c) => c !== 'merchant_id' && c !== 'kind' && c !== 'key');
    this.captureInsert = placeholders(dialect, `${insert}nothing`);
    this.captureReplace = placeholders(dialect, `${insert}update set ${replaced.map((c) => `"${c}" = excluded."${c}"`).join(', ')}`);
    this.orderLink = placeholders(
      dialect,
      'insert into "order_links" ("store_id", "order_id", "visitor_token", "linked_at") values (?, ?, ?, ?) on conflict ("store_id", "order_id") do nothing',
    );
    this.captureDelete = textsBySize((keys) =>
      placeholders(dialect, `delete from "captures" where "merchant_id" = ? and "kind" = ? and "key" in (${marks(keys)})`),
    );
  }
}

/**
 * The enqueue's statements as SQL text (like hotReads: for a one-job enqueue, building and
 * compiling a 28-column insert with Kysely costs more than running it). Texts by row count are
 * made once.
 */
class EnqueueStatements {
  readonly receipt: string;
  readonly unattributed: string;
  readonly orderKeys: string;
  /** PostgreSQL: one guarded enqueue of an order at a time, until its transaction ends. */
  readonly orderLock: string | undefined;
  readonly jobInsert: (rows: number) => string;
  readonly unattributedDelete: (orders: number) => string;
  constructor(dialect: SqlDialect) {
    this.orderKeys = placeholders(dialect, 'select "idempotency_key" from "jobs" where "store_id" = ? and "order_id" = ?');
    this.orderLock = dialect === 'postgres' ? 'select pg_advisory_xact_lock(hashtextextended($1, 0))' : undefined;
    this.receipt = placeholders(
      dialect,
      'insert into "webhook_receipts" ("store_id", "webhook_id", "received_at") values (?, ?, ?) on conflict ("store_id", "webhook_id") do nothing returning "webhook_id"',
    );
    this.unattributed = placeholders(
      dialect,
      'insert into "unattributed_orders" ("store_id", "order_id", "order_number", "reason", "at") values (?, ?, ?, ?, ?) ' +
        'on conflict ("store_id", "order_id") do update set "order_number" = excluded."order_number", "reason" = excluded."reason", "at" = excluded."at"',
    );
    this.jobInsert = textsBySize((rows) =>
      placeholders(dialect, multiRowInsert('jobs', jobColumns, rows, ' on conflict ("idempotency_key") do nothing returning "store_id", "order_id"')),
    );
    this.unattributedDelete = textsBySize((orders) =>
      placeholders(dialect, `delete from "unattributed_orders" where "store_id" = ? and "order_id" in (${marks(orders)})`),
    );
  }
}

const attemptColumns = [
  'job_id', 'attempt', 'started_at', 'latency_ms', 'request_url', 'status', 'response_headers', 'response_body', 'outcome', 'error_class', 'detail',
] as const satisfies ReadonlyArray<keyof ReturnType<typeof attemptRow>>;

/**
 * The claim's statements as SQL text (like SettleStatements): a worker claims once per hundred
 * sends, and Kysely built and compiled the same three queries each time. Each claim is an UPDATE
 * of the ids its subquery picks, in the order of its own partial index (jobs_lease, jobs_due); the
 * statuses are literals so SQLite's planner proves those indexes' conditions.
 */
class ClaimStatements {
  /** Jobs whose worker died. Parameters: worker id, lease until, now (updated_at), now, limit. */
  readonly expired: string;
  /** Due pending jobs whose dependency (if any) succeeded. Parameters as `expired`. */
  readonly due: string;
  /** Due jobs waiting for another that has not succeeded. Parameters: now, limit. */
  readonly waiting: string;
  constructor(dialect: SqlDialect) {
    const pg = dialect === 'postgres';
    const claim = (pick: string): string =>
      placeholders(
        dialect,
        `update "jobs" set "status" = 'in_flight', "locked_by" = ?, "lease_until" = ?, "attempts" = "attempts" + 1, ` +
          `"schedule_attempts" = "schedule_attempts" + 1, "updated_at" = ? ` +
          // PostgreSQL: rows another worker is claiming right now are skipped, not waited for; and
          // `= any(array(…))` makes the planner look the few ids up by primary key, where with
          // `in (…)` it may hash-join them against a scan of the whole table
          (pg ? `where "id" = any(array(${pick} for update skip locked)) ` : `where "id" in (${pick}) `) +
          'returning *',
      );
    this.expired = claim(`select "id" from "jobs" where "status" = 'in_flight' and "lease_until" <= ? order by "lease_until", "id" limit ?`);
    // a dependent goes out only after the job it waits for succeeded (resolveWaiting moved the
    // others out of the due range; this holds even if one slipped in)
    this.due = claim(
      `select "id" from "jobs" where "status" = 'pending' and "next_attempt_at" <= ? and ("depends_on" is null or exists ` +
        `(select 1 from "jobs" as "d" where "d"."idempotency_key" = "jobs"."depends_on" and "d"."status" = 'succeeded')) ` +
        'order by "next_attempt_at", "id" limit ?',
    );
    this.waiting = placeholders(
      dialect,
      'select "w"."id" as "id", "d"."status" as "dependencyStatus", "d"."next_attempt_at" as "dependencyNext", "d"."lease_until" as "dependencyLease" ' +
        'from "jobs" as "w" left join "jobs" as "d" on "d"."idempotency_key" = "w"."depends_on" ' +
        `where "w"."status" = 'pending' and "w"."depends_on" is not null and "w"."next_attempt_at" <= ? and ("d"."status" is null or "d"."status" != 'succeeded') ` +
        'order by "w"."next_attempt_at", "w"."id" limit ?' +
        // PostgreSQL: jobs another worker is resolving right now are skipped, not waited for
        (pg ? ' for update of "w" skip locked' : ''),
    );
  }
}

/**
 * A settle group's two writes as SQL text, made once per size: building them with Kysely cost
 * more than running them. Groups are cut into power-of-two runs (37 jobs: 32 + 4 + 1), so a
 * worker's groups of every size share a handful of texts and SQLite's statement cache keeps them
 * prepared instead of filling up with one text per size.
 */
class SettleStatements {
  /** Parameters per job: id, status, next_attempt_at, last_outcome, last_error, updated_at, worker_id. */
  readonly update: (rows: number) => string;
  readonly attemptInsert: (rows: number) => string;
  constructor(dialect: SqlDialect) {
    // PostgreSQL types VALUES parameters as text: the non-text columns are cast where used
    const cast = (column: string, type: string) => (dialect === 'postgres' ? `v.${column}::${type}` : `v.${column}`);
    this.update = textsBySize((rows) =>
      placeholders(
        dialect,
        `with v (id, status, next_attempt_at, last_outcome, last_error, updated_at, worker_id) as (values ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}) ` +
          `update "jobs" set "status" = v.status, "next_attempt_at" = ${cast('next_attempt_at', 'timestamptz')}, "locked_by" = null, "lease_until" = null, ` +
          `"last_outcome" = v.last_outcome, "last_error" = v.last_error, "updated_at" = ${cast('updated_at', 'timestamptz')} ` +
          `from v where "jobs"."id" = ${cast('id', 'bigint')} and "jobs"."status" = 'in_flight' and "jobs"."locked_by" = v.worker_id ` +
          'returning "jobs"."id", "jobs"."idempotency_key"',
      ),
    );
    this.attemptInsert = textsBySize((rows) => placeholders(dialect, multiRowInsert('attempts', attemptColumns, rows)));
  }
}

/** `items` in runs whose lengths are powers of two, largest first (at most `max`, itself one). */
function powerOfTwoRuns<T>(items: readonly T[], max: number): T[][] {
  const runs: T[][] = [];
  let at = 0;
  while (at < items.length) {
    let size = max;
    while (size > items.length - at) size /= 2;
    runs.push(items.slice(at, at + size));
    at += size;
  }
  return runs;
}

/** One enqueue, in the transaction `trx` (see Store.enqueue for what it promises). */
async function enqueueIn(trx: Kysely<Database>, statements: EnqueueStatements, input: EnqueueInput): Promise<EnqueueResult> {
  const now = iso(input.now);
  const run = <R>(text: string, parameters: unknown[]) => trx.executeQuery<R>(CompiledQuery.raw(text, parameters));
  if (input.plannedAgainst) {
    // SQLite: the transaction is IMMEDIATE, one writer at a time, so what it reads stays true to its commit
    const { storeId, orderId, knownKeys } = input.plannedAgainst;
    if (statements.orderLock) await run(statements.orderLock, [`${storeId}\n${orderId}`]);
    const known = new Set(knownKeys);
    const { rows } = await run<{ idempotency_key: string }>(statements.orderKeys, [storeId, orderId]);
    if (rows.some((r) => !known.has(r.idempotency_key))) return { inserted: 0, duplicates: 0, webhookIsNew: true, stale: true };
  }
  if (input.webhook) {
    const receipt = await run(statements.receipt, [input.webhook.storeId, input.webhook.webhookId, now]);
    if (receipt.rows.length === 0) return { inserted: 0, duplicates: 0, webhookIsNew: false };
  }
  if (input.unattributed) {
    const u = input.unattributed;
    await run(statements.unattributed, [u.storeId, u.orderId, u.orderNumber, u.reason, iso(u.at)]);
  }
  let inserted = 0;
  const attributed = new Map<string, { storeId: string; orderId: string }>();
  for (const part of chunks(input.jobs, insertChunk)) {
    const parameters = part.flatMap((job) => {
      const row = jobRowOf(job, input.now);
      return jobColumns.map((column) => row[column]);
    });
    const { rows } = await run<{ store_id: string; order_id: string }>(statements.jobInsert(part.length), parameters);
    inserted += rows.length;
    for (const r of rows) attributed.set(JSON.stringify([r.store_id, r.order_id]), { storeId: r.store_id, orderId: r.order_id });
  }
  const ordersByStore = new Map<string, string[]>();
  for (const { storeId, orderId } of attributed.values()) ordersByStore.set(storeId, [...(ordersByStore.get(storeId) ?? []), orderId]);
  for (const [storeId, orderIds] of ordersByStore) {
    for (const part of chunks(orderIds, 500)) await run(statements.unattributedDelete(part.length), [storeId, ...part]);
  }
  return { inserted, duplicates: input.jobs.length - inserted, webhookIsNew: true };
}

export function createKyselyStore(options: KyselyStoreOptions): Store {
  const { db, dialect } = options;
  let closed = false;
  const relaxed = options.relaxed ?? (<T>(run: (q: Kysely<Database>) => Promise<T>) => run(db));
  const durable = options.durable ?? (() => Promise.resolve());
  const hot = hotSql(dialect);
  const enqueueStatements = new EnqueueStatements(dialect);
  const settleStatements = new SettleStatements(dialect);
  const claimStatements = new ClaimStatements(dialect);
  const intakeWrites = new IntakeWriteStatements(dialect);
  const savepoint = CompiledQuery.raw('savepoint enqueue_call');
  const release = CompiledQuery.raw('release enqueue_call');
  const rollbackTo = CompiledQuery.raw('rollback to enqueue_call');
  async function read<R>(name: keyof typeof hotReads, parameters: readonly unknown[]): Promise<R[]> {
    return (await db.executeQuery<R>(CompiledQuery.raw(hot[name], [...parameters]))).rows;
  }
  const groupEnqueue = options.groupEnqueue ?? false;

  /**
   * Settles a group of jobs with three statements instead of two per job: one UPDATE joined to a
   * VALUES list (UPDATE … FROM, in both dialects), one look-up of the jobs that were not ours any
   * more (do they still exist?), one multi-row INSERT of the attempts. The worker's group commit
   * hands whole groups here.
   */
  async function settleGroup(trx: Kysely<Database>, inputs: readonly SettleInput[]): Promise<SettleResult[]> {
    const ids = inputs.map((i) => jobIdNumber(i.jobId));
    const known = ids.filter((id): id is number => id !== undefined);
    // a junk or repeated id would make the join ambiguous: settle such a group one by one
    if (known.length !== ids.length || new Set(known).size !== known.length) {
      const results: SettleResult[] = [];
      for (const input of inputs) results.push(await settleIn(trx, input));
      return results;
    }
    // one row of values per job, joined on the id: each job gets its own status, times and outcome
    const updated: Array<{ id: number | string; idempotency_key: string }> = [];
    for (const run of powerOfTwoRuns(inputs.map((input, i) => ({ input, id: known[i] })), settleRun)) {
      const parameters = run.flatMap(({ input, id }) => {
        const next = input.next.status === 'pending' ? input.next.at : input.now;
        return [id, input.next.status, iso(next), input.outcome, input.error ?? null, iso(input.now), input.workerId];
      });
      const { rows } = await trx.executeQuery<{ id: number | string; idempotency_key: string }>(CompiledQuery.raw(settleStatements.update(run.length), parameters));
      updated.push(...rows);
    }
    const applied = new Set(updated.map((r) => Number(r.id)));
    const keyOf = new Map(updated.map((r) => [Number(r.id), r.idempotency_key]));
    const ended = inputs.flatMap((input, i) => {
      const id = known[i];
      return id !== undefined && applied.has(id) && isFinalJobStatus(input.next.status) ? [{ id, now: iso(input.now) }] : [];
    });
    let woken = new Set<string>();
    if (ended.length > 0) {
      const latest = ended.reduce((a, b) => (b.now > a ? b.now : a), ended[0]?.now ?? '');
      woken = await wakeDependents(trx, ended.map((e) => e.id), latest);
    }
    const lost = known.filter((id) => !applied.has(id));
    // a job deleted meanwhile (its store was uninstalled) has nowhere to keep the attempt
    const stillThere = new Set(applied);
    if (lost.length > 0) for (const r of await trx.selectFrom('jobs').select('id').where('id', 'in', lost).execute()) stillThere.add(Number(r.id));
    const attempts = inputs.flatMap((input, i) => {
      const id = known[i];
      if (id === undefined || !stillThere.has(id)) return [];
      const a = input.attempt;
      return [
        attemptRow(id, a),
      ];
    });
    for (const run of powerOfTwoRuns(attempts, settleRun)) {
      const parameters = run.flatMap((row) => attemptColumns.map((column) => row[column]));
      await trx.executeQuery(CompiledQuery.raw(settleStatements.attemptInsert(run.length), parameters));
    }
    return known.map((id): SettleResult => {
      const key = keyOf.get(id);
      if (!applied.has(id)) return { applied: false };
      return key !== undefined && woken.has(key) ? { applied: true, wokeDependents: true } : { applied: true };
    });
  }

  /** Infrastructure failures become StorageError with the driver's error as the cause. */
  async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      if (cause instanceof StorageError || cause instanceof InvariantError) throw cause;
      throw new StorageError(`store.${operation} failed (${dialect})`, { cause });
    }
  }

  /** A write the caller relies on: acknowledged only once durable (see KyselyStoreOptions.durable). */
  function write<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return guard(operation, async () => {
      const result = await run();
      await durable();
      return result;
    });
  }

  // group commit of enqueues (SQLite): calls wait here until the next turn of the event loop, so
  // every webhook parsed in this turn shares one transaction and one WAL flush
  type QueuedEnqueue = { input: EnqueueInput; resolve: (result: EnqueueResult) => void; reject: (error: unknown) => void };
  const enqueueQueue: QueuedEnqueue[] = [];
  let enqueueFlushScheduled = false;

  function enqueueGrouped(input: EnqueueInput): Promise<EnqueueResult> {
    return new Promise<EnqueueResult>((resolve, reject) => {
      enqueueQueue.push({ input, resolve, reject });
      scheduleEnqueueFlush();
    });
  }

  function scheduleEnqueueFlush(): void {
    if (enqueueFlushScheduled || enqueueQueue.length === 0) return;
    enqueueFlushScheduled = true;
    setImmediate(() => void flushEnqueues());
  }

  async function flushEnqueues(): Promise<void> {
    enqueueFlushScheduled = false;
    let group: QueuedEnqueue[] = [];
    const outcomes: Array<{ ok: true; value: EnqueueResult } | { ok: false; error: unknown }> = [];
    try {
      await db.transaction().execute(async (trx) => {
        // taken once the transaction holds the connection: calls made while it waited join too
        group = enqueueQueue.splice(0, maxEnqueueGroup);
        scheduleEnqueueFlush();
        if (group.length === 1 && group[0]) {
          // alone: no savepoint, a failure fails the transaction as before
          outcomes.push({ ok: true, value: await enqueueIn(trx, enqueueStatements, group[0].input) });
          return;
        }
        for (const call of group) {
          await trx.executeQuery(savepoint);
          try {
            const value = await enqueueIn(trx, enqueueStatements, call.input);
            await trx.executeQuery(release);
            outcomes.push({ ok: true, value });
          } catch (error) {
            // only this call's statements are undone; the others in the group still commit
            await trx.executeQuery(rollbackTo);
            await trx.executeQuery(release);
            outcomes.push({ ok: false, error });
          }
        }
      });
      await durable();
    } catch (cause) {
      // BEGIN, COMMIT or the flush failed: nothing of the group is acknowledged
      const error = cause instanceof StorageError ? cause : new StorageError(`store.enqueue failed (${dialect})`, { cause });
      for (const call of group.length > 0 ? group : enqueueQueue.splice(0, maxEnqueueGroup)) call.reject(error);
      scheduleEnqueueFlush();
      return;
    }
    group.forEach((call, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) call.resolve(outcome.value);
      else call.reject(new StorageError(`store.enqueue failed (${dialect})`, { cause: outcome?.error }));
    });
  }

  /**
   * Due jobs that wait for another one that has not succeeded: settled failed (never sent) when
   * that one failed, is dead or does not exist; otherwise postponed to that one's next attempt
   * (its lease, when in flight), at least minWaitMs away, so claims do not scan them again and
   * again. Settling that one wakes them (wakeDependents). Runs inside the claim's transaction.
   */
  async function resolveWaiting(q: Kysely<Database>, nowDate: Date): Promise<void> {
    const now = iso(nowDate);
    const { rows } = await q.executeQuery<{ id: number | string; dependencyStatus: string | null; dependencyNext: Date | string | null; dependencyLease: Date | string | null }>(
      CompiledQuery.raw(claimStatements.waiting, [now, waitingBatch]),
    );
    if (rows.length === 0) return;
    const failed = new Map<string, number[]>();
    const postponed = new Map<string, number[]>();
    const earliest = nowDate.getTime() + minWaitMs;
    for (const row of rows) {
      const id = Number(row.id);
      const status = row.dependencyStatus;
      if (status === null || status === 'failed' || status === 'dead') {
        const why = status === null ? 'the job it waited for does not exist' : `the job it waited for is ${status}`;
        failed.set(why, [...(failed.get(why) ?? []), id]);
      } else {
        const at = status === 'in_flight' ? row.dependencyLease : row.dependencyNext;
        const when = iso(new Date(Math.max(earliest, at === null ? 0 : toDate(at).getTime())));
        postponed.set(when, [...(postponed.get(when) ?? []), id]);
      }
    }
    for (const [why, ids] of failed) {
      const settled = await q
        .updateTable('jobs')
        .set({ status: 'failed', last_outcome: neverReportedOutcome, last_error: why, next_attempt_at: now, updated_at: now })
        .where('id', 'in', ids)
        .where('status', '=', 'pending')
        .returning('id')
        .execute();
      // no worker sends these, so no worker's hook hears of them: their write-back is handed to
      // the processes that write back to their store's platform, due now
      if (settled.length === 0) continue;
      const outcome: WriteBackOutcome = { status: 'failed', outcome: neverReportedWriteBack, reason: why };
      const stores = await q
        .selectFrom('jobs')
        .innerJoin('stores', 'stores.id', 'jobs.store_id')
        .select(['jobs.id', 'jobs.store_id', 'stores.platform'])
        .where('jobs.id', 'in', settled.map((r) => Number(r.id)))
        .execute();
      await keepWriteBacks(
        q,
        stores.map((r) => ({ jobId: Number(r.id), storeId: r.store_id, platform: r.platform })),
        { status: 'pending', step: null, outcome: JSON.stringify(outcome), attempts: 0, due_at: now, last_error: null, updated_at: now },
      );
    }
    for (const [when, ids] of postponed) {
      await q.updateTable('jobs').set({ next_attempt_at: when }).where('id', 'in', ids).where('status', '=', 'pending').execute();
    }
  }

  const store: Store = {
    dialect,

    async migrate() {
      await guard('migrate', async () => {
        await options.beforeMigrate?.();
        const migrator = new Migrator({
          db,
          provider: migrationProvider(dialect),
          ...(options.migrationTableSchema === undefined ? {} : { migrationTableSchema: options.migrationTableSchema }),
        });
        const { error, results } = await migrateToLatestLocked(db, dialect, migrator);
        if (error !== undefined) {
          const failed = results?.find((r) => r.status === 'Error')?.migrationName;
          throw new StorageError(`migration ${failed ?? '(setup)'} failed (${dialect})`, { cause: error });
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },

    // merchants and stores

    createMerchant: (m) =>
      write('createMerchant', async () => {
        await db
          .insertInto('merchants')
          .values({ id: m.id, name: m.name, agency_id: m.agencyId ?? null, created_at: iso(m.now) })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        const merchant = await store.getMerchant(m.id);
        if (!merchant) throw new StorageError(`merchant ${m.id} vanished right after it was stored`);
        return merchant;
      }),

    getMerchant: (id) =>
      guard('getMerchant', async () => {
        const row = await db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
        return row && { id: row.id, name: row.name, agencyId: row.agency_id, createdAt: toDate(row.created_at) };
      }),

    listMerchants: (filter = {}) =>
      guard('listMerchants', async () => {
        let q = db.selectFrom('merchants').selectAll().orderBy('id');
        if (filter.agencyId !== undefined) q = q.where('agency_id', '=', filter.agencyId);
        const rows = await q.execute();
        return rows.map((row): Merchant => ({ id: row.id, name: row.name, agencyId: row.agency_id, createdAt: toDate(row.created_at) }));
      }),

    deleteMerchant: (id) =>
      write('deleteMerchant', () =>
        db.transaction().execute(async (trx) => {
          const storeIds = trx.selectFrom('stores').select('id').where('merchant_id', '=', id);
          const jobIds = trx.selectFrom('jobs').select('id').where((eb) => eb.or([eb('merchant_id', '=', id), eb('store_id', 'in', storeIds)]));
          await trx.deleteFrom('attempts').where('job_id', 'in', jobIds).execute();
          await trx.deleteFrom('write_backs').where('job_id', 'in', jobIds).execute();
          await trx.deleteFrom('jobs').where((eb) => eb.or([eb('merchant_id', '=', id), eb('store_id', 'in', storeIds)])).execute();
          await trx.deleteFrom('order_links').where('store_id', 'in', storeIds).execute();
          await trx.deleteFrom('webhook_receipts').where('store_id', 'in', storeIds).execute();
          await trx.deleteFrom('unattributed_orders').where('store_id', 'in', storeIds).execute();
          await trx.deleteFrom('pending_orders').where('store_id', 'in', storeIds).execute();
          await trx.deleteFrom('captures').where('merchant_id', '=', id).execute();
          await trx.deleteFrom('offers').where('merchant_id', '=', id).execute();
          await trx.deleteFrom('merchant_domains').where('merchant_id', '=', id).execute();
          await trx.deleteFrom('stores').where('merchant_id', '=', id).execute();
          await trx.deleteFrom('merchants').where('id', '=', id).execute();
        }),
      ),

    upsertStore: (s) =>
      write('upsertStore', async () => {
        const values = {
          merchant_id: s.merchantId,
          platform: s.platform,
          domain: normalizeDomain(s.domain),
          status: s.status,
          settings: JSON.stringify(s.settings),
          secrets: s.secrets,
          updated_at: iso(s.now),
        };
        await db
          .insertInto('stores')
          .values({ id: s.id, ...values, created_at: iso(s.now) })
          .onConflict((oc) => oc.column('id').doUpdateSet(values))
          .execute();
        const stored = await store.getStore(s.id);
        if (!stored) throw new StorageError(`store ${s.id} vanished right after it was stored`);
        return stored;
      }),

    getStore: (id) =>
      guard('getStore', async () => {
        const [row] = await read<Selectable<StoresTable>>('store', [id]);
        return row && storeFromRow(row);
      }),

    findStoreByDomain: (domain) =>
      guard('findStoreByDomain', async () => {
        // an uninstalled and a reinstalled connection can share a domain: the active, newest one
        // wins. A domain has a row or two: picking here spares every webhook a sort in the database.
        const rows = await read<Selectable<StoresTable>>('storesByDomain', [normalizeDomain(domain)]);
        let best: (typeof rows)[number] | undefined;
        for (const row of rows) {
          if (best === undefined) best = row;
          else {
            const rank = (r: typeof row) => (r.status === 'active' ? 1 : 0);
            const newer = toDate(row.updated_at).getTime() > toDate(best.updated_at).getTime();
            if (rank(row) > rank(best) || (rank(row) === rank(best) && newer)) best = row;
          }
        }
        return best && storeFromRow(best);
      }),

    listStores: (merchantId) =>
      guard('listStores', async () => {
        let q = db.selectFrom('stores').selectAll().orderBy('id');
        if (merchantId !== undefined) q = q.where('merchant_id', '=', merchantId);
        return (await q.execute()).map(storeFromRow);
      }),

    deleteStore: (id) =>
      write('deleteStore', () =>
        db.transaction().execute(async (trx) => {
          await trx.deleteFrom('attempts').where('job_id', 'in', trx.selectFrom('jobs').select('id').where('store_id', '=', id)).execute();
          await trx.deleteFrom('write_backs').where('job_id', 'in', trx.selectFrom('jobs').select('id').where('store_id', '=', id)).execute();
          await trx.deleteFrom('jobs').where('store_id', '=', id).execute();
          await trx.deleteFrom('order_links').where('store_id', '=', id).execute();
          await trx.deleteFrom('webhook_receipts').where('store_id', '=', id).execute();
          await trx.deleteFrom('unattributed_orders').where('store_id', '=', id).execute();
          await trx.deleteFrom('pending_orders').where('store_id', '=', id).execute();
          await trx.deleteFrom('stores').where('id', '=', id).execute();
        }),
      ),

    patchStoreSettings: (id, patch, now) =>
      write('patchStoreSettings', async () => {
        const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
        for (const [key] of entries) settingsKeyPath(key);
        if (entries.length === 0) return store.getStore(id);
        let settings;
        if (dialect === 'postgres') {
          // jsonb: `-` drops the deleted keys, `||` replaces top-level keys (objects are not merged into)
          const deleted = entries.filter(([, v]) => v === null).map(([k]) => k);
          const set = JSON.stringify(Object.fromEntries(entries.filter(([, v]) => v !== null)));
          settings = sql<string>`((settings::jsonb - ${deleted}::text[]) || ${set}::jsonb)::text`;
        } else {
          // every patched key is removed, then the non-null ones set: a value replaces, never merges
          const removed = sql<string>`json_remove(settings, ${sql.join(entries.map(([k]) => settingsKeyPath(k)))})`;
          const set = entries.filter(([, v]) => v !== null);
          settings =
            set.length === 0 ? removed : sql<string>`json_set(${removed}, ${sql.join(set.map(([k, v]) => sql`${settingsKeyPath(k)}, json(${JSON.stringify(v)})`))})`;
        }
        const row = await db.updateTable('stores').set({ settings, updated_at: iso(now) }).where('id', '=', id).returningAll().executeTakeFirst();
        return row && storeFromRow(row);
      }),

    compareAndSetStoreSetting: (id, key, expected, next, now) =>
      write('compareAndSetStoreSetting', async () => {
        const path = settingsKeyPath(key);
        const expectedJson = JSON.stringify(expected ?? null);
        const nextValue = next === undefined ? null : next;
        let settings;
        let holds;
        if (dialect === 'postgres') {
          settings =
            nextValue === null
              ? sql<string>`(settings::jsonb - ${key}::text)::text`
              : sql<string>`(settings::jsonb || jsonb_build_object(${key}::text, ${JSON.stringify(nextValue)}::jsonb))::text`;
          holds = sql<boolean>`coalesce(settings::jsonb -> ${key}::text, 'null'::jsonb) = ${expectedJson}::jsonb`;
        } else {
          settings = nextValue === null ? sql<string>`json_remove(settings, ${path})` : sql<string>`json_set(settings, ${path}, json(${JSON.stringify(nextValue)}))`;
          // both sides through json_extract (absent and null are both SQL null), and of the same JSON
          // type (true would equal 1 otherwise; integer and real are one type, as in jsonb)
          holds = sql<boolean>`json_extract(settings, ${path}) is json_extract(${expectedJson}, '$') and ${sqliteJsonKind(sql`json_type(settings, ${path})`)} = ${sqliteJsonKind(sql`json_type(${expectedJson})`)}`;
        }
        const result = await db.updateTable('stores').set({ settings, updated_at: iso(now) }).where('id', '=', id).where(holds).executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      }),

    addDomain: (merchantId, domain) =>
      write('addDomain', async () => {
        const normalized = normalizeDomain(domain);
        if (normalized === '') return err('domain is empty');
        await db
          .insertInto('merchant_domains')
          .values({ domain: normalized, merchant_id: merchantId })
          .onConflict((oc) => oc.column('domain').doNothing())
          .execute();
        const owner = await db.selectFrom('merchant_domains').select('merchant_id').where('domain', '=', normalized).executeTakeFirst();
        return owner?.merchant_id === merchantId ? ok(undefined) : err(`domain ${normalized} already belongs to another merchant`);
      }),

    listDomains: (merchantId) =>
      guard('listDomains', async () => {
        // the merchant's own list plus each connected store's primary domain
        const own = await db.selectFrom('merchant_domains').select('domain').where('merchant_id', '=', merchantId).execute();
        const primary = await db.selectFrom('stores').select('domain').where('merchant_id', '=', merchantId).execute();
        return [...new Set([...own, ...primary].map((r) => r.domain))].toSorted();
      }),

    findMerchantByDomain: (domain) =>
      guard('findMerchantByDomain', async () => {
        const normalized = normalizeDomain(domain);
        const own = await db.selectFrom('merchant_domains').select('merchant_id').where('domain', '=', normalized).executeTakeFirst();
        if (own) return own.merchant_id;
        const viaStore = await store.findStoreByDomain(normalized);
        return viaStore?.merchantId;
      }),

    // offers

    saveOffer: (merchantId, offer, now) =>
      write('saveOffer', async () => {
        const body = JSON.stringify(offer);
        await db
          .insertInto('offers')
          .values({ merchant_id: merchantId, id: offer.id, body, created_at: iso(now), updated_at: iso(now) })
          .onConflict((oc) => oc.columns(['merchant_id', 'id']).doUpdateSet({ body, updated_at: iso(now) }))
          .execute();
      }),

    getOffer: (merchantId, offerId) =>
      guard('getOffer', async () => {
        const row = await db.selectFrom('offers').select('body').where('merchant_id', '=', merchantId).where('id', '=', offerId).executeTakeFirst();
        return row && offerFromBody(merchantId, row.body);
      }),

    listOffers: (merchantId) =>
      guard('listOffers', async () => {
        // sorted here, not by the database: see unorderedOnSqlite
        const rows = await read<{ id: string; body: string }>('offers', [merchantId]);
        return rows.toSorted((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => offerFromBody(merchantId, r.body));
      }),

    deleteOffer: (merchantId, offerId) =>
      write('deleteOffer', async () => {
        const result = await db.deleteFrom('offers').where('merchant_id', '=', merchantId).where('id', '=', offerId).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      }),

    // captures and order links

    putCapture: (c, putOptions = {}) =>
      write('putCapture', async () => {
        const parameters = [c.merchantId, c.kind, c.key, c.transactionId, c.param, JSON.stringify(c.extras), iso(c.capturedAt), c.domain, c.storeId ?? null];
        const text = putOptions.replace === true ? intakeWrites.captureReplace : intakeWrites.captureInsert;
        const result = await db.executeQuery(CompiledQuery.raw(text, parameters));
        return Number(result.numAffectedRows ?? 0n) > 0;
      }),

    getCapture: (merchantId, kind, key) =>
      guard('getCapture', async () => {
        const [row] = await read<Selectable<CapturesTable>>('capture', [merchantId, kind, key]);
        if (!row) return undefined;
        const capture: Capture = {
          merchantId: row.merchant_id,
          kind: row.kind as CaptureKind,
          key: row.key,
          transactionId: row.transaction_id,
          param: row.param,
          extras: parseJsonObject<Record<string, string>>(row.extras, 'capture extras'),
          capturedAt: toDate(row.captured_at),
          domain: row.domain,
          ...(row.store_id === null ? {} : { storeId: row.store_id }),
        };
        return capture;
      }),

    deleteCaptures: (merchantId, kind, keys) =>
      write('deleteCaptures', async () => {
        let deleted = 0;
        for (const part of chunks(keys, 500)) {
          const result = await db.executeQuery(CompiledQuery.raw(intakeWrites.captureDelete(part.length), [merchantId, kind, ...part]));
          deleted += Number(result.numAffectedRows ?? 0n);
        }
        return deleted;
      }),

    deleteStoreCaptures: (merchantId, storeId) =>
      write('deleteStoreCaptures', async () => {
        const result = await db.deleteFrom('captures').where('merchant_id', '=', merchantId).where('store_id', 'is not', null).where('store_id', '=', storeId).executeTakeFirst();
        return Number(result.numDeletedRows);
      }),

    linkOrder: (link) =>
      write('linkOrder', async () => {
        const result = await db.executeQuery(CompiledQuery.raw(intakeWrites.orderLink, [link.storeId, link.orderId, link.visitorToken, iso(link.linkedAt)]));
        return Number(result.numAffectedRows ?? 0n) > 0;
      }),

    getOrderLink: (storeId, orderId) =>
      guard('getOrderLink', async () => {
        const [row] = await read<Selectable<OrderLinksTable>>('orderLink', [storeId, orderId]);
        if (!row) return undefined;
        const link: OrderLink = { storeId: row.store_id, orderId: row.order_id, visitorToken: row.visitor_token, linkedAt: toDate(row.linked_at) };
        return link;
      }),

    deleteOrderLinks: (storeId, orderIds) =>
      write('deleteOrderLinks', async () => {
        let deleted = 0;
        for (const part of chunks(orderIds, 500)) {
          const result = await db.deleteFrom('order_links').where('store_id', '=', storeId).where('order_id', 'in', part).executeTakeFirst();
          deleted += Number(result.numDeletedRows);
        }
        return deleted;
      }),

    // orders waiting for their order-received link

    putPendingOrder: (p) =>
      write('putPendingOrder', async () => {
        await db
          .insertInto('pending_orders')
          .values({ store_id: p.storeId, order_id: p.orderId, payload: p.payload, due_at: iso(p.dueAt), created_at: iso(p.now), updated_at: iso(p.now) })
          .onConflict((oc) => oc.columns(['store_id', 'order_id']).doUpdateSet({ payload: p.payload, due_at: iso(p.dueAt), updated_at: iso(p.now) }))
          .execute();
      }),

    getPendingOrder: (storeId, orderId) =>
      guard('getPendingOrder', async () => {
        const row = await db.selectFrom('pending_orders').selectAll().where('store_id', '=', storeId).where('order_id', '=', orderId).executeTakeFirst();
        return row && pendingOrderFromRow(row);
      }),

    listDuePendingOrders: (filter) =>
      guard('listDuePendingOrders', async () => {
        let q = db
          .selectFrom('pending_orders')
          .selectAll()
          .where('due_at', '<=', iso(filter.now))
          .orderBy('due_at')
          .orderBy('store_id')
          .orderBy('order_id')
          .limit(Math.min(Math.max(1, filter.limit), maxListLimit));
        if (filter.storeId !== undefined) q = q.where('store_id', '=', filter.storeId);
        return (await q.execute()).map(pendingOrderFromRow);
      }),

    countPendingOrders: (storeId) =>
      guard('countPendingOrders', async () => {
        const row = await db.selectFrom('pending_orders').select((eb) => eb.fn.countAll().as('n')).where('store_id', '=', storeId).executeTakeFirst();
        return Number(row?.n ?? 0);
      }),

    deletePendingOrder: (storeId, orderId) =>
      write('deletePendingOrder', async () => {
        const result = await db.deleteFrom('pending_orders').where('store_id', '=', storeId).where('order_id', '=', orderId).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      }),

    // the outbox

    enqueue: (input) => {
      if (groupEnqueue) return enqueueGrouped(input);
      return write('enqueue', () => db.transaction().execute((trx) => enqueueIn(trx, enqueueStatements, input)));
    },

    claimDueJobs: (input) =>
      guard('claimDueJobs', async () => {
        if (input.limit <= 0) return [];
        const now = iso(input.now);
        // two claims, each ordered by its own index: jobs whose worker died (expired lease) first,
        // then due pending jobs; one OR-ed query would sort every due row on each claim
        const claim = async (q: Kysely<Database>) => {
          const take = async (kind: 'expired' | 'due', limit: number) => {
            const text = kind === 'expired' ? claimStatements.expired : claimStatements.due;
            const parameters = [input.workerId, iso(input.leaseUntil), now, now, limit];
            return (await q.executeQuery<Selectable<JobsTable>>(CompiledQuery.raw(text, parameters))).rows;
          };
          await resolveWaiting(q, input.now);
          const expired = await take('expired', input.limit);
          return expired.length >= input.limit ? expired : [...expired, ...(await take('due', input.limit - expired.length))];
        };
        // one transaction for both (on SQLite an IMMEDIATE one, see sqlite-store.ts)
        const rows = await relaxed((q) => inTransaction(q, claim));
        return rows
          .map(jobFromRow)
          .toSorted((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || Number(a.id) - Number(b.id));
      }),

    settleJob: (input) => guard('settleJob', () => relaxed((q) => inTransaction(q, (trx) => settleIn(trx, input)))),

    settleJobs: (inputs) =>
      guard('settleJobs', async () => {
        if (inputs.length === 0) return [];
        return relaxed((q) =>
          inTransaction(q, async (trx) => {
            const results: SettleResult[] = [];
            for (const group of chunks(inputs, settleChunk)) results.push(...(await settleGroup(trx, group)));
            return results;
          }),
        );
      }),

    releaseJobs: (input) =>
      guard('releaseJobs', async () => {
        const ids = input.ids.map(jobIdNumber).filter((n): n is number => n !== undefined);
        let released = 0;
        for (const part of chunks(ids, 500)) {
          const result = await relaxed((q) =>
            q
              .updateTable('jobs')
              .set((eb) => ({
                status: 'pending',
                locked_by: null,
                lease_until: null,
                attempts: eb('attempts', '-', 1),
                schedule_attempts: eb('schedule_attempts', '-', 1),
                updated_at: iso(input.now),
              }))
              .where('id', 'in', part)
              .where('status', '=', 'in_flight')
              .where('locked_by', '=', input.workerId)
              .executeTakeFirst(),
          );
          released += Number(result.numUpdatedRows);
        }
        return released;
      }),

    getJob: (id) =>
      guard('getJob', async () => {
        const n = jobIdNumber(id);
        if (n === undefined) return undefined;
        const row = await db.selectFrom('jobs').selectAll().where('id', '=', n).executeTakeFirst();
        return row && jobFromRow(row);
      }),

    listJobs: (filter) =>
      guard('listJobs', async () => {
        const limit = Math.min(Math.max(1, filter.limit ?? defaultListLimit), maxListLimit);
        if (filter.orderId !== undefined && filter.storeId !== undefined) {
          // one order's jobs (every webhook reads them): a handful of rows (one per offer and
          // event), sorted here, not by the database: see unorderedOnSqlite
          const { storeId, orderId, limit: _limit, ...rest } = filter;
          const plain = Object.values(rest).every((v) => v === undefined);
          const rows = plain ? await read<Selectable<JobsTable>>('orderJobs', [storeId, orderId]) : await jobQuery(db, filter).execute();
          return rows
            .map(jobFromRow)
            .toSorted((a, b) => Number(b.id) - Number(a.id))
            .slice(0, limit);
        }
        const rows = await jobQuery(db, filter).orderBy('id', 'desc').limit(limit).execute();
        return rows.map(jobFromRow);
      }),

    countJobs: (filter = {}) =>
      guard('countJobs', async () => {
        let q = db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll().as('n')]).groupBy('status');
        if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
        if (filter.storeId !== undefined) q = q.where('store_id', '=', filter.storeId);
        if (filter.offerId !== undefined) q = q.where('offer_id', '=', filter.offerId);
        const counts = Object.fromEntries(jobStatuses.map((s) => [s, 0])) as Record<JobStatus, number>;
        for (const row of await q.execute()) {
          if (isJobStatus(row.status)) counts[row.status] = Number(row.n);
        }
        return counts;
      }),

    countJobsByDay: (filter) =>
      guard('countJobsByDay', async () => {
        // created_at is UTC: SQLite keeps ISO text (its first ten characters are the day)
        const day = dialect === 'postgres' ? sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')` : sql<string>`substr(created_at, 1, 10)`;
        let q = db
          .selectFrom('jobs')
          .select([day.as('day'), 'status', (eb) => eb.fn.countAll().as('n')])
          .where('created_at', '>=', iso(filter.from))
          .where('created_at', '<', iso(filter.to))
          .groupBy([day, 'status'])
          .orderBy(day)
          .orderBy('status');
        if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
        return (await q.execute())
          .flatMap((r): JobDayCount[] => (isJobStatus(r.status) ? [{ day: r.day, status: r.status, count: Number(r.n) }] : []));
      }),

    cancelPendingJobs: (input) =>
      write('cancelPendingJobs', async () => {
        const now = iso(input.now);
        const result = await db
          .updateTable('jobs')
          .set({ status: 'failed', last_outcome: input.reason, last_error: input.reason, next_attempt_at: now, updated_at: now })
          .where('store_id', '=', input.storeId)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        return Number(result.numUpdatedRows);
      }),

    listAttempts: (jobId) =>
      guard('listAttempts', async () => {
        const n = jobIdNumber(jobId);
        if (n === undefined) return [];
        const rows = await db.selectFrom('attempts').selectAll().where('job_id', '=', n).orderBy('id').execute();
        return rows.map(attemptFromRow);
      }),

    replayJobs: (input) =>
      write('replayJobs', () =>
        db.transaction().execute(async (trx) => {
          const replayable: JobStatus[] = ['dead', 'failed'];
          const fresh = {
            status: 'pending',
            next_attempt_at: iso(input.now),
            schedule_attempts: 0,
            locked_by: null,
            lease_until: null,
            updated_at: iso(input.now),
          } as const;
          let q = trx.updateTable('jobs').set(fresh);
          if (input.ids !== undefined) {
            const ids = input.ids.map(jobIdNumber).filter((n): n is number => n !== undefined);
            if (ids.length === 0) return 0;
            q = q.where('id', 'in', ids).where('status', 'in', replayable);
          } else {
            const filter = input.filter ?? {};
            const status = filter.status ?? 'dead';
            if (!replayable.includes(status)) return 0;
            q = q.where('status', '=', statusLiteral(status));
            if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
            if (filter.storeId !== undefined) q = q.where('store_id', '=', filter.storeId);
            if (filter.offerId !== undefined) q = q.where('offer_id', '=', filter.offerId);
            if (filter.orderId !== undefined) q = q.where('order_id', '=', filter.orderId);
            if (filter.createdFrom !== undefined) q = q.where('created_at', '>=', iso(filter.createdFrom));
            if (filter.createdTo !== undefined) q = q.where('created_at', '<=', iso(filter.createdTo));
          }
          const replayed = await q.returning('idempotency_key').execute();
          // what was failed because one of these was never reported waits for it again
          let dependents = 0;
          for (const part of chunks(replayed.map((r) => r.idempotency_key), 500)) {
            const result = await trx
              .updateTable('jobs')
              .set(fresh)
              .where('status', '=', 'failed')
              .where('last_outcome', '=', neverReportedOutcome)
              .where('depends_on', 'is not', null)
              .where('depends_on', 'in', part)
              .executeTakeFirst();
            dependents += Number(result.numUpdatedRows);
          }
          return replayed.length + dependents;
        }),
      ),

    hasProcessedWebhook: (storeId, webhookId) =>
      guard('hasProcessedWebhook', async () => {
        return (await read<{ webhook_id: string }>('receipt', [storeId, webhookId])).length > 0;
      }),

    listUnattributed: (filter) =>
      guard('listUnattributed', async () => {
        let q = db
          .selectFrom('unattributed_orders as u')
          .select(['u.store_id', 'u.order_id', 'u.order_number', 'u.reason', 'u.at'])
          .orderBy('u.at', 'desc')
          .orderBy('u.order_id')
          .limit(Math.min(Math.max(1, filter.limit ?? defaultListLimit), maxListLimit));
        if (filter.storeId !== undefined) q = q.where('u.store_id', '=', filter.storeId);
        if (filter.merchantId !== undefined) {
          q = q.where('u.store_id', 'in', db.selectFrom('stores').select('id').where('merchant_id', '=', filter.merchantId));
        }
        return (await q.execute()).map(
          (r): UnattributedOrder => ({ storeId: r.store_id, orderId: r.order_id, orderNumber: r.order_number, reason: r.reason, at: toDate(r.at) }),
        );
      }),

    deferWriteBack: (input) =>
      write('deferWriteBack', async () => {
        const id = jobIdNumber(input.jobId);
        if (id === undefined) return false;
        return db.transaction().execute(async (trx) => {
          const job = await trx.selectFrom('jobs').select('id').where('id', '=', id).executeTakeFirst();
          if (!job) return false;
          await keepWriteBacks(trx, [{ jobId: id, storeId: input.storeId, platform: input.platform }], {
            status: 'pending',
            step: input.step,
            outcome: JSON.stringify(input.outcome),
            attempts: input.attempts,
            due_at: iso(input.dueAt),
            last_error: input.error.slice(0, 1_000),
            updated_at: iso(input.now),
          });
          return true;
        });
      }),

    claimDueWriteBacks: (input) =>
      guard('claimDueWriteBacks', async () => {
        if (input.limit <= 0 || input.platforms.length === 0) return [];
        return db.transaction().execute(async (trx) => {
          let due = trx
            .selectFrom('write_backs')
            .selectAll()
            .where('platform', 'in', [...input.platforms])
            .where('status', '=', sql.lit('pending'))
            .where('due_at', '<=', iso(input.now))
            .orderBy('due_at')
            .orderBy('job_id')
            .limit(input.limit);
          // PostgreSQL: rows another process is claiming right now are skipped, not waited for
          if (dialect === 'postgres') due = due.forUpdate().skipLocked();
          const rows = await due.execute();
          if (rows.length === 0) return [];
          await trx
            .updateTable('write_backs')
            .set({ due_at: iso(input.leaseUntil) })
            .where('job_id', 'in', rows.map((r) => Number(r.job_id)))
            .execute();
          return rows.map(writeBackFromRow);
        });
      }),

    finishWriteBack: (jobId) =>
      write('finishWriteBack', async () => {
        const id = jobIdNumber(jobId);
        if (id !== undefined) await db.deleteFrom('write_backs').where('job_id', '=', id).execute();
      }),

    abandonWriteBack: (input) =>
      write('abandonWriteBack', async () => {
        const id = jobIdNumber(input.jobId);
        if (id === undefined) return;
        await db
          .updateTable('write_backs')
          .set({ status: 'dead', last_error: input.error.slice(0, 1_000), updated_at: iso(input.now) })
          .where('job_id', '=', id)
          .execute();
      }),

    listWriteBacks: (filter) =>
      guard('listWriteBacks', async () => {
        let q = db.selectFrom('write_backs').selectAll();
        if (filter.merchantId !== undefined) q = q.where('store_id', 'in', db.selectFrom('stores').select('id').where('merchant_id', '=', filter.merchantId));
        if (filter.storeId !== undefined) q = q.where('store_id', '=', filter.storeId);
        if (filter.status !== undefined) q = q.where('status', '=', filter.status);
        const limit = Math.min(Math.max(1, filter.limit ?? defaultListLimit), maxListLimit);
        return (await q.orderBy('updated_at', 'desc').orderBy('job_id', 'desc').limit(limit).execute()).map(writeBackFromRow);
      }),
  };
  databases.set(store, { db, dialect, migrationTableSchema: options.migrationTableSchema });
  return store;
}
