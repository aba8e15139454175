import { createServer, type RequestListener, type Server } from 'node:http';
import { join } from 'node:path';
import { prepareAdminUi, type AdminUiState } from '@clickthread/admin';
import { ConfigError, createLogger, systemClock, type Clock, type Logger } from '@clickthread/core';
import { createAccessStore, type AccessStore } from '@clickthread/core/access';
import { createUndiciTransport, createWorker, type Transport, type Worker } from '@clickthread/core/delivery';
import { createStore, type Store } from '@clickthread/core/storage';
import { createDurableWriteBack, type DurableWriteBack } from '@clickthread/core/write-back';
import { createShopifyApp, loadShopifyConfig, type GraphqlFetch, type ShopifyAppHandle, type ShopifyConfig } from '@clickthread/shopify-app';
import {
  createBridge,
  loadBridgeConfig,
  noAdminTokenNotice,
  type Bridge,
  type BridgeConfig,
  type WooRestApiFactory,
} from '@clickthread/woocommerce-bridge';

/**
 * The whole system in one process — the composition root behind `pnpm start` and the demo: one
 * store and one access store (agencies, API tokens, audit), one transport, one delivery worker whose
 * write-back hook serves both apps, the WooCommerce bridge (agency API at /api/v1, admin at /admin)
 * and, when its credentials are configured, the Shopify app (the same API, the embedded admin). Every
 * configuration problem of every part is reported together in one ConfigError.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface ClickthreadOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Replaces the undici transport of the worker and the test-fires (tests, demo); the caller closes it. */
  readonly transport?: Transport;
  readonly wooClientFactory?: WooRestApiFactory;
  readonly graphqlFetch?: GraphqlFetch;
  /** Replaces the admin UI build at start (tests: a known state instead of running Vite). */
  readonly adminUi?: () => Promise<AdminUiState>;
}

export interface RunningClickthread {
  readonly store: Store;
  readonly access: AccessStore;
  readonly worker: Worker;
  /** The write-backs of both platforms (the worker's onSettled); tasks the stores did not take are retried here. */
  readonly writeBacks: DurableWriteBack;
  readonly bridge: Bridge;
  readonly bridgeConfig: BridgeConfig;
  readonly bridgeUrl: string;
  /** Undefined when the Shopify app is not configured. */
  readonly shopify: ShopifyAppHandle | undefined;
  readonly shopifyUrl: string | undefined;
  stop(): Promise<void>;
}

interface Configs {
  readonly bridge: BridgeConfig;
  readonly shopify: ShopifyConfig | undefined;
  readonly notices: readonly string[];
}

/** The setting an issue is about ("CLICKTHREAD_ADMIN_TOKEN must be…", "DATABASE_URL: must be…"). */
function settingNamed(issue: string): string | undefined {
  return /^[A-Z][A-Z0-9_]+/.exec(issue)?.[0];
}

/** Shopify runs only when it has credentials: a fresh clone starts the bridge alone and says why. */
export function loadConfigs(env: Env): Configs {
  const issues: string[] = [];
  const notices: string[] = [];
  const collect = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // both apps read the shared settings (CLICKTHREAD_ADMIN_TOKEN, DATABASE_URL…): one problem, said once
      const reported = new Set(issues.map(settingNamed).filter((name) => name !== undefined));
      issues.push(...error.issues.filter((issue) => !reported.has(settingNamed(issue) ?? '')));
      return undefined;
    }
  };
  const bridge = collect(() => loadBridgeConfig(env));
  const shopifyWanted = [env['SHOPIFY_API_KEY'], env['SHOPIFY_API_SECRET'], env['SHOPIFY_APP_URL']].some((v) => v !== undefined && v !== '');
  const shopify = shopifyWanted ? collect(() => loadShopifyConfig(env)) : undefined;
  if (!shopifyWanted) notices.push('Shopify app not started: set SHOPIFY_API_KEY, SHOPIFY_API_SECRET and SHOPIFY_APP_URL to run it');
  if (shopify && bridge && shopify.port !== 0 && shopify.port === bridge.port) issues.push(`PORT and CLICKTHREAD_WOO_PORT are both ${bridge.port}: the two apps need their own ports`);
  if (issues.length > 0 || !bridge) throw new ConfigError(issues);
  if (bridge.adminToken === undefined) notices.push(noAdminTokenNotice);
  return { bridge, shopify, notices: [...bridge.notices, ...notices] };
}

