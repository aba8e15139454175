import { err, ok, parseDecimal, type MoneyPair, type Order, type OrderAmounts, type OrderRefund, type Result } from '@clickthread/core';
import { addPairs, pairFromSet, zeroPair } from './money.ts';
import { refundFacts, toIso } from './refund-amount.ts';
import { orderPayloadSchema, describeZodIssues, type MoneySet, type OrderPayload } from './shopify-payload.ts';

/** A name/value the order carries from the cart (`note_attributes`, GraphQL `customAttributes`). */
export interface OrderAttribute {
  readonly name: string;
  readonly value: string;
}

/**
 * What Clickthread knows about a Shopify order, whichever way it arrived (webhook body or GraphQL
 * reconciliation): the normalized order fields plus the raw inputs of the ID chain.
 */
// the fields core's Order has too keep its types (and docs); the rest is what only a Shopify payload tells
export interface ShopifyOrderFacts
  extends Pick<Order, 'orderId' | 'orderNumber' | 'paid' | 'cancelled' | 'fullyRefunded' | 'test' | 'source' | 'currency' | 'amounts' | 'refunds' | 'coupons' | 'customerId' | 'createdAt' | 'firstOrder'> {
  readonly financialStatus: string;
  /** Refund ids whose shop amount had to stand in for an unknown conversion (see refundAmount). */
  readonly approximateRefunds: readonly string[];
  readonly attributes: readonly OrderAttribute[];
  /** The landing page the buyer entered the shop on: REST `landing_site`, GraphQL `customerJourneySummary.firstVisit.landingPage`. */
  readonly landingPages: readonly string[];
  readonly cartToken?: string;
}

/** financial_status values (REST, lower case; GraphQL's displayFinancialStatus lower-cased) that mean the money was taken. */
const paidStatuses = new Set(['paid', 'partially_refunded', 'refunded']);

export function isPaidStatus(status: string): boolean {
  return paidStatuses.has(status.toLowerCase());
}

/** The money fields of an order, each shop + presentment; `current_*` when the order was edited. */
export interface MoneyFields {
  readonly subtotal?: MoneyPair | undefined;
  readonly total?: MoneyPair | undefined;
  readonly tax?: MoneyPair | undefined;
  readonly discounts?: MoneyPair | undefined;
  readonly shipping?: MoneyPair | undefined;
}

/**
 * Which amounts a sale reports. `current_*` are the amounts after order edits and refunds; refunds
 * are reported as their own (reversal) events, so an order that has refunds reports its original
 * amounts and lets each refund subtract itself, or the refund would be counted twice.
 */
export function chooseAmounts(original: MoneyFields, current: MoneyFields, hasRefunds: boolean): Result<OrderAmounts> {
  const pick = (key: keyof MoneyFields): MoneyPair | undefined => (hasRefunds ? original[key] : (current[key] ?? original[key]));
  const subtotal = pick('subtotal');
  const total = pick('total');
  if (!subtotal) return err('the order has no subtotal amount');
  if (!total) return err('the order has no total amount');
  return ok({
    subtotal,
    total,
    tax: pick('tax') ?? zeroPair,
    discounts: pick('discounts') ?? zeroPair,
    shipping: pick('shipping') ?? zeroPair,
  });
}

/** Reads a REST-shaped order body (webhook) into facts; every problem is reported at once. */
export function orderFactsFromPayload(body: unknown): Result<ShopifyOrderFacts> {
  const parsed = orderPayloadSchema.safeParse(body);
  if (!parsed.success) return err(`order payload not understood: ${describeZodIssues(parsed.error)}`);
  return orderFactsFromParsed(parsed.data);
}

