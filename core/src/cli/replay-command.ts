import type { JobStatus } from '../storage/store.ts';
import { CliFailure, withStore, type CliContext } from './cli-context.ts';
import { jobFilterOf, type LogOptions } from './log-commands.ts';

export interface ReplayOptions extends Pick<LogOptions, 'merchant' | 'offer' | 'order' | 'from' | 'to'> {
  /** Replay final failures (rejected, blocked) instead of dead letters. */
  readonly failed?: boolean;
  readonly dryRun?: boolean;
}

const pageSize = 500;
const replayChunk = 200;

/**
 * Puts dead letters (or, with --failed, final failures) back in the outbox, due now, with a fresh
 * retry schedule; a running worker sends them on its next poll. One id, or every match of the
 * filter, with progress.
 */
export async function replayCommand(ctx: CliContext, id: string | undefined, opts: ReplayOptions): Promise<void> {
  const status: JobStatus = opts.failed === true ? 'failed' : 'dead';
  const hasFilter = [opts.merchant, opts.offer, opts.order, opts.from, opts.to].some((v) => v !== undefined);
  if (id !== undefined && hasFilter) throw new CliFailure(['give either a job id or filters (--offer, --order, --from, --to, --merchant), not both']);
  if (id === undefined && !hasFilter) throw new CliFailure(['give a job id, or filters (--offer, --order, --from, --to, --merchant); replaying everything needs at least --from']);

  await withStore(ctx, async (store) => {
    if (id !== undefined) {
      const job = await store.getJob(id);
      if (!job) throw new CliFailure([`job ${id} not found`]);
      if (job.status !== 'dead' && job.status !== 'failed') throw new CliFailure([`job ${id} is ${job.status}: only dead or failed jobs are replayed`]);
      if (opts.dryRun !== true) await store.replayJobs({ ids: [id], now: ctx.clock.now() });
      ctx.output.out(`${opts.dryRun === true ? 'would replay' : 'replayed'} job ${id} (${job.offerId}, order ${job.orderId}, ${job.event})`);
      return;
    }
    const filter = jobFilterOf({ ...opts, status }, { limit: pageSize });
    // collect the matching ids first (keyset pages), then replay them in small transactions
    const ids: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listJobs({ ...filter, ...(before === undefined ? {} : { before }) });
      ids.push(...page.map((j) => j.id));
      if (page.length < pageSize) break;
      before = page.at(-1)?.id;
    }
    if (ids.length === 0) {
      ctx.output.out(`no ${status === 'dead' ? 'dead letters' : 'failed jobs'} match`);
      return;
    }
    if (opts.dryRun === true) {
      ctx.output.out(`would replay ${ids.length} job${ids.length === 1 ? '' : 's'}: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''}`);
      return;
    }
    const progress = ctx.output.progress('replaying', ids.length);
    let replayed = 0;
    for (let i = 0; i < ids.length; i += replayChunk) {
      replayed += await store.replayJobs({ ids: ids.slice(i, i + replayChunk), now: ctx.clock.now() });
      progress.tick(Math.min(i + replayChunk, ids.length));
    }
    progress.finish(`${replayed} replayed`);
    ctx.output.out(`replayed ${replayed} job${replayed === 1 ? '' : 's'}${replayed < ids.length ? ` (${ids.length - replayed} changed status meanwhile)` : ''}`);
  });
}
