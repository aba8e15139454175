/**
 * The normalized order: the one shape both apps map a platform order into. Amounts are decimal
 * strings with a dot ("12.50", "-6.00"), exactly as the platforms send them, so nothing is lost to
 * floating point.
 */

export type Platform = 'shopify' | 'woocommerce';

/** An amount in the shop's currency and in the currency the buyer saw. */
export interface MoneyPair {
  readonly shop: string;
  readonly presentment: string;
}

/** Where a transaction ID came from; recorded with every postback and shown in the log. */
export type IdSource =
  | 'note_attribute' // Shopify: cart attribute written by the capture script
  | 'landing_site' // Shopify: the order's landing_site query
  | 'cart_token' // Shopify: cart token → ID registered through the app proxy
  | 'customer' // either: the customer's last known ID
  | 'order_meta' // Woo: a configured order meta key
  | 'order_link' // Woo: order-received report linking the order to a visitor
  | 'order_attribution' // Woo: Order Attribution session entry / utm_*
  | 'manual'; // test-fire and replays from the CLI or admin

/** One place an ID was found, in the order of the resolution chain (first valid wins). */
export interface IdCandidate {
  readonly source: IdSource;
  readonly value: string;
  /** The URL parameter the ID was captured from (e.g. "transaction_id"); undefined when unknown. */
  readonly param?: string;
  /** Extra click parameters captured with the ID (aff_sub, source, …), usable as template macros. */
  readonly extras?: Readonly<Record<string, string>>;
  /** When the click was captured (ISO 8601); undefined when the source cannot tell. */
  readonly capturedAt?: string;
}

export interface OrderRefund {
  readonly id: string;
  /** Positive amount refunded. */
  readonly amount: MoneyPair;
  readonly createdAt?: string;
}

export interface OrderAmounts {
  /** Line items after discounts, before shipping and tax. */
  readonly subtotal: MoneyPair;
  readonly total: MoneyPair;
  readonly tax: MoneyPair;
  readonly shipping: MoneyPair;
  readonly discounts: MoneyPair;
}

export interface Order {
  readonly platform: Platform;
  readonly merchantId: string;
  /** Clickthread's store/connection id. */
  readonly storeId: string;
  /** The storefront domain the order belongs to (for the {store} macro). */
  readonly storeDomain: string;
  /** The platform's order id. */
  readonly orderId: string;
  /** What the merchant calls the order ("#1001", "1234"). */
  readonly orderNumber: string;
  /** The platform's raw status, kept for the log. */
  readonly status: string;
  readonly paid: boolean;
  readonly cancelled: boolean;
  readonly fullyRefunded: boolean;
  readonly test: boolean;
  /** Where the order was made: Shopify source_name, Woo created_via. */
  readonly source: string;
  readonly currency: MoneyPair;
  readonly amounts: OrderAmounts;
  readonly refunds: readonly OrderRefund[];
  readonly coupons: readonly string[];
  /** True when the platform says this is the customer's first order; undefined when unknown. */
  readonly firstOrder?: boolean;
  readonly customerId?: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly idCandidates: readonly IdCandidate[];
}

/** Events an offer can send a postback for. */
export const postbackEvents = ['sale', 'lead', 'first_order', 'refund', 'cancel'] as const;
export type PostbackEvent = (typeof postbackEvents)[number];

/** The events that report a conversion (the others reverse one). */
const conversionEventSet: ReadonlySet<string> = new Set<PostbackEvent>(['sale', 'lead', 'first_order']);

export function isConversionEvent(event: string): boolean {
  return conversionEventSet.has(event);
}
