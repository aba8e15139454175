import { captureParamsOf, findTransactionId, type IdCandidate, type Offer } from '@clickthread/core';
import type { Capture, Store } from '@clickthread/core/storage';
import { metaValue, type WooOrder } from './woo-order.ts';

/**
 * The WooCommerce ID resolution chain (DESIGN.md): configured order meta → the order-received link
 * → Order Attribution (`session_entry` query, `utm_*`) → the customer's last known ID. Every source
 * that has something is returned, in chain order; core's planner takes, per offer, the first one
 * that offer can use, and records its source.
 */

export const attributionMetaPrefix = '_wc_order_attribution_';
export const sessionEntryMetaKey = `${attributionMetaPrefix}session_entry`;

export interface IdChainInput {
  readonly order: WooOrder;
  readonly merchantId: string;
  readonly storeId: string;
  /** Order meta keys the merchant stores the ID in (another plugin's, a custom checkout field…). */
  readonly idMetaKeys: readonly string[];
  readonly offers: readonly Offer[];
}

export interface IdChain {
  readonly candidates: readonly IdCandidate[];
  /** The order-received page linked this order to a visitor (whether or not the visitor had an ID). */
  readonly linkKnown: boolean;
  /** Set when the customer map was not asked, and why. */
  readonly customerMapSkipped?: string;
}

/**
 * Orders a shop's staff make (`created_via` `admin`: the order screen; `pos…`: a point of sale) are
 * not the customer's online purchase: the customer's remembered click did not bring them, so the
 * customer map alone never attributes them. Their own sources (configured meta, a link, Order
 * Attribution) still count. Renewals (`subscription`) and REST-made orders keep the map: it is made
 * for exactly those orders that carry no click of their own.
 */
export function staffMadeOrder(createdVia: string): boolean {
  const source = createdVia.toLowerCase();
  return source === 'admin' || source.startsWith('pos');
}

/**
 * The customer map's key for a Woo customer: WordPress numbers its users per site, so customer 7 of
 * one of a merchant's stores is not customer 7 of another; the map is kept per connection.
 */
export function wooCustomerKey(connectionId: string, customerId: number | string): string {
  return `${connectionId}:${customerId}`;
}

function fromCapture(source: IdCandidate['source'], capture: Capture): IdCandidate {
  return {
    source,
    value: capture.transactionId,
    ...(capture.param === null ? {} : { param: capture.param }),
    ...(Object.keys(capture.extras).length > 0 ? { extras: capture.extras } : {}),
    capturedAt: capture.capturedAt.toISOString(),
  };
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/** Order Attribution: one candidate per parameter name found, so each offer can find its own. */
function attributionCandidates(order: WooOrder, offers: readonly Offer[]): IdCandidate[] {
  const params = unique(offers.flatMap((o) => captureParamsOf(o)));
  const extraParams = unique(offers.flatMap((o) => o.extraParams));
  const out: IdCandidate[] = [];
  const entry = metaValue(order, sessionEntryMetaKey);
  if (entry !== undefined && entry !== '') {
    for (const param of params) {
      const found = findTransactionId(entry, [param], extraParams);
      if (!found.ok) continue;
      out.push({
        source: 'order_attribution',
        value: found.value.value,
        param: found.value.param,
        ...(Object.keys(found.value.extras).length > 0 ? { extras: found.value.extras } : {}),
      });
    }
  }
  // An offer that reads its ID from a utm_* parameter finds it in the utm meta Woo keeps separately.
  for (const param of params) {
    if (!param.toLowerCase().startsWith('utm_') || out.some((c) => c.param === param)) continue;
    const value = metaValue(order, `${attributionMetaPrefix}${param.toLowerCase()}`);
    if (value !== undefined && value !== '') out.push({ source: 'order_attribution', value, param });
  }
  return out;
}

export async function resolveIdChain(store: Pick<Store, 'getOrderLink' | 'getCapture'>, input: IdChainInput): Promise<IdChain> {
  const { order } = input;
  const candidates: IdCandidate[] = [];

  for (const key of input.idMetaKeys) {
    const value = metaValue(order, key);
    if (value !== undefined && value !== '') candidates.push({ source: 'order_meta', value });
  }

  const link = await store.getOrderLink(input.storeId, String(order.id));
  if (link) {
    const capture = await store.getCapture(input.merchantId, 'visitor', link.visitorToken);
    if (capture) candidates.push(fromCapture('order_link', capture));
  }

  candidates.push(...attributionCandidates(order, input.offers));

  let customerMapSkipped: string | undefined;
  if (order.customer_id > 0 && staffMadeOrder(order.created_via)) {
    customerMapSkipped = `created_via "${order.created_via}": an order made by staff is not attributed through the customer map`;
  } else if (order.customer_id > 0) {
    const capture = await store.getCapture(input.merchantId, 'customer', wooCustomerKey(input.storeId, order.customer_id));
    if (capture) candidates.push(fromCapture('customer', capture));
  }

  return { candidates, linkKnown: link !== undefined, ...(customerMapSkipped ? { customerMapSkipped } : {}) };
}
