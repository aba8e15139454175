import { mkdirSync } from 'node:fs';
import { z } from 'zod';
import { createRequire } from 'node:module';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { StorageError } from '../shared/errors.ts';
import { err, ok, type Result } from '../shared/result.ts';
import type { Database } from './database.ts';
import { createKyselyStore } from './kysely-store.ts';
import { checkpointerSource } from './sqlite-checkpointer.ts';
import type { Store } from './store.ts';

/**
 * The embedded default: one SQLite file (WAL) under ./data/.
 *
 * better-sqlite3 is synchronous: whatever a statement waits for, the event loop waits for. Three
 * things keep that short: a commit's fsync never runs on the loop (see SqliteSync and WalSyncer),
 * checkpoints run on a thread of their own (Checkpointer), and concurrent enqueues share one
 * transaction (kysely-store.ts, groupEnqueue).
 *
 * Kysely's stock SQLite driver is replaced by a small one for three reasons:
 * - every transaction starts with BEGIN IMMEDIATE, so it takes the write lock up front and a claim
 *   can never interleave with another writer's claim (a DEFERRED transaction could fail with
 *   SQLITE_BUSY halfway, after reading);
 * - a busy database is waited for asynchronously. better-sqlite3 is synchronous, so its own
 *   busy_timeout would block the event loop, including the other connection in the same process
 *   that holds the lock and needs the loop to finish its transaction: a deadlock until the timeout.
 *   Here busy_timeout is 0 and a statement that could not start (autocommit, or BEGIN) is retried
 *   after a short async pause, until `busyTimeoutMs`;
 * - it tells the WalSyncer when a commit reached the WAL.
 */

function isBusy(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_BUSY');
}

/** Distinct statements kept prepared; Kysely emits the same text for the same query shape. */
const statementCacheSize = 256;

