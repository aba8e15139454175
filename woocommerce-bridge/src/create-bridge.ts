import { createAdminUiRouter, createAdminUiUnavailableRouter, createApiRouter, type AdminUiState, type RateLimitOptions } from '@clickthread/admin';
import type { Clock, Logger } from '@clickthread/core';
import type { AccessStore } from '@clickthread/core/access';
import { systemResolver, type Resolver, type Transport } from '@clickthread/core/delivery';
import type { Store } from '@clickthread/core/storage';
import { createDurableWriteBack, type DurableWriteBack, type DurableWriteBackOptions } from '@clickthread/core/write-back';
import express, { type Application, type NextFunction, type Request, type Response } from 'express';
import { createBridgeConnectionsAdapter } from './admin/connections-adapter.ts';
import type { BridgeConfig } from './config/bridge-config.ts';
import { createSecretBox } from './config/secret-box.ts';
import { createCaptureRouter } from './capture/capture-routes.ts';
import { createConnectionService, describeFailure, type ConnectionService } from './connections/connection-service.ts';
import { createBridgeMetrics, type BridgeMetrics } from './http/bridge-metrics.ts';
import { createOrderProcessor, placedOrderStatuses, type FirstOrderCheck, type OrderProcessor } from './orders/process-order.ts';
import { createReconciler, type Reconciler } from './reconcile/reconciler.ts';
import { defaultWooRestApiFactory, type WooRestApiFactory } from './rest/woo-rest-api.ts';
import { createWebhookRouter } from './webhooks/webhook-route.ts';
import { createWriteBack, type WriteBack } from './write-back/write-back.ts';

/** The bridge's composition root: everything is built here from validated config and injected ports. */

/**
 * The agency API (/api/v1) and the admin UI (/admin). The caller makes these once per process and
 * shares them (with the Shopify app in `pnpm start`): one access store, one transport.
 */
export interface BridgeAdminOptions {
  /** Agencies, API tokens and the offer audit log; already migrated. */
  readonly access: AccessStore;
  /** The delivery worker's transport: direct test-fires go through it and its SSRF guard. */
  readonly transport: Transport;
  /** Wakes the delivery worker after a replay or a queued test-fire (the worker may not exist yet: a closure). */
  readonly wakeWorker: () => void;
  /** What the start found of the UI build (default: serve admin/dist, which answers 503 while it is not built). */
  readonly ui?: AdminUiState;
  /** Requests per API token per window (default 600 a minute). */
  readonly rateLimit?: RateLimitOptions;
}

export interface CreateBridgeOptions {
  readonly config: BridgeConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The REST client factory; defaults to `@woocommerce/woocommerce-rest-api`. */
  readonly wooClientFactory?: WooRestApiFactory;
  /** Resolves store host names for the SSRF guard (default: the system resolver; tests: made-up names). */
  readonly storeResolver?: Resolver;
  readonly metrics?: BridgeMetrics;
  /** Fixed ids/secrets for tests. */
  readonly newConnectionId?: () => string;
  readonly newWebhookSecret?: () => string;
  /** The agency API and admin UI; without it the bridge serves webhooks, capture and health only. */
  readonly admin?: BridgeAdminOptions;
  /** How long a webhook waits for the store to say whether an order is a first order (default 2 s). */
  readonly firstOrderTimeoutMs?: number;
  /** Write-backs the store did not take: their retry schedule and how often they are looked for (core defaults). */
  readonly writeBackRetry?: Pick<DurableWriteBackOptions, 'schedule' | 'pollIntervalMs'>;
}

/**
 * Woo gives up on a webhook delivery after a few seconds and disables a webhook that keeps failing:
 * the first-order question (asked while the webhook waits) gets far less than the REST timeout.
 */
const defaultFirstOrderTimeoutMs = 2_000;

export interface Bridge {
  readonly app: Application;
  readonly reconciler: Reconciler;
  readonly connections: ConnectionService;
  readonly processor: OrderProcessor;
  readonly metrics: BridgeMetrics;
  /**
   * The delivery worker's `onSettled` hook: writes a settled postback back to its Woo order; what
   * the store does not take is kept and tried again by `writeBacks` (another platform's job is
   * handed to a process that serves it).
   */
  readonly onSettled: DurableWriteBack['onSettled'];
  /** This bridge's write-back tasks: start() with the worker, or runOnce(). */
  readonly writeBacks: DurableWriteBack;
  /** The Woo write-back alone, for a process that serves several platforms with one hook. */
  readonly writeBack: WriteBack['write'];
  /** Stops the reconciliation and write-back timers and waits for a pass in progress; the store stays open (the caller owns it). */
  close(): Promise<void>;
}