async function listen(app: RequestListener, port: number, host: string): Promise<{ server: Server; url: string }> {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const actualPort = typeof bound === 'object' && bound !== null ? bound.port : port;
  return { server, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}` };
}

async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}

export async function startClickthread(options: { env: Env; overrides?: ClickthreadOverrides }): Promise<RunningClickthread> {
  const o = options.overrides ?? {};
  const configs = loadConfigs(options.env);
  const { bridge: bridgeConfig, shopify: shopifyConfig } = configs;
  const logger = o.logger ?? createLogger({ level: bridgeConfig.logLevel, name: 'clickthread' });
  const clock = o.clock ?? systemClock;
  for (const notice of configs.notices) logger.warn({ notice }, 'configuration notice');
  if (bridgeConfig.allowPrivateTargets) {
    logger.warn({ setting: 'CLICKTHREAD_ALLOW_PRIVATE_TARGETS' }, 'POSTBACKS MAY GO TO LOOPBACK AND PRIVATE ADDRESSES: for local testing only');
  }

  const ui = await (o.adminUi ?? (() => prepareAdminUi({ logger })))();
  const store = createStore({ databaseUrl: bridgeConfig.databaseUrl, sqlitePath: join(bridgeConfig.dataDir, 'clickthread.db'), sqliteSync: bridgeConfig.sqliteSync });
  const access = createAccessStore(store);
  try {
    await store.migrate();
    await access.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  // One transport for the worker and both apps' direct test-fires: one pool, one SSRF policy.
  const ssrf = { allowPrivate: bridgeConfig.allowPrivateTargets };
  const ownsTransport = o.transport === undefined;
  const transport = o.transport ?? createUndiciTransport({ ssrf });
  // The apps' APIs wake the worker, and the worker needs the apps' write-back hooks: a closure ties them.
  const admin = { access, transport, ui, wakeWorker: () => worker.wake() };
  const bridge = createBridge({ config: bridgeConfig, store, clock, logger, admin, ...(o.wooClientFactory ? { wooClientFactory: o.wooClientFactory } : {}) });
  const shopify = shopifyConfig
    ? createShopifyApp({ config: shopifyConfig, store, clock, logger, admin, ...(o.graphqlFetch ? { graphqlFetch: o.graphqlFetch } : {}) })
    : undefined;

  // One worker drains the shared outbox, and one write-back serves both platforms (each app's own
  // would hand the other's jobs over, and both would claim the tasks of the platform they share).
  const writeBacks = createDurableWriteBack({
    store,
    clock,
    logger,
    writers: { woocommerce: bridge.writeBack, ...(shopify ? { shopify: shopify.writeBack } : {}) },
  });
  const worker = createWorker({ store, clock, logger, ssrf, onSettled: writeBacks.onSettled, transport });
  const closeTransport = async (): Promise<void> => {
    if (ownsTransport) await transport.close();
  };

  const servers: Server[] = [];
  try {
    const bridgeHttp = await listen(bridge.app, bridgeConfig.port, bridgeConfig.host);
    servers.push(bridgeHttp.server);
    const shopifyHttp = shopify && shopifyConfig ? await listen(shopify.app, shopifyConfig.port, bridgeConfig.host) : undefined;
    if (shopifyHttp) servers.push(shopifyHttp.server);

    bridge.reconciler.start();
    shopify?.reconciler.start();
    worker.start();
    writeBacks.start();
    logger.info(
      {
        bridge: bridgeHttp.url,
        admin: `${bridgeHttp.url}/admin`,
        adminUi: ui.available,
        operatorToken: bridgeConfig.adminToken !== undefined,
        shopify: shopifyHttp?.url ?? 'not configured',
        storage: store.dialect,
        worker: worker.id,
      },
      'clickthread started',
    );

    let stopping: Promise<void> | undefined;
    return {
      store,
      access,
      worker,
      writeBacks,
      bridge,
      bridgeConfig,
      bridgeUrl: bridgeHttp.url,
      shopify,
      shopifyUrl: shopifyHttp?.url,
      stop() {
        stopping ??= (async () => {
          await Promise.all(servers.map(close));
          await worker.stop();
          await writeBacks.stop();
          await bridge.close();
          await shopify?.close();
          await closeTransport();
          await store.close();
          logger.info({}, 'clickthread stopped');
        })();
        return stopping;
      },
    };
  } catch (error) {
    await Promise.all(servers.map(close));
    await bridge.close();
    await shopify?.close();
    await closeTransport();
    await store.close();
    throw error;
  }
}
