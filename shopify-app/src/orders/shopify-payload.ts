import { z } from 'zod';

/**
 * The parts of Shopify's REST-shaped webhook bodies (orders/paid, orders/cancelled, refunds/create)
 * that Clickthread reads. Shopify adds fields in every API version and nothing here may break on
 * them: unknown fields are accepted and left out of the result (zod's default object). A loose
 * object would copy every one of them into the result, about a hundred per order, for nothing:
 * that was half of the schema's time per webhook. Ids arrive as JSON numbers, or as strings when
 * parseJsonLossless kept a 64-bit id exact; both become decimal strings.
 */

export const shopifyId = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/, 'must be a numeric id')])
  .transform(String);

const amount = z.union([z.string(), z.number()]);

const money = z.object({ amount, currency_code: z.string().optional() });

/** `{shop_money, presentment_money}`: the amount in the shop's currency and in the buyer's. */
export const moneySetSchema = z.object({ shop_money: money, presentment_money: money });
export type MoneySet = z.output<typeof moneySetSchema>;

const optionalSet = moneySetSchema.nullish();

const refundLineItem = z.object({
  subtotal_set: optionalSet,
  total_tax_set: optionalSet,
});

const orderAdjustment = z.object({
  kind: z.string().nullish(),
  amount_set: optionalSet,
  tax_amount_set: optionalSet,
});

const refundShippingLine = z.object({
  subtotal_amount_set: optionalSet,
  tax_amount_set: optionalSet,
});

const transaction = z.object({
  kind: z.string().nullish(),
  status: z.string().nullish(),
  amount: amount.nullish(),
  currency: z.string().nullish(),
});

export const refundPayloadSchema = z.object({
  id: shopifyId,
  order_id: shopifyId.optional(),
  created_at: z.string().nullish(),
  processed_at: z.string().nullish(),
  refund_line_items: z.array(refundLineItem).nullish(),
  order_adjustments: z.array(orderAdjustment).nullish(),
  refund_shipping_lines: z.array(refundShippingLine).nullish(),
  transactions: z.array(transaction).nullish(),
});
export type RefundPayload = z.output<typeof refundPayloadSchema>;

const noteAttribute = z.object({
  name: z.string(),
  // themes write anything here; non-strings are read as their text
  value: z.union([z.string(), z.number(), z.boolean()]).nullish(),
});

export const orderPayloadSchema = z.object({
  id: shopifyId,
  name: z.string().nullish(),
  order_number: z.union([z.number(), z.string()]).nullish(),
  created_at: z.string(),
  updated_at: z.string().nullish(),
  cancelled_at: z.string().nullish(),
  financial_status: z.string().nullish(),
  test: z.boolean().nullish(),
  source_name: z.string().nullish(),
  currency: z.string().min(3),
  presentment_currency: z.string().nullish(),

  subtotal_price: amount.nullish(),
  total_price: amount.nullish(),
  total_tax: amount.nullish(),
  total_discounts: amount.nullish(),
  subtotal_price_set: optionalSet,
  total_price_set: optionalSet,
  total_tax_set: optionalSet,
  total_discounts_set: optionalSet,
  total_shipping_price_set: optionalSet,
  current_subtotal_price_set: optionalSet,
  current_total_price_set: optionalSet,
  current_total_tax_set: optionalSet,
  current_total_discounts_set: optionalSet,
  current_shipping_price_set: optionalSet,
  shipping_lines: z.array(z.object({ discounted_price_set: optionalSet, price_set: optionalSet })).nullish(),

  note_attributes: z.array(noteAttribute).nullish(),
  landing_site: z.string().nullish(),
  cart_token: z.string().nullish(),
  customer: z.object({ id: shopifyId }).nullish(),
  discount_codes: z.array(z.object({ code: z.string() })).nullish(),
  refunds: z.array(refundPayloadSchema).nullish(),
});
export type OrderPayload = z.output<typeof orderPayloadSchema>;

/** Every problem of a payload in one line, for the log. */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');
}
