/**
 * The SQLite checkpointer: a worker thread with its own connection that copies the WAL into the
 * database file when the main thread asks (sqlite-store.ts, Checkpointer). A checkpoint fsyncs the
 * WAL and the database; run by the connection that commits, it would block the event loop for
 * both, every thousand pages.
 *
 * Each request runs a PASSIVE checkpoint: it never waits for readers or writers, so it copies the
 * WAL while the app keeps writing; when writes pause, it catches up and the next writer starts the
 * WAL over. Under steady writes it never quite catches up and the WAL would only grow, so once the
 * WAL holds 4000 pages (16 MB) a RESTART follows: it holds back writers (the main thread's driver
 * retries a busy BEGIN asynchronously) while it copies the few pages committed since the PASSIVE
 * one, and lets the next writer start the WAL over. It waits at most 20 ms (the connection's busy
 * timeout, in this thread) for the writer and readers of the moment; if they are not done, the
 * next request tries again.
 *
 * The thread runs this plain CommonJS source (`new Worker(source, { eval: true })`) rather than a
 * TypeScript module: loading the type-stripping loader into the thread would cost it about 12 MiB
 * more of resident memory, for a dozen lines.
 *
 * workerData: { path: the database file, driver: the resolved better-sqlite3 entry }.
 * Messages in: "checkpoint", "close". Out: { kind: "done", busy, frames, copied } or
 * { kind: "failed", message }, and "closed".
 */
export const checkpointerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 20 });
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.postMessage('closed', []);
    parentPort.close();
    return;
  }
  if (message !== 'checkpoint') return;
  try {
    let [row] = db.pragma('wal_checkpoint(PASSIVE)');
    if (row && row.log >= 4000) [row] = db.pragma('wal_checkpoint(RESTART)');
    parentPort.postMessage({ kind: 'done', busy: row ? row.busy : 0, frames: row ? row.log : 0, copied: row ? row.checkpointed : 0 }, []);
  } catch (error) {
    // SQLITE_BUSY (another checkpoint is running) included: the next request tries again
    parentPort.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }, []);
  }
});
`;
