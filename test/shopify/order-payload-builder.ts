import { readFileSync } from 'node:fs';

/**
 * Shopify order bodies for tests, built from real payload shapes (fixtures/, copied from
 * shared/reference/samples) with overrides. Bodies are plain JSON objects: tests serialize and sign
 * them exactly as Shopify would.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

function fixture(name: string): JsonObject {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as JsonObject;
}

/** orders/paid of an order made from a draft order: no attributes, no landing site, no cart token. */
export const draftOrderSample = (): JsonObject => fixture('shopify-orders-paid-draft-order.json');
/** An online-store order, shop currency AUD, buyer currency USD (2020-era: no current_* fields). */
export const webOrderSample = (): JsonObject => fixture('shopify-orders-create-web-multicurrency.json');

export function moneySet(shop: string, presentment: string, shopCurrency = 'AUD', presentmentCurrency = 'USD'): JsonObject {
  return {
    shop_money: { amount: shop, currency_code: shopCurrency },
    presentment_money: { amount: presentment, currency_code: presentmentCurrency },
  };
}

export interface CaptureAttribute {
  readonly id: string;
  readonly p?: string;
  readonly t?: string;
  readonly vid?: string;
  readonly x?: Record<string, string>;
}

/** The `_clickthread` note attribute exactly as the capture script writes it. */
export function captureAttribute(click: CaptureAttribute): JsonObject {
  return {
    name: '_clickthread',
    value: JSON.stringify({ v: 1, id: click.id, p: click.p ?? 'transaction_id', t: click.t ?? '2026-03-01T10:00:00.000Z', vid: click.vid ?? 'a'.repeat(32), x: click.x ?? {} }),
  };
}

let nextId = 6_000_000_000_001;

/**
 * A paid web order: the multi-currency sample, paid, not a test order, created at 2026-03-02 12:00 UTC,
 * with no ID anywhere (no attributes, a landing site without parameters) unless the overrides add one.
 */
export function buildOrderPayload(overrides: JsonObject = {}): JsonObject {
  const id = nextId++;
  return {
    ...webOrderSample(),
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    name: `#${1000 + (id % 1000)}`,
    order_number: 1000 + (id % 1000),
    created_at: '2026-03-02T12:00:00+00:00',
    updated_at: '2026-03-02T12:00:01+00:00',
    processed_at: '2026-03-02T12:00:00+00:00',
    test: false,
    financial_status: 'paid',
    landing_site: '/collections/pens',
    cart_token: `c1-${id.toString(16)}`,
    note_attributes: [],
    ...overrides,
  };
}

/** A refunds/create body: line items refunded (subtotal + tax) in both currencies. */
export function buildRefundPayload(orderId: Json, overrides: JsonObject = {}): JsonObject {
  const id = nextId++;
  return {
    id,
    order_id: orderId,
    created_at: '2026-03-05T09:00:00+00:00',
    processed_at: '2026-03-05T09:00:00+00:00',
    note: 'wrong size',
    restock: true,
    admin_graphql_api_id: `gid://shopify/Refund/${id}`,
    refund_line_items: [
      {
        id: id + 1,
        quantity: 1,
        line_item_id: 6456910643349,
        subtotal: 20.0,
        total_tax: 2.0,
        subtotal_set: moneySet('20.00', '15.20'),
        total_tax_set: moneySet('2.00', '1.52'),
      },
    ],
    transactions: [{ id: id + 2, order_id: orderId, kind: 'refund', status: 'success', amount: '16.72', currency: 'USD' }],
    order_adjustments: [],
    ...overrides,
  };
}
