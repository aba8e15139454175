import { fileURLToPath } from 'node:url';
import { ConfigError, createLogger, systemClock, type Clock, type Logger } from '@clickthread/core';
import { Command, CommanderError } from 'commander';
import { loadBridgeConfig } from './config/bridge-config.ts';
import { createBridge } from './create-bridge.ts';
import type { WooRestApiFactory } from './rest/woo-rest-api.ts';
import { openBridgeStore } from './start-bridge.ts';

/**
 * `clickthread-woo`: the WooCommerce side of the `clickthread connections` commands (core's CLI
 * cannot import the bridge). Same configuration as the service (CLICKTHREAD_SECRET_KEY,
 * DATABASE_URL / CLICKTHREAD_DATA_DIR, CLICKTHREAD_WOO_PUBLIC_URL).
 *
 *   node woocommerce-bridge/src/cli.ts connections add --merchant m1 --url https://shop.example --key ck_… [--secret cs_…]
 *   node woocommerce-bridge/src/cli.ts connections list [--merchant m1] [--json]
 *   node woocommerce-bridge/src/cli.ts connections remove <id> [--force]
 *   node woocommerce-bridge/src/cli.ts reconcile [--connection <id>]
 *
 * The consumer secret may come from WOO_CONSUMER_SECRET instead of --secret, to keep it out of
 * the shell history and the process list.
 */

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly wooClientFactory?: WooRestApiFactory;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const fail = (message: string, code = 1): void => {
    io.err(`error: ${message}`);
    exitCode = code;
  };

  // Opens the store and the bridge for one command, and always closes them.
  const withBridge = async (task: (ctx: ReturnType<typeof createBridge> & { store: ReturnType<typeof openBridgeStore> }) => Promise<void>): Promise<void> => {
    const config = loadBridgeConfig(io.env);
    const logger = io.logger ?? createLogger({ level: io.env['CLICKTHREAD_LOG_LEVEL'] ?? 'warn', name: 'clickthread-woo' });
    for (const notice of config.notices) io.err(`note: ${notice}`);
    const store = openBridgeStore(config);
    await store.migrate();
    const bridge = createBridge({ config, store, clock: io.clock ?? systemClock, logger, ...(io.wooClientFactory ? { wooClientFactory: io.wooClientFactory } : {}) });
    try {
      await task({ ...bridge, store });
    } finally {
      await bridge.close();
      await store.close();
    }
  };

  const program = new Command('clickthread-woo')
    .description('WooCommerce connections of the Clickthread bridge')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const connections = program.command('connections').description('connect, list and remove WooCommerce stores');

  connections
    .command('add')
    .description('check the REST keys, then create the bridge webhooks on the store (safe to run again)')
    .requiredOption('--merchant <id>', 'merchant id the store belongs to')
    .option('--merchant-name <name>', 'create the merchant with this name when it does not exist')
    .requiredOption('--url <url>', 'the store URL, e.g. https://shop.example')
    .requiredOption('--key <consumerKey>', 'REST consumer key (ck_…), Read/Write')
    .option('--secret <consumerSecret>', 'REST consumer secret (cs_…); default: $WOO_CONSUMER_SECRET')
    .option('--meta-key <key>', 'order meta key holding a transaction ID (repeatable)', collect, [])
    .option('--test-source <createdVia>', 'created_via value treated as a test order (repeatable; default admin)', collect, [])
    .action(async (opts: { merchant: string; merchantName?: string; url: string; key: string; secret?: string; metaKey: string[]; testSource: string[] }) => {
      const secret = opts.secret ?? io.env['WOO_CONSUMER_SECRET'];
      if (secret === undefined || secret === '') return fail('the consumer secret is required: --secret or WOO_CONSUMER_SECRET', 2);
      await withBridge(async ({ connections: service, store }) => {
        if (opts.merchantName !== undefined) await store.createMerchant({ id: opts.merchant, name: opts.merchantName, now: (io.clock ?? systemClock).now() });
        io.out(`checking ${opts.url} …`);
        const result = await service.connectStore({
          url: opts.url,
          consumerKey: opts.key,
          consumerSecret: secret,
          merchantId: opts.merchant,
          ...(opts.metaKey.length > 0 ? { idMetaKeys: opts.metaKey } : {}),
          ...(opts.testSource.length > 0 ? { testSources: opts.testSource } : {}),
        });
        if (!result.ok) return fail(result.reason);
        const { connection, created, deliveryUrl, webhooks } = result.value;
        io.out(`${created ? 'connected' : 'already connected, checked'}: ${connection.id} (${connection.domain}) for merchant ${connection.merchantId}`);
        io.out(`webhooks → ${deliveryUrl}`);
        const made: readonly string[] = webhooks.created;
        const reactivated: readonly string[] = webhooks.reactivated;
        for (const [topic, id] of Object.entries(webhooks.ids)) {
          const state = made.includes(topic) ? 'created' : reactivated.includes(topic) ? 're-activated' : 'kept';
          io.out(`  ${topic.padEnd(15)} #${id} ${state}`);
        }
        if (webhooks.removedDuplicates > 0) io.out(`  removed ${webhooks.removedDuplicates} duplicate webhook(s)`);
        io.out('Woo pings each new webhook: the bridge service must be reachable at that URL for the ping to pass (the webhook stays active either way).');
      });
    });

  connections
    .command('list')
    .description('list WooCommerce connections (no secrets)')
    .option('--merchant <id>', 'only this merchant')
    .option('--json', 'print JSON')
    .action(async (opts: { merchant?: string; json?: boolean }) => {
      await withBridge(async ({ connections: service }) => {
        const list = await service.listConnections(opts.merchant);
        if (opts.json) return io.out(JSON.stringify(list, null, 2));
        if (list.length === 0) return io.out('no WooCommerce connections');
        for (const c of list) {
          const last = c.lastReconcile ? `last reconcile ${c.lastReconcile.at} (${c.lastReconcile.orders} orders${c.lastReconcile.error ? `, error: ${c.lastReconcile.error}` : ''})` : 'never reconciled';
          io.out(`${c.id}  ${c.status.padEnd(8)} ${c.merchantId}  ${c.storeUrl}  webhooks ${Object.keys(c.webhookIds).length}/4  pending ${c.pendingOrders}  ${last}`);
        }
      });
    });

  connections
    .command('remove <id>')
    .description("delete the bridge's webhooks on the store, then the connection")
    .option('--force', 'remove the connection even when the store cannot be reached')
    .action(async (id: string, opts: { force?: boolean }) => {
      await withBridge(async ({ connections: service }) => {
        const result = await service.removeConnection(id, { force: opts.force === true });
        if (!result.ok) return fail(result.reason);
        for (const warning of result.value.warnings) io.err(`warning: ${warning}`);
        io.out(`removed ${id} (${result.value.webhooksDeleted} webhook(s) deleted in WooCommerce)`);
      });
    });

  program
    .command('reconcile')
    .description('poll orders modified since the last run, resolve waiting orders, re-enable webhooks')
    .option('--connection <id>', 'only this connection')
    .action(async (opts: { connection?: string }) => {
      await withBridge(async ({ reconciler }) => {
        const reports = await reconciler.runOnce({
          ...(opts.connection === undefined ? {} : { connectionId: opts.connection }),
          onProgress: (p) => io.out(`  ${p.connectionId}: page ${p.page}/${p.totalPages}, ${p.orders} order(s)`),
        });
        if (reports.length === 0) return fail(opts.connection === undefined ? 'no active WooCommerce connection' : `no active connection ${opts.connection}`);
        for (const r of reports) {
          const restored = [...r.reenabledWebhooks, ...r.recreatedWebhooks];
          io.out(
            `${r.connectionId}: ${r.ok ? 'ok' : 'ERROR'} — ${r.orders} order(s), ${r.resolvedPending} waiting order(s) resolved, ` +
              `${restored.length === 0 ? 'webhooks fine' : `webhooks restored: ${restored.join(', ')}`}, cursor ${r.cursor ?? '-'}` +
              (r.error ? `\n  ${r.error}` : ''),
          );
          if (!r.ok) exitCode = 1;
        }
      });
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }
  return exitCode;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const code = await runCli(process.argv.slice(2), { env: process.env, out: (l) => console.log(l), err: (l) => console.error(l) });
  process.exit(code);
}
