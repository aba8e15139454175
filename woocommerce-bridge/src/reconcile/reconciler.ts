import { ok, type Clock, type Logger, type Result } from '@clickthread/core';
import type { Store } from '@clickthread/core/storage';
import { describeFailure, toWooGmt, type ConnectionService } from '../connections/connection-service.ts';
import { ensureWebhooks } from '../connections/ensure-webhooks.ts';
import { openWooSecrets, readWooConnection, type WooConnection } from '../connections/woo-connection.ts';
import type { SecretBox } from '../config/secret-box.ts';
import type { BridgeMetrics } from '../http/bridge-metrics.ts';
import type { OrderProcessor } from '../orders/process-order.ts';
import {
  afterOrdersPage,
  cursorToStore,
  formatOrderCursor,
  nextOrdersQuery,
  parseOrderCursor,
  startPaging,
  type OrderCursor,
  type PageOutcome,
} from './order-cursor.ts';

/**
 * Woo never retries a webhook, coalesces updates and disables a webhook after repeated failures.
 * Reconciliation, per connection: poll `GET /orders?modified_after=<cursor>&orderby=modified`
 * page by page — keyset paging (order-cursor.ts), since the list shifts while it is read — and run
 * each order through the same path as a webhook; resolve paid orders whose wait for an
 * order-received link is over; re-enable (or recreate) the bridge's webhooks. The cursor lives in
 * the connection's settings and only moves past orders that were processed.
 *
 * Several processes may reconcile one connection at once (web processes beside the CLI): each
 * writes the cursor by compare-and-set from the value its pass started at, so a pass never puts
 * the cursor back behind another's, and a pass that read further than the one that wrote first
 * still records how far it got. Its other settings are written key by key (patchStoreSettings).
 */

export interface ReconcileProgress {
  readonly connectionId: string;
  readonly page: number;
  readonly totalPages: number;
  readonly orders: number;
}

export interface ReconcileReport {
  readonly connectionId: string;
  readonly ok: boolean;
  readonly orders: number;
  readonly pages: number;
  readonly invalidOrders: number;
  readonly resolvedPending: number;
  readonly reenabledWebhooks: readonly string[];
  readonly recreatedWebhooks: readonly string[];
  readonly cursor: string | null;
  readonly error: string | null;
}

export interface ReconcileOptions {
  readonly connectionId?: string;
  readonly onProgress?: (p: ReconcileProgress) => void;
  /** Pages of orders read per connection in this pass (default: the reconciler's `maxPagesPerRun`). */
  readonly maxPages?: number;
}

export interface Reconciler {
  /** One pass over every active Woo connection (or one). */
  runOnce(options?: ReconcileOptions): Promise<ReconcileReport[]>;
  /** Runs a pass every interval until stop(). */
  start(): void;
  stop(): Promise<void>;
}

export interface ReconcilerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: BridgeMetrics;
  readonly connections: ConnectionService;
  readonly processor: OrderProcessor;
  readonly secretBox: SecretBox;
  readonly intervalMs: number;
  readonly pageSize: number;
  /** Bounds one pass per connection; the rest waits for the next pass. */
  readonly maxPagesPerRun?: number;
}

const initialLookbackMs = 24 * 3600_000;
/** Orders whose wait for their link ended, resolved per connection and pass (each is one REST read); the rest wait for the next pass. */
const maxDuePendingPerPass = 200;
/** Compare-and-set rounds for the cursor before a pass leaves it to the others (each lost round means another pass wrote). */
const cursorWriteAttempts = 5;
const cursorSetting = 'reconcileCursor';

