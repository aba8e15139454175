import { Command } from 'commander';
import { defaultMerchantId, type CliContext } from './cli-context.ts';
import { deadLettersCommand, logCommand, type LogOptions } from './log-commands.ts';
import { offersAdd, offersExport, offersImport, offersList } from './offers-commands.ts';
import { replayCommand, type ReplayOptions } from './replay-command.ts';
import { testFire, type TestFireOptions } from './test-fire-command.ts';
import { workerCommand, type WorkerCommandOptions } from './worker-command.ts';
import { writeBacksCommand, type WriteBacksOptions } from './write-back-commands.ts';

/** The filters log, dead-letters and replay share. */
function filters(command: Command): Command {
  return command
    .option('--merchant <id>', 'only this merchant')
    .option('--offer <id>', 'only this offer')
    .option('--order <id>', 'only this order (platform order id)')
    .option('--from <time>', 'created at or after (ISO-8601)')
    .option('--to <time>', 'created at or before (ISO-8601)');
}

/**
 * The `clickthread` command line. Each action sets `exitCode` for main.ts; failures the user can
 * fix are thrown as CliFailure and printed without a stack.
 */
export function buildProgram(ctx: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command('clickthread')
    .description('Server-to-server affiliate postbacks for Shopify and WooCommerce stores.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.output.out(s.trimEnd()), writeErr: (s) => ctx.output.err(s.trimEnd()) });

  program
    .command('worker')
    .description('send due postbacks until stopped (SIGINT/SIGTERM stop gracefully)')
    .option('--batch-size <n>', 'jobs claimed at once (default 100)')
    .option('--concurrency <n>', 'sends in flight at once (default 16)')
    .option('--timeout-ms <ms>', 'per-send timeout (default 10000)')
    .option('--lease-ms <ms>', 'how long a claim lasts before another worker may take the job over')
    .option('--poll-ms <ms>', 'pause between polls when nothing is due (default 1000)')
    .option('--once', 'send everything due now, then exit')
    .action((opts: WorkerCommandOptions) => workerCommand(ctx, opts));

  const offers = program.command('offers').description('manage offers (JSON validated by the offer schema)');
  offers
    .command('list')
    .description("list a merchant's offers")
    .option('--merchant <id>', 'merchant', defaultMerchantId)
    .option('--json', 'print the offers as JSON')
    .action((opts: { merchant: string; json?: boolean }) => offersList(ctx, opts));
  offers
    .command('add <file>')
    .description('add one offer from a JSON file')
    .option('--merchant <id>', 'merchant', defaultMerchantId)
    .option('--replace', 'overwrite an offer with the same id')
    .action((file: string, opts: { merchant: string; replace?: boolean }) => offersAdd(ctx, file, opts));
  offers
    .command('import <file>')
    .description('import offers from a JSON file (an array, or {"offers": [...]}); all or nothing')
    .option('--merchant <id>', 'merchant', defaultMerchantId)
    .option('--replace', 'overwrite offers with the same ids')
    .action((file: string, opts: { merchant: string; replace?: boolean }) => offersImport(ctx, file, opts));
  offers
    .command('export')
    .description('export offers as JSON ({"offers": [...]}, accepted by import)')
    .option('--merchant <id>', 'merchant', defaultMerchantId)
    .option('--out <file>', 'write to a file instead of stdout')
    .action((opts: { merchant: string; out?: string }) => offersExport(ctx, opts));

  program
    .command('test-fire <offer>')
    .description("render the offer's postback for a sample order and send it now; prints the request and the classified answer")
    .option('--order <order>', 'the order to render with', 'sample')
    .option('--event <event>', 'sale, lead, first_order, refund or cancel', 'sale')
    .option('--transaction-id <id>', 'a real transaction ID from a test click (default: an obviously fake one)')
    .option('--order-id <id>', 'order id to send')
    .option('--amount <amount>', 'order amount', '49.90')
    .option('--currency <code>', 'currency', 'USD')
    .option('--timeout-ms <ms>', 'timeout', '10000')
    .option('--merchant <id>', 'merchant', defaultMerchantId)
    .option('--show-secrets', 'print the URL and headers without redacting tokens')
    .action(async (offer: string, opts: TestFireOptions) => setExitCode(await testFire(ctx, offer, opts)));

  filters(program.command('log').description('the postback log, newest first'))
    .option('--status <status>', 'pending, in_flight, succeeded, failed or dead')
    .option('--limit <n>', 'how many (default 50)')
    .option('--job <id>', 'one job with every attempt')
    .option('--json', 'print JSON (URLs redacted)')
    .action((opts: LogOptions) => logCommand(ctx, opts));

  filters(program.command('dead-letters').description('postbacks that gave up after the retry schedule'))
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON (URLs redacted)')
    .action((opts: LogOptions) => deadLettersCommand(ctx, opts));

  filters(program.command('replay [id]').description('put dead letters back in the outbox (one id, or every match of the filters)'))
    .option('--failed', 'replay final failures (rejected, blocked) instead of dead letters')
    .option('--dry-run', 'show what would be replayed')
    .action((id: string | undefined, opts: ReplayOptions) => replayCommand(ctx, id, opts));

  program
    .command('write-backs')
    .description('order notes and tags a store did not take: waiting for their next try, or given up with the reason')
    .option('--store <id>', 'only this store (Shopify shop or Woo connection id)')
    .option('--dead', 'only those given up')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON')
    .action((opts: WriteBacksOptions) => writeBacksCommand(ctx, opts));

  return program;
}
