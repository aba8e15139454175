import { checkTransactionId } from '../capture/transaction-id.ts';
import { isWithinWindow } from '../capture/capture-rules.ts';
import { captureParamsOf, offerAppliesTo, type Offer } from '../offers/offer-schema.ts';
import type { IdCandidate, MoneyPair, Order, PostbackEvent } from '../orders/order.ts';
import { addDecimals, compareDecimals, minDecimal, negateDecimal, scaleDecimal } from '../shared/decimal.ts';
import { checkTemplate, renderTemplate, type MacroValues } from '../templates/postback-template.ts';
import { idempotencyKeyOf, type PostbackJobDraft, type PriorPostback } from './postback-job.ts';

export interface PlanSkip {
  readonly offerId: string;
  readonly event?: PostbackEvent;
  readonly reason: string;
}

export interface PostbackPlan {
  readonly jobs: readonly PostbackJobDraft[];
  readonly skipped: readonly PlanSkip[];
  /** Set when no applicable offer found a usable ID: the order is logged as unattributed. */
  readonly unattributed?: { readonly reason: string };
}

export interface PlanInput {
  readonly order: Order;
  readonly offers: readonly Offer[];
  readonly now: Date;
  /**
   * The order's jobs already in the outbox. Reversals are planned only against a conversion that was
   * reported (here or in this plan), reuse its ID, and never add up to more than it.
   */
  readonly history?: readonly PriorPostback[];
}

interface EventOccurrence {
  readonly event: PostbackEvent;
  readonly eventKey: string;
  readonly amount: MoneyPair;
}

const finalFailures: ReadonlySet<PriorPostback['status']> = new Set(['failed', 'dead']);

function less(x: MoneyPair, y: MoneyPair): MoneyPair {
  return { shop: addDecimals(x.shop, negateDecimal(y.shop)), presentment: addDecimals(x.presentment, negateDecimal(y.presentment)) };
}

function amountFor(order: Order, offer: Offer): MoneyPair {
  const a = order.amounts;
  switch (offer.amount.basis) {
    case 'subtotal':
      return a.subtotal;
    case 'total':
      return a.total;
    case 'total_less_tax':
      return less(a.total, a.tax);
    case 'total_less_shipping':
      return less(a.total, a.shipping);
  }
}

const side = (offer: Offer): keyof MoneyPair => (offer.amount.currency === 'presentment' ? 'presentment' : 'shop');

/** The conversions this state of the order stands for; the outbox's unique key makes repeats harmless. */
export function conversionsOf(order: Order, offer: Offer): EventOccurrence[] {
  if (!order.paid || order.cancelled) return [];
  const base = amountFor(order, offer);
  const out: EventOccurrence[] = [
    { event: 'sale', eventKey: 'sale', amount: base },
    { event: 'lead', eventKey: 'lead', amount: base },
  ];
  if (order.firstOrder === true) out.push({ event: 'first_order', eventKey: 'first_order', amount: base });
  return out;
}

type Attribution = { ok: true; candidate: IdCandidate } | { ok: false; reason: string };

// Checking a template parses it, and a template's verdict depends only on its text and the two
// offer fields below; every webhook plans against the same few templates, so each is checked once.
// A bounded memo of a pure function, keyed by value (offers reach the planner as fresh copies).
const compiledTemplates = new Map<string, ReturnType<typeof checkTemplate>>();
const compiledTemplatesMax = 2_000;

function compiledTemplateOf(offer: Offer, spec: NonNullable<Offer['postbacks'][PostbackEvent]>): ReturnType<typeof checkTemplate> {
  const key = `${offer.allowHttp ? 'h' : 's'}${offer.extraParams.join(',')}\n${spec.url}`;
  const known = compiledTemplates.get(key);
  if (known) return known;
  const compiled = checkTemplate(spec.url, { extraMacros: offer.extraParams, allowHttp: offer.allowHttp });
  if (compiledTemplates.size >= compiledTemplatesMax) {
    const oldest = compiledTemplates.keys().next();
    if (!oldest.done) compiledTemplates.delete(oldest.value);
  }
  compiledTemplates.set(key, compiled);
  return compiled;
}

