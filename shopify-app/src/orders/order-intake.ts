import { enqueueAgainstHistory, isConversionEvent, planPostbacks, type Clock, type IdCandidate, type Logger, type Order, type OrderRefund, type PlanSkip, insertedConversion, rememberCustomerClick } from '@clickthread/core';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import type { ShopifyOrderFacts } from './order-facts.ts';
import { resolveIdChain } from './resolve-id-chain.ts';

/**
 * From a Shopify order (webhook or reconciliation) to jobs in the outbox. The webhook answers as soon
 * as this returns: everything is one store transaction (jobs, webhook receipt, unattributed row), and
 * the worker delivers later.
 *
 * Conversions (sale, lead, first order) come from the ID chain; reversals (refund, cancel) are core's
 * to plan from the order's rows in the outbox (its history): only against a conversion that was
 * reported, with the transaction ID that conversion used — the chain could resolve differently by
 * now — in the offer's amount basis and never more than the conversion; a cancellation reverses
 * what the refunds have not.
 */

export interface IntakeDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface WebhookReceipt {
  readonly storeId: string;
  /** The delivery's dedupe key (event id, else webhook id). */
  readonly webhookId: string;
}

export type IntakeOutcome =
  | { readonly kind: 'duplicate_webhook' }
  | {
      readonly kind: 'handled';
      readonly inserted: number;
      readonly duplicates: number;
      readonly skipped: readonly PlanSkip[];
      readonly unattributed?: string;
    };

/** Marks in the webhook-receipt table that an order was seen cancelled (kept durably, never in memory). */
export function cancelledMarker(orderId: string): string {
  return `orders/cancelled:${orderId}`;
}

/**
 * Marks in the webhook-receipt table that refunds/create decided a refund from the refund's own
 * parts (see refund-intake.ts): the order paths, which only see the refund's total, leave it alone.
 */
export function refundDecidedMarker(orderId: string, refundId: string): string {
  return `refunds/create:${orderId}:${refundId}`;
}

export function toOrder(facts: ShopifyOrderFacts, shop: StoreConnection, candidates: readonly IdCandidate[]): Order {
  return {
    platform: 'shopify',
    merchantId: shop.merchantId,
    storeId: shop.id,
    storeDomain: shop.domain,
    orderId: facts.orderId,
    orderNumber: facts.orderNumber,
    status: facts.financialStatus,
    paid: facts.paid,
    cancelled: facts.cancelled,
    fullyRefunded: facts.fullyRefunded,
    test: facts.test,
    source: facts.source,
    currency: facts.currency,
    amounts: facts.amounts,
    refunds: facts.refunds,
    coupons: facts.coupons,
    ...(facts.customerId === undefined ? {} : { customerId: facts.customerId }),
    ...(facts.firstOrder === undefined ? {} : { firstOrder: facts.firstOrder }),
    createdAt: facts.createdAt,
    idCandidates: candidates,
  };
}