class RetryingSqliteConnection implements DatabaseConnection {
  readonly #db: BetterSqlite3.Database;
  readonly #busyTimeoutMs: number;
  readonly #onCommit: () => void;
  // preparing costs more than running a small statement: the worker runs the same few all day
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  constructor(db: BetterSqlite3.Database, busyTimeoutMs: number, onCommit: () => void) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#onCommit = onCommit;
  }

  #prepare(text: string): BetterSqlite3.Statement {
    let stmt = this.#statements.get(text);
    if (stmt === undefined) {
      if (this.#statements.size >= statementCacheSize) this.#statements.clear();
      stmt = this.#db.prepare(text);
      this.#statements.set(text, stmt);
    }
    return stmt;
  }

  #run<R>(compiled: CompiledQuery): QueryResult<R> {
    const stmt = this.#prepare(compiled.sql);
    const parameters = compiled.parameters as unknown[];
    const wasInTransaction = this.#db.inTransaction;
    let result: QueryResult<R>;
    let changed: boolean;
    if (stmt.reader) {
      const rows = stmt.all(...parameters) as R[];
      result = { rows };
      changed = !stmt.readonly && rows.length > 0;
    } else {
      const { changes, lastInsertRowid } = stmt.run(...parameters);
      result = { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
      changed = !stmt.readonly && changes > 0;
    }
    // Something new reached the WAL: a transaction ended (COMMIT counts as read-only to SQLite; a
    // ROLLBACK counted too only costs a flush), or a write outside a transaction changed rows (an
    // insert that did nothing, say a link that exists, writes nothing and needs no flush).
    if (wasInTransaction ? !this.#db.inTransaction : changed && !this.#db.inTransaction) this.#onCommit();
    return result;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const deadline = performance.now() + this.#busyTimeoutMs;
    let pause = 1;
    for (;;) {
      try {
        return this.#run<R>(compiled);
      } catch (error) {
        // inside a transaction the statement may have had effects: only a statement that could not start is retried
        if (!isBusy(error) || this.#db.inTransaction || performance.now() >= deadline) throw error;
      }
      await sleep(pause);
      // the usual holder is this process's checkpointer thread, for a few ms: look again soon; a
      // failed BEGIN costs microseconds, so even a long hold by another process polls cheaply
      pause = Math.min(pause * 2, 4);
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.#db.prepare(compiled.sql);
    for (const row of stmt.iterate(...(compiled.parameters as unknown[]))) yield { rows: [row as R] };
  }
}

class ImmediateSqliteDriver implements Driver {
  readonly #connection: RetryingSqliteConnection;
  readonly #db: BetterSqlite3.Database;
  readonly #onDestroy: () => Promise<void>;
  constructor(db: BetterSqlite3.Database, busyTimeoutMs: number, onCommit: () => void, onDestroy: () => Promise<void>) {
    this.#db = db;
    this.#onDestroy = onDestroy;
    this.#connection = new RetryingSqliteConnection(db, busyTimeoutMs, onCommit);
  }
  async init(): Promise<void> {}
  // one connection; Kysely serializes its use because the adapter says it has no pool
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {
    await this.#onDestroy();
    this.#db.close();
  }
}

/** SQLite does run DDL in transactions; saying so lets Kysely's migrator wrap each run in one. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

function immediateSqliteDialect(db: BetterSqlite3.Database, busyTimeoutMs: number, commits: { noteCommit(): void; close(): Promise<void> }): Dialect {
  return {
    createDriver: (): Driver => new ImmediateSqliteDriver(db, busyTimeoutMs, () => commits.noteCommit(), () => commits.close()),
    createQueryCompiler: (): QueryCompiler => new SqliteQueryCompiler(),
    createAdapter: (): DialectAdapter => new TransactionalDdlSqliteAdapter(),
    createIntrospector: (kysely: Kysely<unknown>): DatabaseIntrospector => new SqliteIntrospector(kysely),
  };
}

/**
 * How durable a commit is before the caller hears of it (CLICKTHREAD_SQLITE_SYNC).
 *
 * - `full` (default): "answered ⇒ on disk", even across a power cut. Every write the Store
 *   acknowledges (an enqueue before its webhook gets 200, a capture, a link) has had its WAL
 *   fsynced. The fsync runs on libuv's thread pool, not on the event loop, and is shared by every
 *   commit made meanwhile; a request waits about one disk flush (0.5–20 ms depending on the disk),
 *   but other requests go on being served during it.
 * - `normal`: SQLite's synchronous=NORMAL in WAL mode. A commit is in the OS page cache when it is
 *   acknowledged: it survives the process being killed (kill -9, a crash, a deploy), not a power cut
 *   or kernel panic, which may lose the last seconds of commits (the database stays consistent).
 *   Lost orders come back through reconciliation (Shopify and Woo both poll orders modified since
 *   the cursor, and the cursor is lost with them); lost captures and order-received links do not,
 *   so those orders may end up unattributed. Choose it when the disk's fsync is slow and the
 *   latency of each webhook matters more than that window.
 *
 * The worker's bookkeeping (claim, settle, release) never waits for a flush in either mode: losing
 * it to a power cut only makes a job be sent again, with the same order ID.
 */
export type SqliteSync = 'full' | 'normal';

export const sqliteSyncModes: readonly SqliteSync[] = ['full', 'normal'];

export const defaultSqliteSync: SqliteSync = 'full';

/** Parses CLICKTHREAD_SQLITE_SYNC (unset or empty: the default). */
export function parseSqliteSync(value: string | undefined): Result<SqliteSync> {
  if (value === undefined || value.trim() === '') return ok(defaultSqliteSync);
  const mode = value.trim().toLowerCase();
  return (sqliteSyncModes as readonly string[]).includes(mode)
    ? ok(mode as SqliteSync)
    : err(`CLICKTHREAD_SQLITE_SYNC must be one of ${sqliteSyncModes.join(', ')} (got "${value}")`);
}

/**
 * CLICKTHREAD_SQLITE_SYNC as a field of an app's zod environment schema (each app validates its
 * whole environment at once): unset → the default, a bad value → one issue under the variable.
 */
export const sqliteSyncEnvField = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const parsed = parseSqliteSync(value);
    if (parsed.ok) return parsed.value;
    // the issue's path already names the variable: don't say it twice
    ctx.addIssue({ code: 'custom', message: parsed.reason.replace(/^CLICKTHREAD_SQLITE_SYNC /, '') });
    return z.NEVER;
  });

