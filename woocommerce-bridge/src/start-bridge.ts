import type { Server } from 'node:http';
import { join } from 'node:path';
import { prepareAdminUi } from '@clickthread/admin';
import { createLogger, systemClock, type Clock, type Logger } from '@clickthread/core';
import { createAccessStore } from '@clickthread/core/access';
import { createUndiciTransport, createWorker, type Worker } from '@clickthread/core/delivery';
import { createStore, type Store } from '@clickthread/core/storage';
import { loadBridgeConfig, noAdminTokenNotice, type BridgeConfig } from './config/bridge-config.ts';
import { createBridge, type Bridge } from './create-bridge.ts';

/**
 * Runs the bridge as a service: the store and the access store (SQLite by default, PostgreSQL by
 * DATABASE_URL, migrated at start), the admin UI build, the HTTP server (webhooks, capture, the
 * agency API at /api/v1, the admin at /admin), the reconciliation timer and, unless
 * CLICKTHREAD_WOO_WORKER=false, the delivery worker with the write-back hook. Used by main.ts.
 */

export interface RunningBridge {
  readonly config: BridgeConfig;
  readonly bridge: Bridge;
  readonly store: Store;
  readonly worker: Worker | undefined;
  /** Where the server listens, e.g. http://0.0.0.0:8080 (the real port when 0 was asked for). */
  readonly address: string;
  /** Stops taking requests, lets the worker and reconciliation finish, closes the store. */
  stop(): Promise<void>;
}

/** The SQLite file, or PostgreSQL when configured. */
export function openBridgeStore(config: BridgeConfig): Store {
  return createStore({ databaseUrl: config.databaseUrl, sqlitePath: join(config.dataDir, 'clickthread.db'), sqliteSync: config.sqliteSync });
}

/** The environment to read the configuration from, or a configuration already read (main.ts: its log level makes the logger). */
export type StartBridgeOptions = ({ readonly env: Readonly<Record<string, string | undefined>> } | { readonly config: BridgeConfig }) & {
  readonly logger?: Logger;
  readonly clock?: Clock;
};

export async function startBridge(options: StartBridgeOptions): Promise<RunningBridge> {
  const config = 'config' in options ? options.config : loadBridgeConfig(options.env);
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'woocommerce-bridge' });
  const clock = options.clock ?? systemClock;
  for (const notice of config.notices) logger.warn({ notice }, 'configuration notice');
  if (config.adminToken === undefined) logger.warn({ notice: noAdminTokenNotice }, 'configuration notice');

  const ui = await prepareAdminUi({ logger });
  const store = openBridgeStore(config);
  const access = createAccessStore(store);
  try {
    await store.migrate();
    await access.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  // one transport for the worker and the API's direct test-fires: one pool, one SSRF policy
  const ssrf = { allowPrivate: config.allowPrivateTargets };
  const transport = createUndiciTransport({ ssrf });
  // the API wakes the worker, which needs the bridge's write-back hook: a closure ties the two
  const bridge = createBridge({ config, store, clock, logger, admin: { access, transport, ui, wakeWorker: () => worker?.wake() } });
  const worker: Worker | undefined = config.runWorker ? createWorker({ store, clock, logger, ssrf, transport, onSettled: bridge.onSettled }) : undefined;

  let server: Server;
  try {
    server = await new Promise((resolve, reject) => {
      const s = bridge.app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(s)));
    });
  } catch (error) {
    await bridge.close();
    await transport.close();
    await store.close();
    throw error;
  }
  const bound = server.address();
  const address = `http://${config.host}:${typeof bound === 'object' && bound !== null ? bound.port : config.port}`;
  bridge.reconciler.start();
  worker?.start();
  // write-backs the store did not take are tried again where postbacks are sent
  if (worker) bridge.writeBacks.start();
  logger.info(
    {
      address,
      publicUrl: config.publicUrl,
      storage: config.databaseUrl ? 'postgres' : 'sqlite',
      worker: worker !== undefined,
      reconcileIntervalMs: config.reconcile.intervalMs,
      admin: `${config.publicUrl}/admin`,
      adminUi: ui.available,
      operatorToken: config.adminToken !== undefined,
    },
    'woocommerce bridge started',
  );

  let stopping: Promise<void> | undefined;
  return {
    config,
    bridge,
    store,
    worker,
    address,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await worker?.stop();
        await bridge.close();
        // the worker was given the transport, so closing it is ours
        await transport.close();
        await store.close();
        logger.info({}, 'woocommerce bridge stopped');
      })();
      return stopping;
    },
  };
}
