import type { WriteBackTask } from '../storage/store.ts';
import { parseCountOption, withStore, type CliContext } from './cli-context.ts';
import { formatTable, shorten } from './cli-output.ts';

export interface WriteBacksOptions {
  readonly store?: string;
  readonly dead?: boolean;
  readonly limit?: string;
  readonly json?: boolean;
}

const time = (d: Date): string => d.toISOString().slice(0, 19).replace('T', ' ');

function rows(tasks: readonly WriteBackTask[]): string[] {
  return formatTable(
    ['JOB', 'STORE', 'PLATFORM', 'STATUS', 'TRIES', 'STEP', 'NEXT TRY', 'LAST ERROR'],
    tasks.map((t) => [t.jobId, t.storeId, t.platform, t.status, String(t.attempts), t.step ?? '', t.status === 'pending' ? time(t.dueAt) : '', shorten(t.lastError ?? '', 80)]),
  );
}

/**
 * `clickthread write-backs`: order notes and tags a store did not take, waiting for their next try
 * or (--dead) given up with the reason. A postback's own log is `clickthread log --job <id>`.
 */
export async function writeBacksCommand(ctx: CliContext, opts: WriteBacksOptions): Promise<void> {
  const limit = parseCountOption('--limit', opts.limit, 50, 10_000);
  await withStore(ctx, async (store) => {
    const tasks = await store.listWriteBacks({
      ...(opts.store === undefined ? {} : { storeId: opts.store }),
      ...(opts.dead === true ? { status: 'dead' as const } : {}),
      limit,
    });
    if (opts.json === true) {
      ctx.output.out(JSON.stringify(tasks, null, 2));
      return;
    }
    if (tasks.length === 0) {
      ctx.output.err(opts.dead === true ? 'no write-back was given up' : 'no write-back is waiting or given up');
      return;
    }
    for (const line of rows(tasks)) ctx.output.out(line);
    if (tasks.length === limit) ctx.output.err(`showing the newest ${tasks.length}; use --limit for more`);
  });
}