export function createBridge(options: CreateBridgeOptions): Bridge {
  const { config, store, clock } = options;
  const logger = options.logger.child({ app: 'woocommerce-bridge' });
  const metrics = options.metrics ?? createBridgeMetrics();
  const secretBox = createSecretBox(config.secretKey);
  const connections = createConnectionService({
    store,
    clock,
    logger,
    secretBox,
    wooApiFactory: options.wooClientFactory ?? defaultWooRestApiFactory,
    publicUrl: config.publicUrl,
    allowHttpStores: config.allowHttpStores,
    storeNetwork: { ssrf: { allowPrivate: config.allowPrivateStores }, resolver: options.storeResolver ?? systemResolver },
    restTimeoutMs: config.rest.timeoutMs,
    ...(options.newConnectionId ? { newConnectionId: options.newConnectionId } : {}),
    ...(options.newWebhookSecret ? { newWebhookSecret: options.newWebhookSecret } : {}),
  });
  // first order: the customer's earliest placed order in the store's own list is this one
  const firstOrderTimeoutMs = options.firstOrderTimeoutMs ?? defaultFirstOrderTimeoutMs;
  const askFirstOrder: FirstOrderCheck = async (connection, customerId, orderId) => {
    const client = connections.clientFor(connection);
    if (!client.ok) return new Error(client.reason);
    const earliest = await client.value.earliestOrderIds(customerId, placedOrderStatuses, 1);
    if (!earliest.ok) return new Error(describeFailure(earliest.reason));
    const first = earliest.value[0];
    // the order itself is placed, so the list holds at least it; an empty one says nothing
    return first === undefined ? new Error(`the store lists no placed order of customer ${customerId}`) : first === orderId;
  };
  const firstOrder: FirstOrderCheck = async (connection, customerId, orderId) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Error>((resolve) => {
      timer = setTimeout(() => resolve(new Error(`the store did not say within ${firstOrderTimeoutMs} ms`)), firstOrderTimeoutMs);
    });
    try {
      // the question may go on after the deadline; its answer (a value, never a rejection) is dropped
      return await Promise.race([askFirstOrder(connection, customerId, orderId).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const processor = createOrderProcessor({ store, clock, logger, metrics, linkGraceMs: config.linkGraceMs, firstOrder });
  const reconciler = createReconciler({
    store,
    clock,
    logger,
    metrics,
    connections,
    processor,
    secretBox,
    intervalMs: config.reconcile.intervalMs,
    pageSize: config.reconcile.pageSize,
  });
  const writeBack = createWriteBack({ store, logger, metrics, connections });
  const writeBacks = createDurableWriteBack({ store, clock, logger, writers: { woocommerce: writeBack.write }, ...options.writeBackRetry });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // No body parser at the app level: each route declares its own (the webhook needs raw bytes).
  // The webhook route comes first and nothing parses or inspects a body before it: the signature is
  // checked on the raw bytes, and the admin's middleware (JSON parser, rate limits) only runs under /api/v1.
  app.use(createWebhookRouter({ store, secretBox, processor, metrics, logger, clock, maxBytes: config.webhookMaxBytes }));
  app.use(
    createCaptureRouter({ store, clock, logger, metrics, connections, processor, publicUrl: config.publicUrl, rateLimitPerMinute: config.capture.rateLimitPerMinute }),
  );
  app.get('/healthz', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json({ ok: true, service: 'woocommerce-bridge' });
  });
  const admin = options.admin;
  if (admin) {
    app.use(
      '/api/v1',
      createApiRouter({
        store,
        access: admin.access,
        clock,
        logger,
        transport: admin.transport,
        ssrf: { allowPrivate: config.allowPrivateTargets },
        operatorToken: config.adminToken,
        wakeWorker: admin.wakeWorker,
        connections: createBridgeConnectionsAdapter({ connections, store, clock, publicUrl: config.publicUrl }),
        ...(admin.rateLimit ? { rateLimit: admin.rateLimit } : {}),
      }),
    );
    const ui: AdminUiState = admin.ui ?? { available: true };
    app.use('/admin', ui.available ? createAdminUiRouter({ mode: 'standalone', ...(ui.dir === undefined ? {} : { dir: ui.dir }) }) : createAdminUiUnavailableRouter({ mode: 'standalone' }));
  }
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    logger.error({ err: error }, 'request failed');
    if (res.headersSent) return next(error);
    res.status(500).json({ error: 'internal_error' });
  });

  return {
    app,
    reconciler,
    connections,
    processor,
    metrics,
    onSettled: (job, outcome) => writeBacks.onSettled(job, outcome),
    writeBacks,
    writeBack: writeBack.write,
    close: async () => {
      await Promise.all([reconciler.stop(), writeBacks.stop()]);
    },
  };
}
