import express, { type Application, type NextFunction, type Request, type Response, type Router } from 'express';
import { LogSeverity, type Session } from '@shopify/shopify-api';
import { shopifyApp, type ShopifyApp } from '@shopify/shopify-app-express';
import { createAdminUiRouter, createAdminUiUnavailableRouter, createApiRouter, type AdminUiState, type RateLimitOptions } from '@clickthread/admin';
import type { Clock, Logger } from '@clickthread/core';
import type { AccessStore } from '@clickthread/core/access';
import type { Transport } from '@clickthread/core/delivery';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import { createDurableWriteBack, type DurableWriteBack, type DurableWriteBackOptions, type WriteBackFn } from '@clickthread/core/write-back';
import { createAdminGraphql, type AdminGraphql, type GraphqlFetch } from '../admin-api/admin-graphql.ts';
import { createSessionTokenAuth } from '../admin/session-token-auth.ts';
import { installShop, shopifyStoreId } from '../auth/installation.ts';
import { createSessionStorage, type ClosableSessionStorage } from '../auth/session-storage.ts';
import type { ShopifyConfig } from '../config/shopify-config.ts';
import type { SessionRemover } from '../privacy/compliance.ts';
import { createCaptureRouter } from '../proxy/capture-route.ts';
import { createReconciler, type Reconciler } from '../reconcile/reconciler.ts';
import { createWebhookRouter } from '../webhooks/webhook-routes.ts';
import { createShopifyWebhookVerifier } from '../webhooks/verify-webhook.ts';
import { createOrderTagger } from '../write-back/order-tags.ts';

/**
 * The Shopify app's composition root: configuration validated once (loadShopifyConfig), the official
 * app framework for OAuth / token exchange and embedded session tokens, Shopify's session storage,
 * and Clickthread's routes (webhooks, app proxy, the agency API at /api/v1, the embedded admin UI at
 * the app URL). The worker runs beside it and calls `onSettled` for write-back; the reconciler runs
 * on its own timer (`reconciler.start()`).
 */

/**
 * The agency API and the embedded admin UI. The caller makes these once per process and shares them
 * (with the bridge in `pnpm start`): one access store, one transport.
 */
export interface ShopifyAdminOptions {
  /** Agencies, API tokens and the offer audit log; already migrated. */
  readonly access: AccessStore;
  /** The delivery worker's transport: direct test-fires go through it and its SSRF guard. */
  readonly transport: Transport;
  /** Wakes the delivery worker after a replay or a queued test-fire (the worker may not exist yet: a closure). */
  readonly wakeWorker: () => void;
  /** What the start found of the UI build (default: serve admin/dist, which answers 503 while it is not built). */
  readonly ui?: AdminUiState;
  /** Requests per shop or API token per window (default 600 a minute). */
  readonly rateLimit?: RateLimitOptions;
}

export interface CreateShopifyAppOptions {
  readonly config: ShopifyConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The fetch under the GraphQL Admin API client; tests point it at a loopback stand-in. */
  readonly graphqlFetch?: GraphqlFetch;
  /** Replaces the session storage chosen from the config (the caller then closes it). */
  readonly sessionStorage?: ClosableSessionStorage;
  /** More embedded-admin JSON routes, mounted under /api behind Shopify session-token auth. */
  readonly adminRouter?: Router;
  /** The agency API (/api/v1); without it the app page is served but has no API behind it (tests of other routes). */
  readonly admin?: ShopifyAdminOptions;
  /** Write-backs Shopify did not take: their retry schedule and how often they are looked for (core defaults). */
  readonly writeBackRetry?: Pick<DurableWriteBackOptions, 'schedule' | 'pollIntervalMs'>;
}

