import { enqueueAgainstHistory, historyOf, isConversionEvent, planPostbacks, type Clock, type IdSource, type Logger, insertedConversion, rememberCustomerClick } from '@clickthread/core';
import type { Store } from '@clickthread/core/storage';
import type { WooConnection } from '../connections/woo-connection.ts';
import type { BridgeMetrics } from '../http/bridge-metrics.ts';
import { mapWooOrder } from './map-order.ts';
import { resolveIdChain, wooCustomerKey } from './resolve-id.ts';
import { wooGmtToIso, type WooOrder } from './woo-order.ts';

/**
 * The one path every Woo order takes, whether it came by webhook, reconciliation, the
 * order-received link or the end of its grace period: map → resolve the ID chain → plan against
 * what the outbox already holds for the order → store the jobs. Repeats are harmless: the outbox's
 * unique key (connection, order, offer, event) turns a second plan of the same state into no new
 * job, and core plans reversals only against the conversion the outbox reported, with its ID.
 *
 * The `order.updated` the bridge's own write-back causes goes the same way and stores nothing new.
 * There is deliberately no shortcut for it: what a state of the order calls for depends on the
 * outbox too (a refund waits for its sale to be reported; a replayed sale lets it go), so "this
 * order looks as it did before" is never a reason to skip planning.
 */

export type ProcessTrigger = 'webhook' | 'reconcile' | 'link' | 'grace_expired';

export type ProcessOutcome =
  | { readonly kind: 'waiting_for_link'; readonly until: Date }
  | {
      readonly kind: 'planned';
      readonly inserted: number;
      readonly duplicates: number;
      readonly skipped: number;
      readonly unattributed: string | null;
      readonly idSource: IdSource | null;
    };

export interface OrderProcessor {
  /**
   * Throws when the store fails (an order that should wait and cannot be recorded as waiting
   * included): the webhook then answers 500, which Woo counts as a failed delivery, and
   * reconciliation brings the order again.
   */
  process(input: { connection: WooConnection; order: WooOrder; trigger: ProcessTrigger }): Promise<ProcessOutcome>;
  /** An order deleted in Woo stops waiting for its link. */
  forget(connection: WooConnection, orderId: string): Promise<void>;
}

/** Orders placed by a shopper on the storefront: only these ever get an order-received report. */
const storefrontSources: ReadonlySet<string> = new Set(['checkout', 'store-api']);

/**
 * Whether this order is the registered customer's first (the store's own order list, over REST):
 * `false` when an earlier order of theirs was placed, an Error when the store could not tell.
 */
export type FirstOrderCheck = (connection: WooConnection, customerId: number, orderId: number) => Promise<boolean | Error>;

/**
 * Orders that count as placed for "first order": paid, or paid and since refunded (the customer
 * did buy). Pending, failed, cancelled and draft orders never happened as purchases.
 */
export const placedOrderStatuses: readonly string[] = ['processing', 'completed', 'on-hold', 'refunded'];

export interface OrderProcessorDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: BridgeMetrics;
  readonly linkGraceMs: number;
  /** Asked only for a paid order of a registered customer, when an enabled offer has a first-order postback. */
  readonly firstOrder?: FirstOrderCheck;
}

/**
 * The store as core's customer map writes to it, every capture marked as this connection's
 * (Capture.storeId): a Woo customer id means something in one store only.
 */