export async function takeOrder(
  deps: IntakeDeps,
  input: {
    readonly shop: StoreConnection;
    readonly facts: ShopifyOrderFacts;
    readonly webhook?: WebhookReceipt;
    /** What brought the order: a webhook topic or "reconcile". */
    readonly via: string;
  },
): Promise<IntakeOutcome> {
  const { store, clock } = deps;
  const { shop, facts, webhook, via } = input;
  const log = deps.logger.child({ shop: shop.domain, orderId: facts.orderId, via });
  const now = clock.now();

  // No hasProcessedWebhook up front: the enqueue below stores nothing for a webhook id seen before
  // and says so (webhookIsNew), and everything before it only reads (or writes the idempotent
  // cancelled marker). One store query less per delivery; a duplicate costs a few reads more.
  const offers = (await store.listOffers(shop.merchantId)).filter((o) => o.enabled);
  const chain = await resolveIdChain({ facts, offers, merchantId: shop.merchantId, store });
  // A cancellation can arrive before the orders/paid of the same order (deliveries are not ordered):
  // remember it durably so that the late orders/paid reports nothing.
  let cancelled = facts.cancelled;
  if (facts.cancelled) {
    await store.enqueue({ jobs: [], webhook: { storeId: shop.id, webhookId: cancelledMarker(facts.orderId) }, now });
  } else if (await store.hasProcessedWebhook(shop.id, cancelledMarker(facts.orderId))) {
    cancelled = true;
  }

  const refunds: OrderRefund[] = [];
  for (const refund of facts.refunds) {
    if (!(await store.hasProcessedWebhook(shop.id, refundDecidedMarker(facts.orderId, refund.id)))) refunds.push(refund);
  }
  const order: Order = {
    ...toOrder(facts, shop, chain.candidates),
    cancelled,
    refunds,
    // a full refund stands for itself only when the order lists no refund at all
    fullyRefunded: facts.fullyRefunded && facts.refunds.length === 0,
  };
  // planned against the order's outbox history, and stored only if that is still its history
  const { result, value: planned, history } = await enqueueAgainstHistory(store, {
    storeId: shop.id,
    orderId: facts.orderId,
    plan: (known) => {
      const plan = planPostbacks({ order, offers, now, history: known });
      // an order reported before is not unattributed because its chain finds less today (its cart
      // registration is gone once it became this order)
      const reported = known.some((h) => isConversionEvent(h.event));
      const unattributed = plan.unattributed && !reported ? `${plan.unattributed.reason} [${describeSource(facts)}; ${chain.report.join('; ')}]` : undefined;
      return {
        value: { plan, unattributed },
        enqueue: {
          jobs: plan.jobs,
          ...(webhook ? { webhook } : {}),
          ...(unattributed === undefined
            ? {}
            : { unattributed: { storeId: shop.id, orderId: facts.orderId, orderNumber: facts.orderNumber, reason: unattributed, at: now } }),
          now,
        },
      };
    },
  });
  const jobs = planned.plan.jobs;
  const skipped: PlanSkip[] = [...planned.plan.skipped];
  const unattributed = planned.unattributed;
  if (!result.webhookIsNew) return { kind: 'duplicate_webhook' };
  if (cancelled && !facts.cancelled) {
    log.info({ orderNumber: facts.orderNumber }, 'order was cancelled before this delivery: no conversion is reported');
  }

  // Three independent writes (the order-received link, the customer's 'customer' capture, the
  // cart's 'cart_token' capture): on SQLite with sync=full each waits for a WAL flush, so they run
  // together and share it. allSettled: the request ends only when every write has, even if one fails.
  const [linked, remembered, deleted] = await Promise.allSettled([
    chain.visitorToken ? store.linkOrder({ storeId: shop.id, orderId: facts.orderId, visitorToken: chain.visitorToken, linkedAt: now }) : undefined,
    // the customer id is this shop's (Capture.storeId): shop/redact takes the map entry along
    rememberCustomerClick(store, {
      merchantId: shop.merchantId,
      customerId: facts.customerId,
      job: insertedConversion(jobs, history, result),
      candidates: chain.candidates,
      offers,
      orderCreatedAt: facts.createdAt,
      domain: null,
      now,
    }),
    // A cart becomes an order once; its registration has done its work (and is personal data).
    facts.cartToken ? store.deleteCaptures(shop.merchantId, 'cart_token', [facts.cartToken]) : undefined,
  ]);
  if (linked.status === 'rejected') throw linked.reason;
  if (remembered.status === 'rejected') throw remembered.reason;
  if (deleted.status === 'rejected') throw deleted.reason;
  const customerMap = remembered.value;

  if (facts.approximateRefunds.length > 0) {
    log.warn({ refunds: facts.approximateRefunds }, 'refund without money sets: its shop-currency amount is the buyer-currency amount');
  }
  if (unattributed !== undefined) {
    log.info({ orderNumber: facts.orderNumber, source: facts.source, reason: unattributed }, 'order unattributed');
  }
  for (const skip of skipped) log.info({ orderNumber: facts.orderNumber, offerId: skip.offerId, event: skip.event, reason: skip.reason }, 'offer skipped');
  (result.inserted > 0 ? log.info : log.debug).call(
    log,
    { orderNumber: facts.orderNumber, inserted: result.inserted, duplicates: result.duplicates, events: jobs.map((j) => `${j.offerId}:${j.eventKey}`), customerMap },
    'order handled',
  );
  return {
    kind: 'handled',
    inserted: result.inserted,
    duplicates: result.duplicates,
    skipped,
    ...(unattributed === undefined ? {} : { unattributed }),
  };
}

function describeSource(facts: ShopifyOrderFacts): string {
  switch (facts.source) {
    case 'shopify_draft_order':
      return 'draft order (source_name shopify_draft_order): made in the admin, it has no cart and no landing page';
    case 'pos':
      return 'point-of-sale order (source_name pos): no online session';
    case 'subscription_contract':
    case 'subscription_contract_checkout_one':
      return `subscription order (source_name ${facts.source}): renewals carry no cart attributes`;
    default:
      return `source_name ${facts.source}`;
  }
}