export interface ShopifyAppHandle {
  readonly app: Application;
  readonly shopify: ShopifyApp;
  readonly reconciler: Reconciler;
  readonly graphql: AdminGraphql;
  /**
   * The delivery worker's onSettled hook: tags the order once its postback is final; never throws.
   * Tags Shopify did not take are kept and tried again by `writeBacks`.
   */
  readonly onSettled: DurableWriteBack['onSettled'];
  /** This app's write-back tasks: start() with the worker, or runOnce(). */
  readonly writeBacks: DurableWriteBack;
  /** The Shopify write-back alone, for a process that serves several platforms with one hook. */
  readonly writeBack: WriteBackFn;
  /** What OAuth/token exchange does after it has stored the offline session. */
  readonly installShop: (shop: string) => Promise<StoreConnection>;
  readonly sessionStorage: ClosableSessionStorage;
  close(): Promise<void>;
}

function shopifyLogFunction(logger: Logger) {
  return (severity: LogSeverity, message: string): void => {
    const entry = { component: 'shopify-api' };
    if (severity === LogSeverity.Error) logger.error(entry, message);
    else if (severity === LogSeverity.Warning) logger.warn(entry, message);
    else if (severity === LogSeverity.Info) logger.info(entry, message);
    else logger.debug(entry, message);
  };
}

