import { createWorker } from '../delivery/worker.ts';
import { createLogger } from '../ports/logger.ts';
import { createStore } from '../storage/create-store.ts';
import { parseCountOption, type CliContext } from './cli-context.ts';

export interface WorkerCommandOptions {
  readonly batchSize?: string;
  readonly concurrency?: string;
  readonly timeoutMs?: string;
  readonly leaseMs?: string;
  readonly pollMs?: string;
  /** Send what is due, then exit. */
  readonly once?: boolean;
}

/**
 * Runs the delivery worker until SIGINT/SIGTERM, then stops gracefully (the batch in flight is
 * finished and stored). Logs as JSON lines on stdout.
 */
export async function workerCommand(ctx: CliContext, opts: WorkerCommandOptions): Promise<void> {
  const batchSize = parseCountOption('--batch-size', opts.batchSize, 100, 1_000);
  const concurrency = parseCountOption('--concurrency', opts.concurrency, 16, 256);
  const timeoutMs = parseCountOption('--timeout-ms', opts.timeoutMs, 10_000, 120_000);
  const leaseMs = opts.leaseMs === undefined ? undefined : parseCountOption('--lease-ms', opts.leaseMs, 60_000, 86_400_000);
  const pollIntervalMs = parseCountOption('--poll-ms', opts.pollMs, 1_000, 600_000);

  const logger = createLogger({ level: ctx.config.logLevel, name: 'clickthread-worker' });
  const store = createStore({ databaseUrl: ctx.config.databaseUrl, sqlitePath: ctx.config.sqlitePath, sqliteSync: ctx.config.sqliteSync });
  await store.migrate();
  const worker = createWorker({
    store,
    clock: ctx.clock,
    logger,
    batchSize,
    concurrency,
    timeoutMs,
    pollIntervalMs,
    ...(leaseMs === undefined ? {} : { leaseMs }),
    ssrf: { allowPrivate: ctx.config.allowPrivateTargets },
  });
  try {
    if (opts.once === true) {
      const summary = await worker.drain();
      logger.info({ sent: summary.claimed, ...summary }, 'nothing more is due');
      await worker.stop();
      return;
    }
    worker.start();
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'stopping: finishing the batch in flight');
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    await worker.stop();
  } finally {
    await store.close();
  }
}