/**
 * Makes commits durable off the event loop. The connection runs with synchronous=NORMAL, so a
 * commit only writes the WAL; `sync()` then fsyncs the WAL file through a file handle of our own
 * (fsync flushes the file, whichever descriptor wrote it) on libuv's thread pool. One fsync covers
 * every commit made before it started, so concurrent writers share it (group commit at the disk),
 * and the next transactions run while it is in progress; a commit made after a flush started gets
 * one of its own at once (two at most in flight). After a crash SQLite replays the WAL up
 * to its last complete commit: a commit whose frames were fsynced is there, exactly as with
 * synchronous=FULL. (A checkpoint syncs the WAL before copying it and the database after, and the
 * WAL only restarts once all of it is in the database, so nothing synced is ever overwritten.)
 */
const maxParallelFlushes = 2;

class WalSyncer {
  readonly #walPath: string | undefined;
  readonly #syncFile: (handle: FileHandle) => Promise<void>;
  #handle: Promise<FileHandle> | undefined;
  #committed = 0;
  #synced = 0;
  /** Flushes in progress, each with the commit count it covers (everything committed before it started). */
  readonly #flights: Array<{ readonly upTo: number; readonly done: Promise<void> }> = [];
  constructor(walPath: string | undefined, syncFile: (handle: FileHandle) => Promise<void>) {
    this.#walPath = walPath;
    this.#syncFile = syncFile;
  }

  noteCommit(): void {
    this.#committed += 1;
  }

  /** Resolves once everything committed before the call is on disk (at once when there is no WAL to sync). */
  async sync(): Promise<void> {
    const walPath = this.#walPath;
    if (walPath === undefined) return;
    const target = this.#committed;
    while (this.#synced < target) {
      const covering = this.#flights.find((f) => f.upTo >= target);
      if (covering !== undefined) {
        await covering.done;
        continue;
      }
      // the flushes running started before our commit: start one of our own rather than wait for
      // them to end first (a request with several writes would wait two flushes per write), but
      // never more than two at once
      if (this.#flights.length < maxParallelFlushes) {
        await this.#start(walPath).done;
        continue;
      }
      await Promise.race(this.#flights.map((f) => f.done.catch(() => {})));
    }
  }

  #start(walPath: string): { readonly upTo: number; readonly done: Promise<void> } {
    const upTo = this.#committed;
    const flight = {
      upTo,
      done: this.#flush(walPath, upTo).finally(() => {
        const at = this.#flights.indexOf(flight);
        if (at >= 0) this.#flights.splice(at, 1);
      }),
    };
    this.#flights.push(flight);
    return flight;
  }

  async #flush(walPath: string, upTo: number): Promise<void> {
    try {
      this.#handle ??= open(walPath, 'r+');
      await this.#syncFile(await this.#handle);
    } catch (cause) {
      const handle = this.#handle;
      this.#handle = undefined;
      await handle?.then((h) => h.close()).catch(() => {});
      throw new StorageError(`could not flush the SQLite WAL ${walPath} to disk`, { cause });
    }
    this.#synced = Math.max(this.#synced, upTo);
  }

  async close(): Promise<void> {
    await Promise.all(this.#flights.map((f) => f.done.catch(() => {})));
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.then((h) => h.close());
  }
}

/**
 * Past this many WAL pages the committing connection checkpoints by itself, on the event loop:
 * only when the checkpointer thread is not keeping up or failed (SQLite's own default is 1000).
 */
const fallbackAutocheckpointPages = 10_000;
const defaultCheckpointIntervalMs = 500;

/** The better-sqlite3 this module uses, for the checkpointer thread to load the same one. */
function betterSqlite3Entry(): string {
  return createRequire(import.meta.url).resolve('better-sqlite3');
}

/**
 * Runs checkpoints on a worker thread (sqlite-checkpointer.ts; about 16 MiB of resident memory
 * once started), so their fsyncs never stall the event loop: every `intervalMs` in which something
 * was committed, the thread is asked for a checkpoint (one request at a time). Started at the first such tick, so a short-lived
 * store (a CLI command, a test) never starts it. If the thread fails, the connection goes back to
 * checkpointing by itself every 1000 pages.
 */
