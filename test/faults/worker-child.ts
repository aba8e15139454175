// A delivery worker in its own process, for the fault suite: `node test/faults/worker-child.ts`
// with CLICKTHREAD_FAULT_WORKER set to a JSON WorkerChildConfig. It prints "READY" once the worker
// runs, stops gracefully on SIGTERM, and is meant to be SIGKILLed at any moment.
import { createLogger, systemClock } from '@clickthread/core';
import { createWorker } from '@clickthread/core/delivery';
import { createPostgresStore, createSqliteStore } from '@clickthread/core/storage';

export interface WorkerChildConfig {
  readonly sqlitePath?: string;
  readonly postgres?: { readonly url: string; readonly schema: string };
  readonly workerId: string;
  readonly leaseMs: number;
  readonly timeoutMs: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly pollIntervalMs: number;
}

const raw = process.env['CLICKTHREAD_FAULT_WORKER'];
if (raw === undefined) {
  console.error('CLICKTHREAD_FAULT_WORKER is not set');
  process.exit(2);
}
const config = JSON.parse(raw) as WorkerChildConfig;
const store = config.postgres
  ? createPostgresStore({ connectionString: config.postgres.url, schema: config.postgres.schema, poolSize: 4 })
  : createSqliteStore({ path: config.sqlitePath ?? '' });
const logger = createLogger({ level: 'warn' });
const worker = createWorker({
  store,
  clock: systemClock,
  logger,
  ssrf: { allowPrivate: true },
  workerId: config.workerId,
  leaseMs: config.leaseMs,
  timeoutMs: config.timeoutMs,
  batchSize: config.batchSize,
  concurrency: config.concurrency,
  pollIntervalMs: config.pollIntervalMs,
  schedule: [200, 500, 1_000],
  jitter: 0,
});
worker.start();
process.stdout.write('READY\n');

process.once('SIGTERM', () => {
  worker
    .stop()
    .then(() => store.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
});
