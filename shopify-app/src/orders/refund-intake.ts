import {
  compareDecimals,
  err,
  enqueueAgainstHistory,
  isConversionEvent,
  ok,
  planPostbacks,
  type MoneyPair,
  type Offer,
  type Order,
  type PlanSkip,
  type PostbackJobDraft,
  type Result,
} from '@clickthread/core';
import type { PostbackJob, StoreConnection } from '@clickthread/core/storage';
import { refundDecidedMarker, type IntakeDeps, type IntakeOutcome, type WebhookReceipt } from './order-intake.ts';
import { refundFacts, type RefundFacts } from './refund-amount.ts';
import { describeZodIssues, refundPayloadSchema } from './shopify-payload.ts';

export interface RefundWebhookFacts {
  readonly orderId: string;
  readonly refundId: string;
  /** Undefined for a refund of nothing (restock only): no event. */
  readonly refund?: RefundFacts;
}

/** Reads a refunds/create body. */
export function refundFactsFromPayload(body: unknown): Result<RefundWebhookFacts> {
  const parsed = refundPayloadSchema.safeParse(body);
  if (!parsed.success) return err(`refund payload not understood: ${describeZodIssues(parsed.error)}`);
  if (parsed.data.order_id === undefined) return err('refund payload not understood: order_id is missing');
  const facts = refundFacts(parsed.data);
  if (!facts.ok) return err(facts.reason);
  return ok({ orderId: parsed.data.order_id, refundId: parsed.data.id, ...(facts.value ? { refund: facts.value } : {}) });
}

/** The conversion an offer reported for the order (the sale first), unless the network refused it or it never went out. */
function conversionOf(prior: readonly PostbackJob[], offerId: string): PostbackJob | undefined {
  const reported = prior.filter((j) => j.offerId === offerId && isConversionEvent(j.event) && j.status !== 'failed' && j.status !== 'dead');
  return reported.find((j) => j.event === 'sale') ?? reported.find((j) => j.event === 'first_order') ?? reported[0];
}

/**
 * The currency pair for an offer's reversal: the refund's own codes (from its money sets), else —
 * a refund known only from its transactions, in the buyer's currency — the transaction currency,
 * which only stands for the offer's side when it is the currency the offer's conversion used.
 */
function currencyFor(offer: Offer, refund: RefundFacts, conversion: PostbackJob): Result<MoneyPair> {
  const side = offer.amount.currency === 'presentment' ? 'presentment' : 'shop';
  const pair = refund.currency;
  if (!pair) return err('the refund names no currency');
  if (pair[side] !== conversion.currency) return err(`the refund is in ${pair[side]}, the conversion was reported in ${conversion.currency}`);
  return ok(pair);
}

/**
 * refunds/create carries the refund, not the order. Core plans the reversal against the order's
 * rows in the outbox (its history), as for any other delivery: only an offer whose conversion was
 * reported reverses anything, with that conversion's transaction ID, never more than it; the order
 * number and test flag come from that conversion, and the currency is taken per offer (each offer
 * reports the shop's or the buyer's side of the pair; another offer's job says nothing about it).
 *
 * The refund stands in for the order it came from: its amounts are what the refund is made of
 * (items, tax, shipping), so core's "refund × basis ÷ total" gives the refund's own share of the
 * offer's basis — a shipping-only refund reverses nothing of a subtotal offer. Such a decision is
 * recorded (refundDecidedMarker) so that the order paths, which know only the refund's total and
 * would pro-rate it, do not decide the same refund again. A refund of an order that reported
 * nothing yet reverses nothing and is not recorded: if its orders/paid is only late, the order
 * paths find the refund with the order afterwards.
 */
