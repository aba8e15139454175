import { addDecimals, negateDecimal, type IdCandidate, type MoneyPair, type Order, type OrderRefund } from '@clickthread/core';
import { wooGmtToIso, type WooOrder } from './woo-order.ts';

export interface WooOrderContext {
  readonly merchantId: string;
  readonly storeId: string;
  readonly storeDomain: string;
  /** `created_via` values treated as test orders (default: manual admin orders). */
  readonly testSources: readonly string[];
}

/** `wc_get_is_paid_statuses()`. */
const paidStatuses: ReadonlySet<string> = new Set(['processing', 'completed']);

// Woo has one currency per order: what the shop books is what the buyer saw.
const same = (amount: string): MoneyPair => ({ shop: amount, presentment: amount });

const sum = (values: readonly string[]): string => (values.length === 0 ? '0.00' : addDecimals(...values));

const positive = (amount: string): string => (amount.trim().startsWith('-') ? negateDecimal(amount) : amount);

/**
 * Whether the order has been paid at some point. A paid order that is later refunded, cancelled or
 * put back on hold keeps `date_paid`, which is what lets its reversal postbacks go out; `failed`
 * never counts, whatever the payment gateway left behind.
 */
export function isPaid(order: Pick<WooOrder, 'status' | 'date_paid_gmt'>): boolean {
  if (order.status === 'failed') return false;
  if (paidStatuses.has(order.status) || order.status === 'refunded') return true;
  return order.date_paid_gmt !== null && order.date_paid_gmt !== undefined;
}

/**
 * Woo stores line, discount and shipping amounts without tax whatever the shop's setting; with
 * `prices_include_tax` the shopper saw them with tax, which is what the offer's amount basis means,
 * so their tax is added back. `total` and `total_tax` are the same either way.
 */
function amountsOf(order: WooOrder): Order['amounts'] {
  const inclusive = order.prices_include_tax;
  const lines = sum(order.line_items.map((l) => (inclusive ? addDecimals(l.total, l.total_tax) : l.total)));
  return {
    subtotal: same(lines),
    total: same(order.total),
    tax: same(order.total_tax),
    shipping: same(inclusive ? addDecimals(order.shipping_total, order.shipping_tax) : order.shipping_total),
    discounts: same(inclusive ? addDecimals(order.discount_total, order.discount_tax) : order.discount_total),
  };
}

function refundsOf(order: WooOrder): OrderRefund[] {
  // `refunds[]` lists refunds with negative totals ("-5.00"); core wants the positive amount.
  return order.refunds.map((r) => ({ id: String(r.id), amount: same(positive(r.total)) }));
}

/** Maps a validated REST v3 order into core's normalized `Order`. Pure. */
export function mapWooOrder(order: WooOrder, context: WooOrderContext, idCandidates: readonly IdCandidate[]): Order {
  const source = order.created_via === '' ? 'unknown' : order.created_via;
  return {
    platform: 'woocommerce',
    merchantId: context.merchantId,
    storeId: context.storeId,
    storeDomain: context.storeDomain,
    orderId: String(order.id),
    orderNumber: order.number ?? String(order.id),
    status: order.status,
    paid: isPaid(order),
    cancelled: order.status === 'cancelled',
    fullyRefunded: order.status === 'refunded',
    test: context.testSources.includes(source),
    source,
    currency: same(order.currency),
    amounts: amountsOf(order),
    refunds: refundsOf(order),
    coupons: order.coupon_lines.map((c) => c.code),
    ...(order.customer_id > 0 ? { customerId: String(order.customer_id) } : {}),
    createdAt: wooGmtToIso(order.date_created_gmt),
    idCandidates,
  };
}