/** The first candidate of the chain that this offer can use. */
export function attributeOrder(order: Order, offer: Offer): Attribution {
  const params = captureParamsOf(offer);
  const orderTime = new Date(order.createdAt);
  const reasons: string[] = [];
  for (const candidate of order.idCandidates) {
    if (candidate.param !== undefined && !params.includes(candidate.param)) {
      reasons.push(`${candidate.source}: parameter "${candidate.param}" is not one of this offer's`);
      continue;
    }
    const checked = checkTransactionId(candidate.value);
    if (!checked.ok) {
      reasons.push(`${candidate.source}: ID refused (${checked.reason})`);
      continue;
    }
    if (candidate.capturedAt !== undefined && !isWithinWindow(candidate.capturedAt, orderTime, offer.attribution.windowDays)) {
      reasons.push(`${candidate.source}: click older than the ${offer.attribution.windowDays}-day window`);
      continue;
    }
    return { ok: true, candidate };
  }
  return { ok: false, reason: reasons.length ? reasons.join('; ') : 'no transaction ID found in any source' };
}

function macroValues(order: Order, offer: Offer, occurrence: EventOccurrence, candidate: IdCandidate, now: Date, test: boolean): MacroValues {
  const extras = candidate.extras ?? {};
  return {
    ...extras,
    transaction_id: candidate.value,
    amount: occurrence.amount[side(offer)],
    // reversals name the sale they reverse; extra conversions of one order need keys of their own,
    // since networks dedupe on click ID + order ID
    order_id: occurrence.event === 'lead' || occurrence.event === 'first_order' ? `${order.orderId}:${occurrence.event}` : order.orderId,
    order_number: order.orderNumber,
    currency: order.currency[side(offer)],
    event: occurrence.event,
    timestamp: String(Math.floor(now.getTime() / 1000)),
    coupon: order.coupons.join(','),
    store: order.storeDomain,
    offer_id: offer.id,
    test: test ? '1' : '0',
    sub1: extras['sub1'] ?? extras['aff_sub'],
    sub2: extras['sub2'] ?? extras['aff_sub2'],
    sub3: extras['sub3'] ?? extras['aff_sub3'],
    sub4: extras['sub4'] ?? extras['aff_sub4'],
    sub5: extras['sub5'] ?? extras['aff_sub5'],
  };
}

/** The conversion a reversal refers to: the sale first, then first_order, then lead. */
interface ReportedConversion {
  readonly idempotencyKey: string;
  readonly candidate: IdCandidate;
  /** In the offer's currency. */
  readonly amount: string;
}

function reportedConversion(offer: Offer, history: readonly PriorPostback[], planned: readonly PostbackJobDraft[]): ReportedConversion | undefined {
  for (const event of ['sale', 'first_order', 'lead'] as const) {
    const prior = history.find((h) => h.offerId === offer.id && h.event === event && !finalFailures.has(h.status));
    // a conversion planned again whose key the outbox already holds is no new report: if the
    // outbox row failed or died, nothing was reported
    const now = planned.find((j) => j.offerId === offer.id && j.event === event && !history.some((h) => h.idempotencyKey === j.idempotencyKey));
    const hit = prior ?? now;
    if (hit) return { idempotencyKey: hit.idempotencyKey, candidate: { source: hit.idSource, value: hit.transactionId }, amount: hit.amount };
  }
  return undefined;
}

/**
 * The reversals this state of the order calls for, each in the offer's amount basis and currency,
 * capped so that everything reversed never exceeds the conversion. A cancellation reverses what the
 * refunds have not; refunds the cancellation already covers are not sent on their own.
 */
function reversalsOf(order: Order, offer: Offer, conversion: ReportedConversion, history: readonly PriorPostback[]): { occurrences: EventOccurrence[]; skipped: PlanSkip[] } {
  const s = side(offer);
  const basis = amountFor(order, offer)[s];
  const total = order.amounts.total[s];
  const reversedBefore = history.filter((h) => h.offerId === offer.id && (h.event === 'refund' || h.event === 'cancel') && !finalFailures.has(h.status));
  const seen = new Set(reversedBefore.map((h) => h.eventKey));
  let remaining = reversedBefore.reduce((left, h) => addDecimals(left, negateDecimal(h.amount)), conversion.amount);
  const occurrences: EventOccurrence[] = [];
  const skipped: PlanSkip[] = [];
  const take = (event: PostbackEvent, eventKey: string, wanted: string) => {
    if (seen.has(eventKey)) return;
    if (compareDecimals(remaining, '0') <= 0) {
      skipped.push({ offerId: offer.id, event, reason: `${eventKey}: the conversion is already fully reversed` });
      return;
    }
    const amount = minDecimal(wanted, remaining);
    remaining = addDecimals(remaining, negateDecimal(amount));
    occurrences.push({ event, eventKey, amount: { shop: amount, presentment: amount } });
  };

  if (order.cancelled) {
    // without a cancel template, the refund template carries the cancellation
    const event: PostbackEvent = offer.postbacks.cancel ? 'cancel' : 'refund';
    take(event, 'cancel', remaining);
    return { occurrences, skipped };
  }
  for (const refund of order.refunds) take('refund', `refund:${refund.id}`, scaleDecimal(refund.amount[s], basis, total));
  if (order.fullyRefunded && order.refunds.length === 0) take('refund', 'refund:full', remaining);
  return { occurrences, skipped };
}

