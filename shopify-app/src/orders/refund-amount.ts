import { addDecimals, compareDecimals, err, ok, parseDecimal, type MoneyPair, type OrderAmounts, type OrderRefund, type Result } from '@clickthread/core';
import { addPairs, negatePair, pairFromSet, zeroPair } from './money.ts';
import type { MoneySet, RefundPayload } from './shopify-payload.ts';

export interface RefundFacts {
  readonly refund: OrderRefund;
  /**
   * What the money returned is made of, as an order's amounts (its total is the refund): the items'
   * subtotal less any discrepancy, their tax and the shipping's, the shipping. Undefined for a refund
   * known only from its transactions.
   */
  readonly composition?: OrderAmounts;
  /** Currency codes read from the refund's money sets, when it has any. */
  readonly currency?: MoneyPair;
  /** The refund had only transactions (one currency): its shop amount is the presentment amount. */
  readonly approximateShop: boolean;
}

/**
 * What a refund gave back, in shop and presentment money.
 *
 * Shopify's refund is built from parts that each carry both currencies: refunded line items
 * (subtotal + tax), refunded shipping lines, and order adjustments, which account for the difference
 * between what the parts are worth and what was refunded (a shipping refund is an adjustment of
 * "-5.00"; refunding less than the items' value is a positive "refund_discrepancy"). So the money
 * returned is items + shipping lines − adjustments. Only when a refund has no parts at all (an
 * amount-only refund from an older API version) do the transactions decide; they carry one currency,
 * the buyer's, and the shop's amount is then unknown: the presentment amount stands in for both, and
 * the caller is told so.
 *
 * The parts also say what the refund is made of, so that an offer paid on the subtotal reverses the
 * items' share and not the shipping: adjustments of kind `shipping_refund` are shipping, every other
 * adjustment (`refund_discrepancy`) comes off the items; adjustment tax is tax.
 */
export function refundAmount(
  refund: RefundPayload,
): Result<{ amount: MoneyPair; composition?: OrderAmounts; currency?: MoneyPair; approximateShop: boolean }> {
  const items = refund.refund_line_items ?? [];
  const adjustments = refund.order_adjustments ?? [];
  const shippingAdjusted = adjustments.some((a) => a.kind === 'shipping_refund');
  // newer API versions report refunded shipping as lines instead of a shipping_refund adjustment;
  // never count the same shipping twice
  const shippingLines = shippingAdjusted ? [] : (refund.refund_shipping_lines ?? []);

  // what was returned, by kind; adjustments count negatively (a shipping refund is "-5.00")
  const subtotal: MoneyPair[] = [];
  const tax: MoneyPair[] = [];
  const shipping: MoneyPair[] = [];
  let currency: MoneyPair | undefined;
  const take = (set: MoneySet | null | undefined, what: string, into: MoneyPair[], sign: 1 | -1): string | undefined => {
    if (!set) return undefined;
    const pair = pairFromSet(set, what);
    if (!pair.ok) return pair.reason;
    currency ??=
      set.shop_money.currency_code && set.presentment_money.currency_code
        ? { shop: set.shop_money.currency_code, presentment: set.presentment_money.currency_code }
        : undefined;
    into.push(sign === 1 ? pair.value : negatePair(pair.value));
    return undefined;
  };
  for (const [i, item] of items.entries()) {
    const problem =
      take(item.subtotal_set, `refund_line_items.${i}.subtotal_set`, subtotal, 1) ??
      take(item.total_tax_set, `refund_line_items.${i}.total_tax_set`, tax, 1);
    if (problem) return err(problem);
  }
  for (const [i, line] of shippingLines.entries()) {
    const problem =
      take(line.subtotal_amount_set, `refund_shipping_lines.${i}.subtotal_amount_set`, shipping, 1) ??
      take(line.tax_amount_set, `refund_shipping_lines.${i}.tax_amount_set`, tax, 1);
    if (problem) return err(problem);
  }
  for (const [i, adjustment] of adjustments.entries()) {
    const problem =
      take(adjustment.amount_set, `order_adjustments.${i}.amount_set`, adjustment.kind === 'shipping_refund' ? shipping : subtotal, -1) ??
      take(adjustment.tax_amount_set, `order_adjustments.${i}.tax_amount_set`, tax, -1);
    if (problem) return err(problem);
  }

  if (subtotal.length + tax.length + shipping.length > 0) {
    const composition = { subtotal: clampPair(addPairs(...subtotal)), tax: clampPair(addPairs(...tax)), shipping: clampPair(addPairs(...shipping)) };
    const amount = addPairs(...subtotal, ...tax, ...shipping);
    return ok({
      amount,
      composition: { ...composition, total: clampPair(amount), discounts: zeroPair },
      ...(currency ? { currency } : {}),
      approximateShop: false,
    });
  }

  let total = '0.00';
  let transactionCurrency: string | undefined;
  for (const [i, t] of (refund.transactions ?? []).entries()) {
    if ((t.kind ?? 'refund') !== 'refund' || (t.status ?? 'success') !== 'success') continue;
    const value = parseDecimal(t.amount);
    if (!value.ok) return err(`transactions.${i}.amount: ${value.reason}`);
    total = addDecimals(total, value.value);
    transactionCurrency ??= t.currency ?? undefined;
  }
  return ok({
    amount: { shop: total, presentment: total },
    ...(transactionCurrency ? { currency: { shop: transactionCurrency, presentment: transactionCurrency } } : {}),
    approximateShop: compareDecimals(total, '0') !== 0,
  });
}

/** The refund as core sees it; refunds of nothing (a restock without money back) are not events. */
export function refundFacts(refund: RefundPayload): Result<RefundFacts | undefined> {
  const computed = refundAmount(refund);
  if (!computed.ok) return err(`refund ${refund.id}: ${computed.reason}`);
  const { amount, composition, currency, approximateShop } = computed.value;
  if (compareDecimals(amount.shop, '0') <= 0 && compareDecimals(amount.presentment, '0') <= 0) return ok(undefined);
  const createdAt = refund.created_at ?? refund.processed_at ?? undefined;
  return ok({
    refund: { id: refund.id, amount: clampPair(amount), ...(createdAt ? { createdAt: toIso(createdAt) ?? createdAt } : {}) },
    ...(composition ? { composition } : {}),
    ...(currency ? { currency } : {}),
    approximateShop,
  });
}

function clampPair(p: MoneyPair): MoneyPair {
  return {
    shop: compareDecimals(p.shop, '0') < 0 ? zeroPair.shop : p.shop,
    presentment: compareDecimals(p.presentment, '0') < 0 ? zeroPair.presentment : p.presentment,
  };
}

export function toIso(value: string): string | undefined {
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}