export async function takeRefund(
  deps: IntakeDeps,
  input: { readonly shop: StoreConnection; readonly facts: RefundWebhookFacts; readonly webhook?: WebhookReceipt },
): Promise<IntakeOutcome> {
  const { store, clock } = deps;
  const { shop, facts, webhook } = input;
  const log = deps.logger.child({ shop: shop.domain, orderId: facts.orderId, refundId: facts.refundId, via: 'refunds/create' });
  const now = clock.now();
  if (webhook && (await store.hasProcessedWebhook(webhook.storeId, webhook.webhookId))) return { kind: 'duplicate_webhook' };

  const refund = facts.refund;
  const offers = refund
    ? (await store.listOffers(shop.merchantId)).filter((o) => o.enabled && (o.postbacks.refund !== undefined || o.postbacks.cancel !== undefined))
    : [];
  // planned against the order's outbox history, and stored only if that is still its history
  const { result, value: planned } = await enqueueAgainstHistory(store, {
    storeId: shop.id,
    orderId: facts.orderId,
    plan: (history, prior) => {
      const jobs: PostbackJobDraft[] = [];
      const skipped: PlanSkip[] = [];
      let decided = false;
      if (refund) {
        for (const offer of offers) {
          const conversion = conversionOf(prior, offer.id);
          if (!conversion) continue;
          const currency = currencyFor(offer, refund, conversion);
          if (!currency.ok) {
            // left to the order paths, which know the order's currencies
            skipped.push({ offerId: offer.id, event: 'refund', reason: currency.reason });
            continue;
          }
          decided = true;
          const amounts = refund.composition ?? {
            subtotal: refund.refund.amount,
            total: refund.refund.amount,
            tax: { shop: '0.00', presentment: '0.00' },
            shipping: { shop: '0.00', presentment: '0.00' },
            discounts: { shop: '0.00', presentment: '0.00' },
          };
          const order: Order = {
            platform: 'shopify',
            merchantId: shop.merchantId,
            storeId: shop.id,
            storeDomain: shop.domain,
            orderId: facts.orderId,
            orderNumber: conversion.orderNumber,
            status: 'refund',
            // the refund alone: no conversion is planned from it, only its reversal against the history
            paid: false,
            cancelled: false,
            fullyRefunded: false,
            test: conversion.test,
            source: 'unknown',
            currency: currency.value,
            amounts,
            refunds: [refund.refund],
            coupons: [],
            createdAt: refund.refund.createdAt ?? now.toISOString(),
            idCandidates: [],
          };
          const plan = planPostbacks({ order, offers: [offer], now, history });
          skipped.push(...plan.skipped);
          for (const job of plan.jobs) {
            // nothing of the offer's basis came back (a shipping refund for a subtotal offer)
            if (compareDecimals(job.amount, '0') <= 0) skipped.push({ offerId: offer.id, event: job.event, reason: `${job.eventKey}: the refund returns none of the offer's amount basis` });
            else jobs.push(job);
          }
        }
      }
      return { value: { jobs, skipped, decided }, enqueue: { jobs, ...(webhook ? { webhook } : {}), now } };
    },
  });
  const { jobs, skipped, decided } = planned;
  if (!result.webhookIsNew) return { kind: 'duplicate_webhook' };
  if (decided) await store.enqueue({ jobs: [], webhook: { storeId: shop.id, webhookId: refundDecidedMarker(facts.orderId, facts.refundId) }, now });

  if (!refund) log.info({}, 'refund returns no money: no reversal');
  else if (!decided && skipped.length === 0) log.info({}, 'refund of an order that reported no conversion: nothing to reverse');
  if (refund?.approximateShop) log.warn({}, 'refund without money sets: its shop-currency amount is the buyer-currency amount');
  if (refund && !refund.composition) log.warn({}, "refund without parts: reversed whole, whatever the offer's amount basis");
  for (const skip of skipped) log.info({ offerId: skip.offerId, event: skip.event, reason: skip.reason }, 'offer skipped');
  log.info({ inserted: result.inserted, duplicates: result.duplicates, events: jobs.map((j) => `${j.offerId}:${j.eventKey}`) }, 'refund handled');
  return { kind: 'handled', inserted: result.inserted, duplicates: result.duplicates, skipped };
}
