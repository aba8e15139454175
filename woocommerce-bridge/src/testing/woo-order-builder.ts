/**
 * Test builder for WooCommerce REST v3 orders (the body of every `order.*` webhook). The base is
 * order 15 exactly as a real WooCommerce 9.9.5 sent it (fixtures/woocommerce-9.9.5-deliveries-sync.jsonl,
 * the `processing` delivery); override what a test is about.
 */

export interface WooMetaJson {
  id?: number;
  key: string;
  value: unknown;
}

export interface WooLineItemJson {
  id: number;
  name: string;
  product_id: number;
  variation_id: number;
  quantity: number;
  tax_class: string;
  subtotal: string;
  subtotal_tax: string;
  total: string;
  total_tax: string;
  taxes: Array<{ id: number; total: string; subtotal: string }>;
  meta_data: WooMetaJson[];
  sku: string;
  price: number;
  image: { id: string | number; src: string };
  parent_name: string | null;
}

export interface WooAddressJson {
  first_name: string;
  last_name: string;
  company: string;
  address_1: string;
  address_2: string;
  city: string;
  state: string;
  postcode: string;
  country: string;
  email?: string;
  phone: string;
}

export interface WooOrderJson {
  id: number;
  parent_id: number;
  status: string;
  currency: string;
  version: string;
  prices_include_tax: boolean;
  date_created: string;
  date_modified: string;
  discount_total: string;
  discount_tax: string;
  shipping_total: string;
  shipping_tax: string;
  cart_tax: string;
  total: string;
  total_tax: string;
  customer_id: number;
  order_key: string;
  billing: WooAddressJson;
  shipping: WooAddressJson;
  payment_method: string;
  payment_method_title: string;
  transaction_id: string;
  customer_ip_address: string;
  customer_user_agent: string;
  created_via: string;
  customer_note: string;
  date_completed: string | null;
  date_paid: string | null;
  cart_hash: string;
  number: string;
  meta_data: WooMetaJson[];
  line_items: WooLineItemJson[];
  tax_lines: Array<Record<string, unknown>>;
  shipping_lines: Array<Record<string, unknown>>;
  fee_lines: Array<{ id?: number; name?: string; total: string; total_tax: string } & Record<string, unknown>>;
  coupon_lines: Array<{ id?: number; code: string; discount?: string; discount_tax?: string } & Record<string, unknown>>;
  refunds: Array<{ id: number; reason: string; total: string }>;
  payment_url: string;
  is_editable: boolean;
  needs_payment: boolean;
  needs_processing: boolean;
  date_created_gmt: string;
  date_modified_gmt: string;
  date_completed_gmt: string | null;
  date_paid_gmt: string | null;
  currency_symbol: string;
  _links: Record<string, unknown>;
}

function baseOrder(): WooOrderJson {
  return {
    id: 15,
    parent_id: 0,
    status: 'processing',
    currency: 'USD',
    version: '9.9.5',
    prices_include_tax: false,
    date_created: '2026-11-21T18:26:37',
    date_modified: '2026-11-21T18:29:10',
    discount_total: '0.00',
    discount_tax: '0.00',
    shipping_total: '0.00',
    shipping_tax: '0.00',
    cart_tax: '0.00',
    total: '39.98',
    total_tax: '0.00',
    customer_id: 0,
    order_key: 'wc_order_BKEqnvb1piFJ8',
    billing: {
      first_name: 'Ada',
      last_name: 'Lovelace',
      company: '',
      address_1: '1 Test St',
      address_2: '',
      city: 'Testville',
      state: 'CA',
      postcode: '94000',
      country: 'US',
      email: 'ada@example.com',
      phone: '555-0100',
    },
    shipping: {
      first_name: 'Ada',
      last_name: 'Lovelace',
      company: '',
      address_1: '1 Test St',
      address_2: '',
      city: 'Testville',
      state: 'CA',
      postcode: '94000',
      country: 'US',
      phone: '',
    },
    payment_method: 'bacs',
    payment_method_title: 'Direct bank transfer',
    transaction_id: '',
    customer_ip_address: '',
    customer_user_agent: '',
    created_via: 'rest-api',
    customer_note: '',
    date_completed: null,
    date_paid: '2026-11-21T18:29:10',
    cart_hash: '',
    number: '15',
    meta_data: [{ id: 8, key: '_transaction_id_demo', value: 'abc' }],
    line_items: [
      {
        id: 2,
        name: 'Lab Widget',
        product_id: 14,
        variation_id: 0,
        quantity: 2,
        tax_class: '',
        subtotal: '39.98',
        subtotal_tax: '0.00',
        total: '39.98',
        total_tax: '0.00',
        taxes: [],
        meta_data: [],
        sku: 'LAB-1795285597185',
        price: 19.99,
        image: { id: '', src: '' },
        parent_name: null,
      },
    ],
    tax_lines: [],
    shipping_lines: [],
    fee_lines: [],
    coupon_lines: [],
    refunds: [],
    payment_url: 'http://127.0.0.1:8080/checkout/order-pay/15/?pay_for_order=true&key=wc_order_BKEqnvb1piFJ8',
    is_editable: false,
    needs_payment: false,
    needs_processing: true,
    date_created_gmt: '2026-11-21T18:26:37',
    date_modified_gmt: '2026-11-21T18:29:10',
    date_completed_gmt: null,
    date_paid_gmt: '2026-11-21T18:29:10',
    currency_symbol: '$',
    _links: {
      self: [{ href: 'http://127.0.0.1:8080/wp-json/wc/v3/orders/15', targetHints: { allow: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] } }],
      collection: [{ href: 'http://127.0.0.1:8080/wp-json/wc/v3/orders' }],
    },
  };
}

/** A paid (`processing`) order in the real 9.9.5 shape; `overrides` replace top-level fields. */
export function buildWooOrder(overrides: Partial<WooOrderJson> = {}): WooOrderJson {
  const order = { ...baseOrder(), ...overrides };
  if (overrides.id !== undefined && overrides.number === undefined) order.number = String(overrides.id);
  return order;
}

/** Woo's dates: local and GMT are the same in the fixtures' site (UTC). */
export function wooDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** An order in a given state at a given time, with the date fields Woo keeps consistent. */
export function wooOrderAt(at: Date, overrides: Partial<WooOrderJson> = {}): WooOrderJson {
  const when = wooDate(at);
  const paid = overrides.status === undefined || ['processing', 'completed'].includes(overrides.status) ? when : null;
  return buildWooOrder({
    date_created: when,
    date_created_gmt: when,
    date_modified: when,
    date_modified_gmt: when,
    date_paid: paid,
    date_paid_gmt: paid,
    ...overrides,
  });
}

/**
 * JSON as WordPress writes it (`wp_json_encode`): slashes escaped as `\/` and non-ASCII as
 * `\uXXXX`. Signing these bytes, not a re-serialization, is what a real delivery looks like.
 */
export function wpJsonEncode(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