export function createOrderProcessor(deps: OrderProcessorDeps): OrderProcessor {
  const { store, clock, logger, metrics } = deps;

  return {
    async process({ connection, order: raw, trigger }) {
      const now = clock.now();
      // bindings spread into the one or two lines below rather than a child logger per order: a
      // pino child (bindings serialized and redacted) per webhook was measurable on the hot path
      const bound = { connectionId: connection.id, orderId: String(raw.id), trigger };

      const offers = await store.listOffers(connection.merchantId);
      const chain = await resolveIdChain(store, {
        order: raw,
        merchantId: connection.merchantId,
        storeId: connection.id,
        idMetaKeys: connection.settings.idMetaKeys,
        offers,
      });
      let order = mapWooOrder(
        raw,
        { merchantId: connection.merchantId, storeId: connection.id, storeDomain: connection.domain, testSources: connection.settings.testSources },
        chain.candidates,
      );
      const orderId = order.orderId;
      const prior = await store.listJobs({ storeId: connection.id, orderId, limit: 500 });
      // First order: asked once, when the order is converted for the first time (a later delivery,
      // the bridge's own write-back echo included, finds its conversions and asks nothing).
      const asksFirstOrder =
        deps.firstOrder !== undefined &&
        raw.customer_id > 0 &&
        order.paid &&
        !order.cancelled &&
        order.idCandidates.length > 0 &&
        offers.some((o) => o.enabled && o.postbacks.first_order !== undefined) &&
        !prior.some((j) => isConversionEvent(j.event));
      const firstOrder = asksFirstOrder ? await deps.firstOrder?.(connection, raw.customer_id, raw.id) : undefined;
      if (firstOrder instanceof Error) {
        logger.warn({ ...bound, err: firstOrder }, 'first order not known (the store did not answer): no first-order postback for this order');
      } else if (firstOrder !== undefined) {
        order = { ...order, firstOrder };
      }
      const plan = planPostbacks({ order, offers, now, history: historyOf(prior) });
      // only a storefront order is ever put to wait: the others skip the read
      const storefront = storefrontSources.has(order.source);
      const wasPending = storefront && (await store.getPendingOrder(connection.id, orderId)) !== undefined;

      // A storefront order often arrives paid before the shopper's browser reports the
      // order-received page; its link outranks every later source, so it gets a grace period.
      const until = new Date(new Date(wooGmtToIso(raw.date_created_gmt)).getTime() + deps.linkGraceMs);
      const mayWait =
        trigger !== 'grace_expired' &&
        order.paid &&
        !chain.linkKnown &&
        storefront &&
        !chain.candidates.some((c) => c.source === 'order_meta') &&
        (plan.jobs.length > 0 || plan.unattributed !== undefined) &&
        now.getTime() < until.getTime();
      if (mayWait) {
        // A row per order (never a list in the connection's settings, which several processes
        // rewrite). Not caught: an order that cannot be recorded as waiting fails its request, so
        // Woo counts a failed delivery and reconciliation brings it again, rather than answering
        // "waiting" for an order nothing will come back to. The payload holds no personal data:
        // the order is read again over REST when its wait is over.
        if (!wasPending) {
          await store.putPendingOrder({ storeId: connection.id, orderId, payload: JSON.stringify({ number: order.orderNumber, status: raw.status }), dueAt: until, now });
        }
        metrics.orders.inc({ result: 'waiting_for_link', trigger });
        logger.info({ ...bound, status: order.status, until: until.toISOString() }, 'paid order waits for its order-received link');
        return { kind: 'waiting_for_link', until };
      }

      // planned against the order's outbox history, and stored only if that is still its history
      const {
        result: stored,
        value: planned,
        history,
      } = await enqueueAgainstHistory(store, {
        storeId: connection.id,
        orderId,
        jobs: prior,
        plan: (known, jobs) => {
          const again = jobs === prior ? plan : planPostbacks({ order, offers, now, history: known });
          // an order reported before is not unattributed because its chain finds less today
          const reported = known.some((h) => isConversionEvent(h.event));
          const unattributed =
            again.unattributed && !reported
              ? {
                  storeId: connection.id,
                  orderId,
                  orderNumber: order.orderNumber,
                  reason: chain.customerMapSkipped ? `${again.unattributed.reason} [${chain.customerMapSkipped}]` : again.unattributed.reason,
                  at: now,
                }
              : undefined;
          return { value: { plan: again, unattributed }, enqueue: { jobs: again.jobs, ...(unattributed ? { unattributed } : {}), now } };
        },
      });
      const { unattributed } = planned;
      const first = planned.plan.jobs[0];
      const customerMap = await rememberCustomerClick(store, {
        merchantId: order.merchantId,
        customerId: order.customerId === undefined ? undefined : wooCustomerKey(connection.id, order.customerId),
        job: insertedConversion(planned.plan.jobs, history, stored),
        candidates: order.idCandidates,
        offers,
        orderCreatedAt: order.createdAt,
        domain: order.storeDomain,
        now,
      });
      if (wasPending || trigger === 'grace_expired') await store.deletePendingOrder(connection.id, orderId);

      const result = planned.plan.jobs.length > 0 ? (stored.inserted > 0 ? 'enqueued' : 'duplicate') : unattributed ? 'unattributed' : 'nothing_to_send';
      metrics.orders.inc({ result, trigger });
      logger.info(
        {
          ...bound,
          status: order.status,
          paid: order.paid,
          inserted: stored.inserted,
          duplicates: stored.duplicates,
          skipped: planned.plan.skipped.map((s) => `${s.offerId}${s.event ? `/${s.event}` : ''}: ${s.reason}`),
          idSource: first?.idSource ?? null,
          customerMap,
          ...(unattributed ? { unattributed: unattributed.reason } : {}),
        },
        unattributed ? 'order is unattributed' : 'order processed',
      );
      return {
        kind: 'planned',
        inserted: stored.inserted,
        duplicates: stored.duplicates,
        skipped: planned.plan.skipped.length,
        unattributed: unattributed?.reason ?? null,
        idSource: first?.idSource ?? null,
      };
    },

    async forget(connection, orderId) {
      await store.deletePendingOrder(connection.id, orderId);
    },
  };
}