/** Whether cursor `ours` is past `theirs`: by its second only (within one second the next pass re-reads at most that second). */
function isPast(ours: string, theirs: string | null): boolean {
  if (theirs === null) return true;
  const a = parseOrderCursor(ours);
  const b = parseOrderCursor(theirs);
  // an unreadable cursor another process stored is left for the report, never overwritten by a guess
  return a.ok && b.ok && a.value.after > b.value.after;
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { store, clock, metrics, connections, processor } = deps;
  const log = deps.logger.child({ component: 'woo-reconcile' });
  const defaultMaxPages = deps.maxPagesPerRun ?? 20;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;

  /** Orders an older bridge kept waiting in the connection's settings move into the pending_orders table, once. */
  async function moveSettingsPendingOrders(connection: WooConnection): Promise<void> {
    const listed = connection.settings.pendingOrders;
    if (listed === undefined) return;
    const now = clock.now();
    for (const [orderId, until] of Object.entries(listed)) {
      if (await store.getPendingOrder(connection.id, orderId)) continue;
      const dueAt = new Date(until);
      await store.putPendingOrder({ storeId: connection.id, orderId, payload: '{}', dueAt: Number.isNaN(dueAt.getTime()) ? now : dueAt, now });
    }
    await store.patchStoreSettings(connection.id, { pendingOrders: null }, now);
    log.info({ connectionId: connection.id, orders: Object.keys(listed).length }, 'reconcile: waiting orders moved from the settings to the pending orders table');
  }

  /**
   * Stores the pass's cursor by compare-and-set from the one it started at. When another pass wrote
   * first, ours goes in only if it is past theirs (this pass read everything up to it). Returns the
   * cursor stored afterwards.
   */
  async function writeCursor(connectionId: string, startedAt: string | null, ours: string, now: Date): Promise<string | null> {
    if (ours === startedAt) return ours;
    let expected = startedAt;
    for (let attempt = 0; attempt < cursorWriteAttempts; attempt += 1) {
      if (await store.compareAndSetStoreSetting(connectionId, cursorSetting, expected, ours, now)) return ours;
      const row = await store.getStore(connectionId);
      if (!row) return null;
      const current = row.settings[cursorSetting] ?? null;
      const theirs = typeof current === 'string' ? current : null;
      if (current !== theirs || !isPast(ours, theirs)) {
        log.info({ connectionId, ours, theirs: current }, 'reconcile: another pass moved the cursor as far or further; its cursor stays');
        return theirs;
      }
      expected = theirs;
    }
    log.warn({ connectionId, ours, attempts: cursorWriteAttempts }, 'reconcile: the cursor kept moving under this pass; left to the others');
    return expected;
  }

  async function reconcileOne(connection: WooConnection, onProgress: ReconcileOptions['onProgress'], maxPages: number): Promise<ReconcileReport> {
    const started = clock.now();
    let orders = 0;
    let pages = 0;
    let invalidOrders = 0;
    let resolvedPending = 0;
    let reenabled: string[] = [];
    let recreated: string[] = [];
    let webhookIds: Readonly<Record<string, number>> | undefined;
    const storedCursor = connection.settings.reconcileCursor;
    await moveSettingsPendingOrders(connection);
    const parsedCursor: Result<OrderCursor> =
      storedCursor === null ? ok({ after: toWooGmt(new Date(started.getTime() - initialLookbackMs)), seen: [], beyond: 0, total: null }) : parseOrderCursor(storedCursor);
    // a cursor that cannot be read is left as it is (and reported), never replaced by a guess
    let cursor: string | null = parsedCursor.ok ? formatOrderCursor(parsedCursor.value) : storedCursor;
    const errors: string[] = [];

    const client = connections.clientFor(connection);
    if (!client.ok) {
      errors.push(client.reason);
    } else {
      // 1. orders modified since the cursor, by keyset: always the first page after what was read
      if (!parsedCursor.ok) {
        errors.push(parsedCursor.reason);
      } else {
        const limits = { perPage: deps.pageSize };
        let paging = startPaging(parsedCursor.value);
        let outcome: PageOutcome | null = null;
        for (let page = 1; page <= maxPages; page += 1) {
          const listed = await client.value.listOrders(nextOrdersQuery(paging, limits));
          if (!listed.ok) {
            errors.push(`orders page ${page}: ${describeFailure(listed.reason)}`);
            break;
          }
          pages += 1;
          const step = afterOrdersPage(paging, { keys: listed.value.items.map((item) => item.key), total: listed.value.total }, limits);
          const fresh = new Set(step.fresh.map((k) => k.id));
          let processed = 0;
          for (const item of listed.value.items) {
            if (item.key !== null && !fresh.has(item.key.id)) continue;
            if (!item.order.ok) {
              invalidOrders += 1;
              log.warn({ connectionId: connection.id, orderId: item.order.reason.id, issues: item.order.reason.issues }, 'order skipped: unexpected shape');
              continue;
            }
            await processor.process({ connection, order: item.order.value, trigger: 'reconcile' });
            processed += 1;
          }
          orders += processed;
          metrics.reconciledOrders.inc(processed);
          paging = step.paging;
          outcome = step.outcome;
          // the store counts what is left from this query on: an estimate of the pass's pages
          const left = listed.value.total === null ? 1 : Math.max(1, Math.ceil(listed.value.total / deps.pageSize));
          const progress = { connectionId: connection.id, page, totalPages: page - 1 + left, orders };
          onProgress?.(progress);
          log.info(progress, 'reconcile: orders page done');
          if (outcome === 'stalled') {
            errors.push(
              `orders page ${page}: a full page the pass cannot move past (orders without an id or modification date, or a store that ignores exclude); the cursor stays at ${formatOrderCursor(paging.cursor)}`,
            );
          }
          if (outcome !== 'more') break;
        }
        cursor = formatOrderCursor(cursorToStore(paging, outcome));
      }

      // 2. paid orders whose wait for the order-received link is over, read again as they are now
      const due = await store.listDuePendingOrders({ storeId: connection.id, now: clock.now(), limit: maxDuePendingPerPass });
      for (const { orderId } of due) {
        const fetched = await client.value.getOrder(orderId);
        if (fetched.ok) {
          await processor.process({ connection, order: fetched.value, trigger: 'grace_expired' });
          resolvedPending += 1;
        } else if (fetched.reason.kind === 'not_found') {
          await processor.forget(connection, orderId);
        } else {
          errors.push(`pending order ${orderId}: ${describeFailure(fetched.reason)}`);
        }
      }

      // 3. the bridge's webhooks: re-enable what Woo disabled, recreate what was deleted
      const secrets = openWooSecrets(deps.secretBox, connection.stored);
      if (secrets.ok) {
        const synced = await ensureWebhooks(client.value, {
          deliveryUrl: connections.deliveryUrlOf(connection.id),
          secret: secrets.value.webhookSecret,
          pushSecret: false,
          name: 'Clickthread',
        });
        if (synced.ok) {
          reenabled = [...synced.value.reactivated];
          recreated = [...synced.value.created];
          metrics.webhooksReenabled.inc(reenabled.length + recreated.length);
          if (reenabled.length + recreated.length > 0) {
            log.warn({ connectionId: connection.id, reenabled, recreated }, 'bridge webhooks were disabled or missing in WooCommerce: restored');
          }
          webhookIds = synced.value.ids;
        } else {
          errors.push(`webhooks: ${describeFailure(synced.reason)}`);
        }
      } else {
        errors.push(secrets.reason);
      }
    }

    const error = errors.length > 0 ? errors.join('; ') : null;
    const finished = clock.now();
    const finalCursor = cursor === null ? null : await writeCursor(connection.id, storedCursor, cursor, finished);
    await store.patchStoreSettings(
      connection.id,
      {
        lastReconcile: { at: started.toISOString(), orders, reenabledWebhooks: reenabled.length + recreated.length, error },
        ...(webhookIds === undefined ? {} : { webhookIds }),
      },
      finished,
    );
    metrics.reconcile.inc({ outcome: error === null ? 'ok' : 'error' });
    const report: ReconcileReport = {
      connectionId: connection.id,
      ok: error === null,
      orders,
      pages,
      invalidOrders,
      resolvedPending,
      reenabledWebhooks: reenabled,
      recreatedWebhooks: recreated,
      cursor: finalCursor,
      error,
    };
    if (error === null) log.info(report, 'reconcile: connection done');
    else log.warn(report, 'reconcile: connection done with errors');
    return report;
  }

  async function runOnce(options: ReconcileOptions = {}): Promise<ReconcileReport[]> {
    const rows = options.connectionId === undefined ? await store.listStores() : [await store.getStore(options.connectionId)];
    const reports: ReconcileReport[] = [];
    for (const row of rows) {
      if (!row || row.platform !== 'woocommerce' || row.status !== 'active') continue;
      const connection = readWooConnection(row);
      if (!connection.ok) {
        log.error({ connectionId: row.id, reason: connection.reason }, 'reconcile: connection unreadable');
        continue;
      }
      try {
        reports.push(await reconcileOne(connection.value, options.onProgress, options.maxPages ?? defaultMaxPages));
      } catch (error) {
        // a storage failure on one connection must not stop the others; the cursor did not move
        metrics.reconcile.inc({ outcome: 'failed' });
        log.error({ err: error, connectionId: row.id }, 'reconcile: connection failed');
        reports.push({
          connectionId: row.id,
          ok: false,
          orders: 0,
          pages: 0,
          invalidOrders: 0,
          resolvedPending: 0,
          reenabledWebhooks: [],
          recreatedWebhooks: [],
          cursor: connection.value.settings.reconcileCursor,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return reports;
  }

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error: unknown) => log.error({ err: error }, 'reconcile pass failed'))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, deps.intervalMs);
    timer.unref();
  };

  return {
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      log.info({ intervalMs: deps.intervalMs }, 'reconciliation started');
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