export function orderFactsFromParsed(o: OrderPayload): Result<ShopifyOrderFacts> {
  const problems: string[] = [];
  const shopCurrency = o.currency;
  const presentmentCurrency = o.presentment_currency ?? o.currency;
  const singleCurrency = shopCurrency === presentmentCurrency;

  const fromSet = (set: MoneySet | null | undefined, plain: string | number | null | undefined, what: string): MoneyPair | undefined => {
    if (set) {
      const pair = pairFromSet(set, what);
      if (pair.ok) return pair.value;
      problems.push(pair.reason);
      return undefined;
    }
    if (plain === null || plain === undefined) return undefined;
    const value = parseDecimal(plain);
    if (!value.ok) {
      problems.push(`${what}: ${value.reason}`);
      return undefined;
    }
    // without the _set, the buyer's amount is only known when the buyer paid in the shop's currency
    if (!singleCurrency) {
      problems.push(`${what}: no presentment amount for an order in ${presentmentCurrency}`);
      return undefined;
    }
    return { shop: value.value, presentment: value.value };
  };

  const shippingFromLines = (): MoneyPair | undefined => {
    const lines = o.shipping_lines ?? [];
    if (lines.length === 0) return undefined;
    const pairs: MoneyPair[] = [];
    for (const [i, line] of lines.entries()) {
      const pair = fromSet(line.discounted_price_set ?? line.price_set, undefined, `shipping_lines.${i}`);
      if (pair) pairs.push(pair);
    }
    return addPairs(...pairs);
  };

  const original: MoneyFields = {
    subtotal: fromSet(o.subtotal_price_set, o.subtotal_price, 'subtotal_price'),
    total: fromSet(o.total_price_set, o.total_price, 'total_price'),
    tax: fromSet(o.total_tax_set, o.total_tax, 'total_tax'),
    discounts: fromSet(o.total_discounts_set, o.total_discounts, 'total_discounts'),
    shipping: fromSet(o.total_shipping_price_set, undefined, 'total_shipping_price_set') ?? shippingFromLines(),
  };
  const current: MoneyFields = {
    subtotal: fromSet(o.current_subtotal_price_set, undefined, 'current_subtotal_price_set'),
    total: fromSet(o.current_total_price_set, undefined, 'current_total_price_set'),
    tax: fromSet(o.current_total_tax_set, undefined, 'current_total_tax_set'),
    discounts: fromSet(o.current_total_discounts_set, undefined, 'current_total_discounts_set'),
    shipping: fromSet(o.current_shipping_price_set, undefined, 'current_shipping_price_set'),
  };

  const refunds: OrderRefund[] = [];
  const approximateRefunds: string[] = [];
  for (const refund of o.refunds ?? []) {
    const facts = refundFacts(refund);
    if (!facts.ok) {
      problems.push(facts.reason);
      continue;
    }
    if (!facts.value) continue;
    refunds.push(facts.value.refund);
    const exact = facts.value.currency?.presentment === presentmentCurrency && singleCurrency;
    if (facts.value.approximateShop && !exact) approximateRefunds.push(refund.id);
  }

  const createdAt = toIso(o.created_at);
  if (!createdAt) problems.push(`created_at: "${o.created_at}" is not a date`);
  const amounts = chooseAmounts(original, current, refunds.length > 0);
  if (!amounts.ok) problems.push(amounts.reason);
  if (problems.length > 0 || !amounts.ok || !createdAt) return err(problems.join('; '));

  const status = (o.financial_status ?? 'unknown').toLowerCase();
  const attributes: OrderAttribute[] = [];
  for (const a of o.note_attributes ?? []) {
    if (a.value === null || a.value === undefined) continue;
    attributes.push({ name: a.name, value: String(a.value) });
  }
  const landing = o.landing_site?.trim();
  return ok({
    orderId: o.id,
    orderNumber: o.name ?? (o.order_number === null || o.order_number === undefined ? o.id : `#${o.order_number}`),
    financialStatus: status,
    paid: isPaidStatus(status),
    cancelled: o.cancelled_at !== null && o.cancelled_at !== undefined && o.cancelled_at !== '',
    fullyRefunded: status === 'refunded',
    test: o.test === true,
    source: o.source_name ?? 'unknown',
    currency: { shop: shopCurrency, presentment: presentmentCurrency },
    amounts: amounts.value,
    refunds,
    approximateRefunds,
    coupons: (o.discount_codes ?? []).map((d) => d.code).filter((c) => c !== ''),
    ...(o.customer ? { customerId: o.customer.id } : {}),
    createdAt,
    attributes,
    landingPages: landing ? [landing] : [],
    ...(o.cart_token ? { cartToken: o.cart_token } : {}),
  });
}