export function createShopifyApp(options: CreateShopifyAppOptions): ShopifyAppHandle {
  const { config, store, clock } = options;
  const logger = options.logger.child({ app: 'shopify' });
  const sessions = options.sessionStorage ?? createSessionStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const install = (shop: string) => installShop({ store, clock, logger }, shop);

  const shopify = shopifyApp({
    api: {
      apiKey: config.apiKey,
      apiSecretKey: config.apiSecret,
      scopes: [...config.scopes],
      hostName: config.appUrl.host,
      hostScheme: config.appUrl.protocol === 'https:' ? 'https' : 'http',
      apiVersion: config.apiVersion,
      isEmbeddedApp: true,
      logger: { level: LogSeverity.Warning, log: async (severity, message) => shopifyLogFunction(logger)(severity, message) },
    },
    auth: { path: '/auth', callbackPath: '/auth/callback' },
    webhooks: { path: '/webhooks' },
    sessionStorage: sessions.storage,
    future: { tokenExchange: true, expiringOfflineAccessTokens: true },
    hooks: {
      afterAuth: async ({ session }: { session: Session }) => {
        await install(session.shop);
      },
    },
  });

  const sessionRemover: SessionRemover = {
    async removeSessions(shop) {
      const found = await sessions.storage.findSessionsByShop(shop);
      if (found.length > 0) await sessions.storage.deleteSessions(found.map((s) => s.id));
      return found.length;
    },
  };

  const graphql = createAdminGraphql({
    apiVersion: config.apiVersion,
    logger,
    ...(options.graphqlFetch ? { fetch: options.graphqlFetch } : {}),
    loadAccess: async (shop) => {
      const session = await shopify.ensureValidOfflineSession(shop);
      return session?.accessToken ? { shop: session.shop, accessToken: session.accessToken } : undefined;
    },
  });

  const reconciler = createReconciler({
    store,
    clock,
    logger,
    graphql,
    apiVersion: config.apiVersion,
    lookbackMs: config.reconcileLookbackMs,
    intervalMs: config.reconcileIntervalMs,
    protectedCustomerData: config.protectedCustomerData,
  });

  const tagOrder = createOrderTagger({ store, graphql, logger });
  const writeBack: WriteBackFn = async ({ job, connection, outcome }) => {
    if (!config.writeBack) return { ok: true };
    const tagged = await tagOrder({ job, shop: connection, status: outcome.status, outcome: outcome.reason });
    return tagged.kind === 'failed' ? { ok: false, reason: tagged.reason, retry: tagged.retry } : { ok: true };
  };
  const writeBacks = createDurableWriteBack({ store, clock, logger, writers: { shopify: writeBack }, ...options.writeBackRetry });

  const app = express();
  app.disable('x-powered-by');
  // req.ip is the client as the last trusted hop saw it: the app proxy's per-shopper budget and the
  // agency API's budget of refused tokens per address both count it. Shopify's app proxy is a hop of
  // its own (it appends the shopper's address to X-Forwarded-For); a load balancer is another.
  app.set('trust proxy', config.trustProxy);

  app.get('/healthz', (_req, res) => {
    res.status(200).json({ ok: true });
  });

  // Webhooks first: each route reads its own raw body, and nothing (no JSON parser, no rate limit, no
  // admin middleware) runs before the HMAC check.
  app.use(
    createWebhookRouter({
      verify: createShopifyWebhookVerifier(config.apiSecret),
      store,
      clock,
      logger,
      sessions: sessionRemover,
      ...(options.admin ? { access: options.admin.access } : {}),
    }),
  );
  app.use(config.proxyPath, createCaptureRouter({ store, clock, logger, apiSecret: config.apiSecret, perShopperPerMinute: config.proxyCapturesPerMinute }));

  app.get(shopify.config.auth.path, shopify.auth.begin());
  app.get(shopify.config.auth.callbackPath, shopify.auth.callback(), shopify.redirectToShopifyOrAppRoot());

  const admin = options.admin;
  if (admin) {
    // before app.use('/api', validateAuthenticatedSession()): that middleware matches by prefix and
    // would turn away API tokens; this router answers every /api/v1 path itself (404 included)
    const sessionAuth = createSessionTokenAuth({ shopify, store, logger, installShop: install });
    app.use(
      '/api/v1',
      sessionAuth.middleware,
      createApiRouter({
        store,
        access: admin.access,
        clock,
        logger,
        transport: admin.transport,
        ssrf: { allowPrivate: config.allowPrivateTargets },
        authenticate: sessionAuth.authenticate,
        operatorToken: config.adminToken,
        wakeWorker: admin.wakeWorker,
        ...(admin.rateLimit ? { rateLimit: admin.rateLimit } : {}),
      }),
    );
  }

  const api = express.Router();
  api.get('/status', async (_req: Request, res: Response) => {
    const session = (res.locals as { shopify?: { session?: Session } }).shopify?.session;
    if (!session) {
      res.status(401).json({ error: 'no Shopify session' });
      return;
    }
    const shop = (await store.getStore(shopifyStoreId(session.shop))) ?? (await install(session.shop));
    const [offers, jobs, unattributed] = await Promise.all([
      store.listOffers(shop.merchantId),
      store.countJobs({ storeId: shop.id }),
      store.listUnattributed({ storeId: shop.id, limit: 20 }),
    ]);
    res.status(200).json({
      shop: shop.domain,
      status: shop.status,
      offers: offers.map((o) => ({ id: o.id, name: o.name, network: o.network, enabled: o.enabled })),
      jobs,
      unattributed: unattributed.map((u) => ({ orderId: u.orderId, orderNumber: u.orderNumber, reason: u.reason, at: u.at.toISOString() })),
    });
  });
  app.use('/api', shopify.validateAuthenticatedSession(), express.json({ limit: '256kb' }), api, ...(options.adminRouter ? [options.adminRouter] : []));

  // The app page: only inside the Shopify admin (ensureInstalledOnShop redirects or refuses otherwise
  // and sets frame-ancestors to the shop and the admin); App Bridge adds session tokens to its fetches.
  const ui: AdminUiState = admin?.ui ?? { available: true };
  if (ui.available) {
    const uiRouter = createAdminUiRouter({ mode: 'embedded', shopifyApiKey: config.apiKey, ...(ui.dir === undefined ? {} : { dir: ui.dir }) });
    app.get(['/', '/index.html'], shopify.ensureInstalledOnShop(), uiRouter);
    // the page's scripts and styles (/assets/…)
    app.use(uiRouter);
  } else {
    app.get(['/', '/index.html'], shopify.ensureInstalledOnShop(), createAdminUiUnavailableRouter({ mode: 'embedded' }));
  }

  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
    if (status >= 500) logger.error({ err: error, path: req.path }, 'request failed');
    else logger.warn({ err: error, path: req.path }, 'request refused');
    res.status(status).json({ error: status >= 500 ? 'internal error' : (error as Error).message });
  });

  return {
    app,
    shopify,
    reconciler,
    graphql,
    onSettled: (job, outcome) => writeBacks.onSettled(job, outcome),
    writeBacks,
    writeBack,
    installShop: install,
    sessionStorage: sessions,
    async close() {
      await Promise.all([reconciler.stop(), writeBacks.stop()]);
      if (!options.sessionStorage) await sessions.close();
    },
  };
}
