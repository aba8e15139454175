import { createServer } from 'node:http';
import { join } from 'node:path';
import { prepareAdminUi } from '@clickthread/admin';
import { ConfigError, createLogger, systemClock } from '@clickthread/core';
import { createAccessStore } from '@clickthread/core/access';
import { createUndiciTransport, createWorker } from '@clickthread/core/delivery';
import { createStore } from '@clickthread/core/storage';
import { createShopifyApp } from './app/create-shopify-app.ts';
import { loadShopifyConfig } from './config/shopify-config.ts';

/**
 * The Shopify app on its own (`node src/main.ts`, or `shopify app dev` through shopify.web.toml): the
 * web server (webhooks, app proxy, the agency API and the embedded admin), the delivery worker with
 * write-back, and the reconciliation timer, on SQLite by default or PostgreSQL when DATABASE_URL says so.
 */

// Only for a configuration that cannot be read: every other line goes through the configured logger.
const startLogger = createLogger({ name: 'clickthread-shopify', level: 'info' });

async function main(): Promise<void> {
  const config = loadShopifyConfig(process.env);
  const logger = createLogger({ name: 'clickthread-shopify', level: config.logLevel });
  if (config.trustProxy === false) {
    logger.warn(
      { setting: 'CLICKTHREAD_TRUST_PROXY' },
      'trust proxy is off: the app proxy\'s per-shopper capture budget counts Shopify\'s proxy address, shared by every shopper of a shop; set it to the hops in front of the app (1: Shopify\'s proxy alone)',
    );
  }
  if (config.adminToken === undefined) {
    logger.warn({ setting: 'CLICKTHREAD_ADMIN_TOKEN' }, 'no operator token: /api/v1 accepts the embedded admin\'s session tokens and API tokens only');
  }
  const ui = await prepareAdminUi({ logger });
  const store = createStore({ databaseUrl: config.databaseUrl, sqlitePath: join(config.dataDir, 'clickthread.db'), sqliteSync: config.sqliteSync });
  await store.migrate();
  const access = createAccessStore(store);
  await access.migrate();
  if (config.allowPrivateTargets) {
    logger.warn({ setting: 'CLICKTHREAD_ALLOW_PRIVATE_TARGETS' }, 'POSTBACKS MAY GO TO LOOPBACK AND PRIVATE ADDRESSES: for local testing only');
  }
  // one transport for the worker and the API's direct test-fires: one pool, one SSRF policy
  const ssrf = { allowPrivate: config.allowPrivateTargets };
  const transport = createUndiciTransport({ ssrf });
  // the API wakes the worker, which needs the app's write-back hook: a closure ties the two
  const shopify = createShopifyApp({ config, store, clock: systemClock, logger, admin: { access, transport, ui, wakeWorker: () => worker.wake() } });
  const worker = createWorker({ store, clock: systemClock, logger, ssrf, transport, onSettled: shopify.onSettled });

  const server = createServer(shopify.app);
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  worker.start();
  shopify.writeBacks.start();
  shopify.reconciler.start();
  logger.info(
    {
      port: config.port,
      appUrl: config.appUrl.origin,
      storage: store.dialect,
      sessions: shopify.sessionStorage.kind,
      reconcileEveryMs: config.reconcileIntervalMs,
      adminUi: ui.available,
      operatorToken: config.adminToken !== undefined,
    },
    'Shopify app listening',
  );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    await worker.stop();
    await shopify.close();
    // the worker was given the transport, so closing it is ours
    await transport.close();
    await store.close();
    logger.info({}, 'stopped');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'unclean stop');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) startLogger.error({ issues: error.issues }, error.message);
  else startLogger.error({ err: error }, 'the Shopify app could not start');
  process.exitCode = 1;
});