class Checkpointer {
  readonly #path: string;
  readonly #onFailure: () => void;
  readonly #timer: NodeJS.Timeout;
  #worker: Worker | undefined;
  #dirty = false;
  #inFlight = false;
  #failed = false;
  #closed = false;
  constructor(path: string, intervalMs: number, onFailure: () => void) {
    this.#path = path;
    this.#onFailure = onFailure;
    this.#timer = setInterval(() => this.#tick(), intervalMs);
    this.#timer.unref();
  }

  noteCommit(): void {
    this.#dirty = true;
  }

  #fail(): void {
    if (this.#failed) return;
    this.#failed = true;
    clearInterval(this.#timer);
    this.#onFailure();
  }

  #tick(): void {
    if (!this.#dirty || this.#inFlight || this.#failed || this.#closed) return;
    this.#dirty = false;
    this.#inFlight = true;
    this.#thread().postMessage('checkpoint', []);
  }

  #thread(): Worker {
    if (this.#worker === undefined) {
      const worker = new Worker(checkpointerSource, {
        eval: true,
        workerData: { path: this.#path, driver: betterSqlite3Entry() },
        // it holds one connection and runs two pragmas: a small heap is plenty
        resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
      });
      worker.unref();
      worker.on('message', () => {
        this.#inFlight = false;
      });
      worker.on('error', () => this.#fail());
      worker.on('exit', () => {
        if (!this.#closed) this.#fail();
      });
      this.#worker = worker;
    }
    return this.#worker;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const worker = this.#worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close', []);
    const timer = setTimeout(() => void worker.terminate(), 2_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface SqliteStoreOptions {
  /** The database file; created with its directory when missing. ":memory:" for a throwaway store. */
  readonly path: string;
  /** How long a statement waits for another process's write lock before failing (ms, default 10 s). */
  readonly busyTimeoutMs?: number;
  /** Durability of acknowledged writes (see SqliteSync); default `full`. */
  readonly sync?: SqliteSync;
  /** How the WAL file is flushed (tests count the calls); default `handle.sync()` (fsync). */
  readonly syncFile?: (handle: FileHandle) => Promise<void>;
  /**
   * Gathers concurrent enqueues into one transaction (default true; see KyselyStoreOptions.groupEnqueue).
   * Off only to measure what it brings.
   */
  readonly groupEnqueue?: boolean;
  /** How often the checkpointer thread is asked to checkpoint (ms, default 500); 0: SQLite checkpoints on commit, on the event loop. */
  readonly checkpointIntervalMs?: number;
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const database = new BetterSqlite3(options.path, { timeout: 0 });
  const wal = String(database.pragma('journal_mode = WAL', { simple: true })).toLowerCase() === 'wal';
  const sync = options.sync ?? defaultSqliteSync;
  // With a WAL, commits never fsync on the event loop: `full` flushes the WAL on the thread pool
  // (WalSyncer) before a write is acknowledged. Without one (":memory:", a file system without
  // shared memory) there is nothing to flush apart, so SQLite does it itself in `full`.
  database.pragma(wal || sync === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
  database.pragma('foreign_keys = ON');
  const syncer = new WalSyncer(wal && sync === 'full' ? `${resolvePath(options.path)}-wal` : undefined, options.syncFile ?? ((handle) => handle.sync()));
  const intervalMs = options.checkpointIntervalMs ?? defaultCheckpointIntervalMs;
  let checkpointer: Checkpointer | undefined;
  if (wal && intervalMs > 0) {
    database.pragma(`wal_autocheckpoint = ${fallbackAutocheckpointPages}`);
    checkpointer = new Checkpointer(resolvePath(options.path), intervalMs, () => {
      if (database.open) database.pragma('wal_autocheckpoint = 1000');
    });
  }
  const commits = {
    noteCommit(): void {
      syncer.noteCommit();
      checkpointer?.noteCommit();
    },
    async close(): Promise<void> {
      await checkpointer?.close();
      await syncer.close();
    },
  };
  const db = new Kysely<Database>({ dialect: immediateSqliteDialect(database, options.busyTimeoutMs ?? 10_000, commits) });
  return createKyselyStore({
    db,
    dialect: 'sqlite',
    durable: () => syncer.sync(),
    groupEnqueue: options.groupEnqueue ?? true,
  });
}
