import { parseDecimal } from '@clickthread/core';
import { z } from 'zod';

/**
 * The WooCommerce REST v3 order document (`GET /wc/v3/orders/<id>`), which is also the body of every
 * `order.*` webhook created through `/wc/v3/webhooks`. Only the fields the bridge reads are
 * declared; everything else passes through untouched.
 */

const decimal = z.string().refine((v) => parseDecimal(v).ok, 'must be a decimal amount with a dot');
const optionalDecimal = decimal.default('0.00');

/** Woo's `*_gmt` dates carry no zone ("2026-11-21T18:19:29"). */
const wooDate = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, 'must be a date like 2026-11-21T18:19:29');

const metaEntry = z.looseObject({ id: z.number().optional(), key: z.string(), value: z.unknown() });

export const wooOrderSchema = z.looseObject({
  id: z.number().int().positive(),
  parent_id: z.number().int().nonnegative().default(0),
  number: z.string().optional(),
  order_key: z.string().default(''),
  created_via: z.string().default(''),
  status: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  prices_include_tax: z.boolean().default(false),
  date_created_gmt: wooDate,
  date_modified_gmt: wooDate.nullable().optional(),
  date_paid_gmt: wooDate.nullable().optional(),
  discount_total: optionalDecimal,
  discount_tax: optionalDecimal,
  shipping_total: optionalDecimal,
  shipping_tax: optionalDecimal,
  total: decimal,
  total_tax: optionalDecimal,
  customer_id: z.number().int().nonnegative().default(0),
  meta_data: z.array(metaEntry).default([]),
  line_items: z.array(z.looseObject({ id: z.number().optional(), total: decimal, total_tax: optionalDecimal })).default([]),
  fee_lines: z.array(z.looseObject({ total: decimal, total_tax: optionalDecimal })).default([]),
  coupon_lines: z.array(z.looseObject({ code: z.string() })).default([]),
  refunds: z.array(z.looseObject({ id: z.number().int(), total: decimal, reason: z.string().nullable().optional() })).default([]),
});

export type WooOrder = z.output<typeof wooOrderSchema>;

/** `order.deleted` carries only the id. */
export const wooDeletedOrderSchema = z.looseObject({ id: z.number().int().positive() });

