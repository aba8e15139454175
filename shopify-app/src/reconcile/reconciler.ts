import type { Clock, Logger } from '@clickthread/core';
import type { Store, StoreConnection, StoreSettingScalar } from '@clickthread/core/storage';
import type { AdminGraphql } from '../admin-api/admin-graphql.ts';
import { takeOrder } from '../orders/order-intake.ts';
import { orderFactsFromGraphql, recentOrdersDataSchema, recentOrdersQuery } from './graphql-orders.ts';

/**
 * Webhooks get lost: an outage longer than Shopify's 4-hour retry window, a subscription removed after
 * failures, a delivery that never came. Per shop, the reconciler reads the orders updated since its
 * cursor through the GraphQL Admin API and hands each one to the same intake as the webhooks. The
 * outbox's (store, order, offer, event) key makes an order a webhook already brought a no-op, so every
 * order is reported exactly once however often both paths see it.
 */

export interface ShopReconcileReport {
  readonly shop: string;
  readonly ordersSeen: number;
  readonly jobsInserted: number;
  readonly failures: readonly string[];
  readonly cursor: string;
}

export interface Reconciler {
  /** Every active Shopify shop, one after the other. */
  runOnce(): Promise<ShopReconcileReport[]>;
  runShop(shop: StoreConnection): Promise<ShopReconcileReport>;
  /** Runs every `intervalMs` (timer unref'd, runs never overlap); 0 means never. */
  start(): void;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Orders updated this long before the cursor are read again: Shopify's search index lags a little. */
const cursorOverlapMs = 10 * 60_000;

export const reconcileCursorSetting = 'reconcileCursor';
/** Compare-and-set rounds for the cursor before a run leaves it to the others (each lost round means another run wrote). */
const cursorWriteAttempts = 5;

const isSettingScalar = (value: unknown): value is StoreSettingScalar =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

export function createReconciler(deps: {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly graphql: AdminGraphql;
  readonly apiVersion: string;
  readonly lookbackMs: number;
  readonly intervalMs: number;
  readonly pageSize?: number;
  readonly maxPages?: number;
  /** Ask for the customer and their order count (needs Shopify's protected customer data approval). */
  readonly protectedCustomerData?: boolean;
}): Reconciler {
  const { store, clock, graphql } = deps;
  const logger = deps.logger.child({ component: 'shopify-reconcile' });
  const pageSize = deps.pageSize ?? 50;
  const maxPages = deps.maxPages ?? 40;
  const query = recentOrdersQuery(deps.apiVersion, { customer: deps.protectedCustomerData === true });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  /**
   * Stores the run's cursor by compare-and-set from the value the run started at (one key, never
   * the whole row: a shop uninstalled meanwhile stays uninstalled). When another run (another
   * process) wrote first, ours goes in only if it is later: the cursor never moves back.
   */
  async function advanceCursor(shopId: string, startedAt: unknown, ours: string, now: Date, log: Logger): Promise<void> {
    let expected: unknown = startedAt ?? null;
    for (let attempt = 0; attempt < cursorWriteAttempts; attempt += 1) {
      if (!isSettingScalar(expected)) {
        // not a value a cursor ever is (written by hand?): replaced, as an unreadable cursor always was
        await store.patchStoreSettings(shopId, { [reconcileCursorSetting]: ours }, now);
        return;
      }
      if (await store.compareAndSetStoreSetting(shopId, reconcileCursorSetting, expected, ours, now)) return;
      const current = (await store.getStore(shopId))?.settings[reconcileCursorSetting];
      if (current === undefined) return;
      const theirs = typeof current === 'string' ? Date.parse(current) : Number.NaN;
      if (!Number.isNaN(theirs) && theirs >= Date.parse(ours)) {
        log.info({ cursor: ours, stored: current }, 'another reconciliation moved the cursor as far or further: its cursor stays');
        return;
      }
      expected = current;
    }
    log.warn({ cursor: ours, attempts: cursorWriteAttempts }, 'the reconcile cursor kept moving under this run: left to the others');
  }

  async function runShop(shop: StoreConnection): Promise<ShopReconcileReport> {
    const now = clock.now();
    const log = logger.child({ shop: shop.domain });
    const stored = shop.settings[reconcileCursorSetting];
    const cursorTime = typeof stored === 'string' && !Number.isNaN(new Date(stored).getTime()) ? new Date(stored) : new Date(now.getTime() - deps.lookbackMs);
    const since = new Date(cursorTime.getTime() - cursorOverlapMs);
    const failures: string[] = [];
    let ordersSeen = 0;
    let jobsInserted = 0;
    let newest = cursorTime;

    const access = await graphql.access(shop.domain);
    if (!access) {
      failures.push('no offline session for the shop');
      log.warn({}, 'reconciliation skipped: no offline session');
      return { shop: shop.domain, ordersSeen, jobsInserted, failures, cursor: cursorTime.toISOString() };
    }

    let after: string | null = null;
    for (let page = 0; page < maxPages; page += 1) {
      const answer = await graphql.request<unknown>(access, query, { first: pageSize, after, query: `updated_at:>='${since.toISOString()}'` });
      if (!answer.ok) {
        failures.push(answer.reason);
        break;
      }
      const data = recentOrdersDataSchema.safeParse(answer.value);
      if (!data.success) {
        failures.push(`orders query answer not understood: ${data.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        break;
      }
      for (const node of data.data.orders.nodes) {
        ordersSeen += 1;
        const facts = orderFactsFromGraphql(node);
        if (!facts.ok) {
          failures.push(facts.reason);
          log.error({ reason: facts.reason }, 'reconciled order not understood');
          continue;
        }
        const updatedAt = new Date(facts.value.updatedAt);
        if (updatedAt > newest) newest = updatedAt;
        if (!facts.value.paid) continue;
        const outcome = await takeOrder({ store, clock, logger }, { shop, facts: facts.value, via: 'reconcile' });
        if (outcome.kind === 'handled') jobsInserted += outcome.inserted;
      }
      const { hasNextPage, endCursor } = data.data.orders.pageInfo;
      if (!hasNextPage || !endCursor) break;
      after = endCursor;
    }

    // Orders come oldest update first, so everything up to the newest update read has been seen: a
    // run cut short (page limit, a failing request) goes on from there next time, and the overlap
    // re-reads the orders that share that moment. An order that cannot be read is logged, not retried
    // forever: it would hold every later order back.
    const cursor = newest;
    if (cursor.getTime() !== cursorTime.getTime() || typeof stored !== 'string') await advanceCursor(shop.id, stored, cursor.toISOString(), now, log);
    const level = failures.length > 0 ? 'warn' : jobsInserted > 0 ? 'info' : 'debug';
    log[level]({ ordersSeen, jobsInserted, failures, cursor: cursor.toISOString() }, 'reconciliation run');
    return { shop: shop.domain, ordersSeen, jobsInserted, failures, cursor: cursor.toISOString() };
  }

  async function runOnce(): Promise<ShopReconcileReport[]> {
    const shops = (await store.listStores()).filter((s) => s.platform === 'shopify' && s.status === 'active');
    const reports: ShopReconcileReport[] = [];
    for (const shop of shops) {
      try {
        reports.push(await runShop(shop));
      } catch (error) {
        logger.error({ err: error, shop: shop.domain }, 'reconciliation failed');
        reports.push({ shop: shop.domain, ordersSeen: 0, jobsInserted: 0, failures: [(error as Error).message], cursor: '' });
      }
    }
    return reports;
  }

  return {
    runOnce,
    runShop,
    start() {
      if (timer || deps.intervalMs <= 0) return;
      timer = setInterval(() => {
        if (running) return;
        running = runOnce()
          .catch((error: unknown) => logger.error({ err: error }, 'reconciliation failed'))
          .finally(() => {
            running = undefined;
          });
      }, deps.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
