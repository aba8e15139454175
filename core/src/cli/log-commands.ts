import { redactUrl } from '../delivery/redact-url.ts';
import { isJobStatus, jobStatuses, type JobFilter, type JobStatus, type PostbackJob } from '../storage/store.ts';
import { CliFailure, parseCountOption, parseTimeOption, withStore, type CliContext } from './cli-context.ts';
import { formatTable, shorten } from './cli-output.ts';

export interface LogOptions {
  readonly merchant?: string;
  readonly offer?: string;
  readonly order?: string;
  readonly status?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
  readonly job?: string;
  readonly json?: boolean;
}

export function jobFilterOf(opts: LogOptions, forced: Partial<JobFilter> = {}): JobFilter {
  const problems: string[] = [];
  if (opts.status !== undefined && !isJobStatus(opts.status)) problems.push(`--status: "${opts.status}" must be one of ${jobStatuses.join(', ')}`);
  let from: Date | undefined;
  let to: Date | undefined;
  let limit = 50;
  for (const check of [
    () => (from = parseTimeOption('--from', opts.from)),
    () => (to = parseTimeOption('--to', opts.to)),
    () => (limit = parseCountOption('--limit', opts.limit, 50, 10_000)),
  ]) {
    try {
      check();
    } catch (error) {
      if (error instanceof CliFailure) problems.push(...error.lines);
      else throw error;
    }
  }
  if (problems.length > 0) throw new CliFailure(problems);
  return {
    ...(opts.merchant === undefined ? {} : { merchantId: opts.merchant }),
    ...(opts.offer === undefined ? {} : { offerId: opts.offer }),
    ...(opts.order === undefined ? {} : { orderId: opts.order }),
    ...(opts.status === undefined ? {} : { status: opts.status as JobStatus }),
    ...(from === undefined ? {} : { createdFrom: from }),
    ...(to === undefined ? {} : { createdTo: to }),
    limit,
    ...forced,
  };
}

function jobRows(jobs: readonly PostbackJob[]): string[] {
  return formatTable(
    ['ID', 'CREATED', 'OFFER', 'ORDER', 'EVENT', 'STATUS', 'TRIES', 'NEXT', 'LAST OUTCOME'],
    jobs.map((j) => [
      j.id,
      j.createdAt.toISOString().slice(0, 19).replace('T', ' '),
      j.offerId,
      j.orderNumber === '' ? j.orderId : `${j.orderId} ${j.orderNumber}`,
      j.event,
      j.status,
      String(j.attempts),
      j.status === 'pending' ? j.nextAttemptAt.toISOString().slice(0, 19).replace('T', ' ') : '',
      shorten(j.lastOutcome, 70),
    ]),
  );
}

async function showJob(ctx: CliContext, id: string, json: boolean): Promise<void> {
  await withStore(ctx, async (store) => {
    const job = await store.getJob(id);
    if (!job) throw new CliFailure([`job ${id} not found`]);
    const attempts = await store.listAttempts(id);
    if (json) {
      // the stored URL carries the network's token; the log shows it redacted, as the attempts do
      ctx.output.out(JSON.stringify({ job: { ...job, url: redactUrl(job.url) }, attempts }, null, 2));
      return;
    }
    for (const line of jobRows([job])) ctx.output.out(line);
    ctx.output.out('');
    ctx.output.out(`transaction ID ${job.transactionId} (from ${job.idSource}), ${job.amount} ${job.currency}${job.test ? ', test order' : ''}`);
    for (const a of attempts) {
      ctx.output.out(
        `#${a.attempt} ${a.startedAt.toISOString()} ${a.outcome}${a.status === null ? '' : ` HTTP ${a.status}`} ${a.latencyMs} ms ${a.errorClass ?? ''}`.trimEnd(),
      );
      ctx.output.out(`   ${a.requestUrl}`);
      if (a.detail) ctx.output.out(`   ${shorten(a.detail, 200)}`);
      if (a.responseBody !== '') ctx.output.out(`   body: ${shorten(a.responseBody, 200)}`);
    }
  });
}

export async function logCommand(ctx: CliContext, opts: LogOptions): Promise<void> {
  if (opts.job !== undefined) {
    await showJob(ctx, opts.job, opts.json === true);
    return;
  }
  const filter = jobFilterOf(opts);
  await withStore(ctx, async (store) => {
    const jobs = await store.listJobs(filter);
    if (opts.json === true) {
      ctx.output.out(JSON.stringify(jobs.map((j) => ({ ...j, url: redactUrl(j.url) })), null, 2));
      return;
    }
    if (jobs.length === 0) {
      ctx.output.err('no postbacks match');
      return;
    }
    for (const line of jobRows(jobs)) ctx.output.out(line);
    if (jobs.length === filter.limit) ctx.output.err(`showing the newest ${jobs.length}; use --limit for more`);
  });
}

export async function deadLettersCommand(ctx: CliContext, opts: LogOptions): Promise<void> {
  await logCommand(ctx, { ...opts, status: 'dead' });
}