function hasReversalToSend(order: Order): boolean {
  return order.cancelled || order.refunds.length > 0 || order.fullyRefunded;
}

/**
 * From a normalized order, the merchant's offers and what the outbox already holds for the order, to
 * the postbacks to send. Pure: the caller gives "now" and stores the jobs; the outbox's unique key
 * turns a repeated plan into no new jobs.
 */
export function planPostbacks(input: PlanInput): PostbackPlan {
  const { order, offers, now } = input;
  const history = input.history ?? [];
  const jobs: PostbackJobDraft[] = [];
  const skipped: PlanSkip[] = [];
  const attributionFailures: string[] = [];
  let applicable = 0;

  const render = (offer: Offer, occurrence: EventOccurrence, candidate: IdCandidate, dependsOn: string | undefined): void => {
    const spec = offer.postbacks[occurrence.event];
    if (!spec) return;
    const flagged = order.test && offer.testOrders === 'send_flagged';
    const values = macroValues(order, offer, occurrence, candidate, now, flagged);
    const compiled = compiledTemplateOf(offer, spec);
    const url = compiled.ok ? renderTemplate(compiled.value, values) : undefined;
    if (!url?.ok) {
      skipped.push({ offerId: offer.id, event: occurrence.event, reason: `template cannot be rendered: ${compiled.ok ? url?.reason : compiled.reason.join('; ')}` });
      return;
    }
    jobs.push({
      idempotencyKey: idempotencyKeyOf({ storeId: order.storeId, orderId: order.orderId, offerId: offer.id, eventKey: occurrence.eventKey }),
      merchantId: order.merchantId,
      storeId: order.storeId,
      orderId: order.orderId,
      orderNumber: order.orderNumber,
      offerId: offer.id,
      event: occurrence.event,
      eventKey: occurrence.eventKey,
      method: spec.method,
      url: url.value,
      headers: spec.headers,
      transactionId: candidate.value,
      idSource: candidate.source,
      amount: values['amount'] ?? '0',
      currency: values['currency'] ?? '',
      test: order.test,
      allowHttp: offer.allowHttp,
      ...(dependsOn === undefined ? {} : { dependsOn }),
    });
  };

  for (const offer of offers) {
    if (!offerAppliesTo(offer, order.storeId)) continue;
    applicable += 1;
    if (order.test && offer.testOrders === 'skip') {
      skipped.push({ offerId: offer.id, reason: 'test order (offer skips test orders)' });
      continue;
    }

    const conversions = conversionsOf(order, offer).filter((o) => offer.postbacks[o.event] !== undefined);
    if (conversions.length > 0) {
      const attribution = attributeOrder(order, offer);
      if (attribution.ok) {
        for (const occurrence of conversions) render(offer, occurrence, attribution.candidate, undefined);
      } else {
        attributionFailures.push(`${offer.id}: ${attribution.reason}`);
        skipped.push({ offerId: offer.id, reason: attribution.reason });
      }
    }

    if (!hasReversalToSend(order) || (!offer.postbacks.refund && !offer.postbacks.cancel)) continue;
    const conversion = reportedConversion(offer, history, jobs);
    if (!conversion) {
      skipped.push({ offerId: offer.id, reason: 'no reported conversion to reverse' });
      continue;
    }
    const reversals = reversalsOf(order, offer, conversion, history);
    skipped.push(...reversals.skipped);
    const delivered = history.some((h) => h.idempotencyKey === conversion.idempotencyKey && h.status === 'succeeded');
    const dependsOn = delivered ? undefined : conversion.idempotencyKey;
    for (const occurrence of reversals.occurrences) render(offer, occurrence, conversion.candidate, dependsOn);
  }

  const unattributed =
    applicable > 0 && jobs.length === 0 && attributionFailures.length > 0 ? { reason: attributionFailures.join(' | ') } : undefined;
  return { jobs, skipped, ...(unattributed ? { unattributed } : {}) };
}

/** The outbox rows of an order as the planner's history. */
export function historyOf(jobs: readonly PriorPostback[]): PriorPostback[] {
  return jobs.map((j) => ({
    idempotencyKey: j.idempotencyKey,
    offerId: j.offerId,
    event: j.event,
    eventKey: j.eventKey,
    status: j.status,
    amount: j.amount,
    transactionId: j.transactionId,
    idSource: j.idSource,
  }));
}