export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`);
}

/** Woo's GMT dates as ISO 8601 with a zone. */
export function wooGmtToIso(value: string): string {
  return `${value}.000Z`;
}

/** The first meta value under `key`, as a string when it is one. */
export function metaValue(order: Pick<WooOrder, 'meta_data'>, key: string): string | undefined {
  const entry = order.meta_data.find((m) => m.key === key);
  if (entry === undefined) return undefined;
  if (typeof entry.value === 'string') return entry.value;
  if (typeof entry.value === 'number') return String(entry.value);
  return undefined;
}

/**
 * `wooOrderSchema.safeParse` for the webhook hot path, where zod was about 5% of the CPU of every
 * delivery (mostly copying the fifty-odd undeclared keys of a real order one by one). A hand check
 * of the same rules accepts the same orders; anything it is not sure of (an invalid order
 * included) goes to zod, so what is refused, and the message, is zod's exactly.
 *
 * The input is ADOPTED, not copied: a valid order gets its defaults filled in place (so its keys
 * may come in another order than zod's copy would have them; nothing reads them by position). Pass
 * only a value nothing else holds, such as a fresh `JSON.parse` of the body.
 * woo-order.test.ts checks the two agree on real and mutated orders.
 */
export function adoptWooOrder(json: unknown): ReturnType<typeof wooOrderSchema.safeParse> {
  if (!isValidWooOrder(json)) return wooOrderSchema.safeParse(json);
  fillDefaults(json);
  // every declared field was checked by isValidWooOrder and its defaults are now filled in
  return { success: true, data: json as WooOrder };
}

const wooDatePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const currencyPattern = /^[A-Z]{3}$/;

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v);
const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isDecimal = (v: unknown): boolean => typeof v === 'string' && parseDecimal(v).ok;
const isWooDate = (v: unknown): boolean => typeof v === 'string' && wooDatePattern.test(v);
const isString = (v: unknown): boolean => typeof v === 'string';

/** A JSON `__proto__` key is an own property zod would copy; it is left to zod rather than reasoned about. */
const hasProtoKey = (v: Json): boolean => Object.hasOwn(v, '__proto__');

/** undefined takes the schema's default (or stays absent when optional). */
const orAbsent = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);

function everyItem(value: unknown, item: (v: Json) => boolean): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value)) return false;
  for (const entry of value) if (!isRecord(entry) || hasProtoKey(entry) || !item(entry)) return false;
  return true;
}

// zod's z.unknown() in an object still wants the key present
const validMeta = (m: Json): boolean => orAbsent(m['id'], isNumber) && isString(m['key']) && Object.hasOwn(m, 'value');
const validLineItem = (l: Json): boolean => orAbsent(l['id'], isNumber) && isDecimal(l['total']) && orAbsent(l['total_tax'], isDecimal);
const validFeeLine = (l: Json): boolean => isDecimal(l['total']) && orAbsent(l['total_tax'], isDecimal);
const validCoupon = (c: Json): boolean => isString(c['code']);
const validRefund = (r: Json): boolean => isInt(r['id']) && isDecimal(r['total']) && orAbsent(r['reason'], (v) => v === null || isString(v));

const isNonNegativeInt = (v: unknown): boolean => isInt(v) && (v as number) >= 0;
const isNullableWooDate = (v: unknown): boolean => v === null || isWooDate(v);

function isValidWooOrder(json: unknown): json is Json {
  if (!isRecord(json) || hasProtoKey(json)) return false;
  const o = json;
  return (
    isInt(o['id']) && (o['id'] as number) > 0 &&
    orAbsent(o['parent_id'], isNonNegativeInt) &&
    orAbsent(o['number'], isString) &&
    orAbsent(o['order_key'], isString) &&
    orAbsent(o['created_via'], isString) &&
    typeof o['status'] === 'string' && o['status'].length > 0 &&
    typeof o['currency'] === 'string' && currencyPattern.test(o['currency']) &&
    orAbsent(o['prices_include_tax'], (v) => typeof v === 'boolean') &&
    isWooDate(o['date_created_gmt']) &&
    orAbsent(o['date_modified_gmt'], isNullableWooDate) &&
    orAbsent(o['date_paid_gmt'], isNullableWooDate) &&
    orAbsent(o['discount_total'], isDecimal) &&
    orAbsent(o['discount_tax'], isDecimal) &&
    orAbsent(o['shipping_total'], isDecimal) &&
    orAbsent(o['shipping_tax'], isDecimal) &&
    isDecimal(o['total']) &&
    orAbsent(o['total_tax'], isDecimal) &&
    orAbsent(o['customer_id'], isNonNegativeInt) &&
    everyItem(o['meta_data'], validMeta) &&
    everyItem(o['line_items'], validLineItem) &&
    everyItem(o['fee_lines'], validFeeLine) &&
    everyItem(o['coupon_lines'], validCoupon) &&
    everyItem(o['refunds'], validRefund)
  );
}

const orderDefaults: ReadonlyArray<readonly [string, () => unknown]> = [
  ['parent_id', () => 0],
  ['order_key', () => ''],
  ['created_via', () => ''],
  ['prices_include_tax', () => false],
  ['discount_total', () => '0.00'],
  ['discount_tax', () => '0.00'],
  ['shipping_total', () => '0.00'],
  ['shipping_tax', () => '0.00'],
  ['total_tax', () => '0.00'],
  ['customer_id', () => 0],
  ['meta_data', () => []],
  ['line_items', () => []],
  ['fee_lines', () => []],
  ['coupon_lines', () => []],
  ['refunds', () => []],
];

function fillDefaults(o: Json): void {
  for (const [key, fallback] of orderDefaults) if (o[key] === undefined) o[key] = fallback();
  for (const lines of [o['line_items'], o['fee_lines']] as unknown as Json[][]) {
    for (const line of lines) if (line['total_tax'] === undefined) line['total_tax'] = '0.00';
  }
}
