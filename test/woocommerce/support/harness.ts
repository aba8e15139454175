import { randomBytes } from 'node:crypto';
import { createMemoryLogger, ManualClock, type OfferInput } from '@clickthread/core';
import { buildOffer } from '@clickthread/core/fixtures';
import { createWorker, type BatchSummary, type Resolver, type Worker } from '@clickthread/core/delivery';
import { createSqliteStore, type Store } from '@clickthread/core/storage';
import { startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import {
  counterValue,
  createBridge,
  createSecretBox,
  loadBridgeConfig,
  sealWooSecrets,
  type Bridge,
  type BridgeConfig,
  type ConnectStoreResult,
  type WooConnection,
} from '@clickthread/woocommerce-bridge';
import { startFakeWoo, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { startLoopbackServer } from './loopback-server.ts';

/**
 * One end-to-end world: the bridge on a real HTTP server (127.0.0.1, port 0) over a SQLite store,
 * fake WooCommerce stores on loopback, the fake tracker, a ManualClock and the delivery worker
 * driven one pass at a time.
 */

export const merchantId = 'm1';

export interface Harness {
  readonly clock: ManualClock;
  readonly store: Store;
  readonly bridge: Bridge;
  readonly config: BridgeConfig;
  readonly url: string;
  readonly tracker: FakeTracker;
  readonly logger: ReturnType<typeof createMemoryLogger>;
  /** Starts a fake Woo store (closed with the harness). */
  startWoo(options?: { host?: string }): Promise<FakeWoo>;
  /** Connects a fake store through the bridge (real REST calls, real webhook creation). */
  connect(woo: FakeWoo, options?: { idMetaKeys?: string[]; merchantId?: string }): Promise<ConnectStoreResult>;
  connection(id: string): Promise<WooConnection>;
  saveOffer(overrides?: Partial<OfferInput>): Promise<void>;
  readonly worker: Worker;
  /**
   * Delivers everything due (worker.drain): sends, settles, writes back (the hooks are awaited). A
   * reversal due with its sale waits for it and goes out in the same call, once the sale is settled.
   * Bounded: a failed send is due again only after the (manual) clock moves past its retry delay.
   */
  runWorker(): Promise<BatchSummary>;
  /** Postbacks the tracker received (path /postback). */
  postbacks(): Array<Record<string, string>>;
  counter(name: keyof Bridge['metrics'], labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly start?: string;
  readonly storeResolver?: Resolver;
  /** A SQLite file instead of a throwaway in-memory store: two harnesses on one file are two bridge processes sharing a database. */
  readonly storePath?: string;
  /** A clock shared with another harness. */
  readonly clock?: ManualClock;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new ManualClock(options.start ?? '2026-11-21T18:26:00.000Z');
  const store = createSqliteStore({ path: options.storePath ?? ':memory:' });
  await store.migrate();
  const logger = createMemoryLogger();
  const tracker = await startFakeTracker();
  tracker.behave('*', { kind: 'tune', answer: 'success' });

  const server = await startLoopbackServer();
  const url = server.url;

  const config = loadBridgeConfig({
    NODE_ENV: 'test',
    CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('base64'),
    CLICKTHREAD_WOO_PUBLIC_URL: url,
    CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
    CLICKTHREAD_WOO_REST_TIMEOUT_MS: '5000',
    ...options.env,
  });
  // the first-order question's deadline, short: a test that lets the store stall waits it out
  const bridge = createBridge({ config, store, clock, logger, firstOrderTimeoutMs: 300, ...(options.storeResolver ? { storeResolver: options.storeResolver } : {}) });
  // the tracker is on loopback, which only an explicit setting allows
  const worker = createWorker({ store, clock, logger, ssrf: { allowPrivate: true }, onSettled: bridge.onSettled, timeoutMs: 5000 });
  server.serve(bridge.app);

  await store.createMerchant({ id: merchantId, name: 'Merchant One', now: clock.now() });
  const woos: FakeWoo[] = [];

  const harness: Harness = {
    clock,
    store,
    bridge,
    config,
    url,
    tracker,
    logger,
    async startWoo(o = {}) {
      const woo = await startFakeWoo({ clock, ...(o.host ? { host: o.host } : {}) });
      woos.push(woo);
      return woo;
    },
    async connect(woo, o = {}) {
      const result = await bridge.connections.connectStore({
        url: woo.url,
        consumerKey: woo.consumerKey,
        consumerSecret: woo.consumerSecret,
        merchantId: o.merchantId ?? merchantId,
        ...(o.idMetaKeys ? { idMetaKeys: o.idMetaKeys } : {}),
      });
      if (!result.ok) throw new Error(`connect failed: ${result.reason}`);
      return result.value;
    },
    async connection(id) {
      const c = await bridge.connections.getConnection(id);
      if (!c.ok) throw new Error(c.reason);
      return c.value;
    },
    async saveOffer(overrides = {}) {
      const offer = buildOffer({
        id: 'net-a',
        name: 'Network A',
        captureParams: ['transaction_id', 'click_id', 'utm_content'],
        allowHttp: true,
        testOrders: 'send',
        postbacks: {
          sale: { url: `${tracker.url}/postback?tid={transaction_id}&amount={amount}&order={order_id}&event={event}&cur={currency}` },
          refund: { url: `${tracker.url}/postback?tid={transaction_id}&amount={amount}&order={order_id}&event={event}&cur={currency}` },
          cancel: { url: `${tracker.url}/postback?tid={transaction_id}&amount={amount}&order={order_id}&event={event}&cur={currency}` },
        },
        ...overrides,
      });
      await store.saveOffer(merchantId, offer, clock.now());
    },
    worker,
    runWorker: () => worker.drain(),
    postbacks: () => tracker.requestsTo('/postback').map((r) => r.query),
    counter: (name, labels = {}) => {
      const metric = bridge.metrics[name];
      if (!('get' in metric)) throw new Error(`${String(name)} is not a counter`);
      return counterValue(metric, labels);
    },
    async close() {
      await worker.stop();
      await bridge.close();
      for (const woo of woos) await woo.close();
      await tracker.close();
      await server.close();
      await store.close();
    },
  };
  return harness;
}

/** Seeds a connection directly (for replaying recorded deliveries, whose store cannot be called). */
export async function seedConnection(
  h: Harness,
  input: { id: string; storeUrl: string; webhookSecret: string; idMetaKeys?: string[] },
): Promise<void> {
  const secrets = sealWooSecrets(createSecretBox(h.config.secretKey), input.id, { consumerKey: 'ck_x', consumerSecret: 'cs_x', webhookSecret: input.webhookSecret });
  await h.store.upsertStore({
    id: input.id,
    merchantId,
    platform: 'woocommerce',
    domain: new URL(input.storeUrl).host,
    status: 'active',
    settings: { storeUrl: input.storeUrl, idMetaKeys: input.idMetaKeys ?? [], reconcileCursor: null },
    secrets,
    now: h.clock.now(),
  });
}
