import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRecordedDeliveries } from '../testing/woo-deliveries.ts';
import { buildWooOrder } from '../testing/woo-order-builder.ts';
import { formatZodIssues, adoptWooOrder, wooOrderSchema } from './woo-order.ts';
import docsOrder from '../testing/fixtures/woocommerce-order-rest-v3-docs.json' with { type: 'json' };

/** Same keys and values at any depth, whatever their order (adoptWooOrder fills defaults in place). */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).toSorted(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/**
 * adoptWooOrder must be wooOrderSchema.safeParse, only cheaper: the same orders accepted with the
 * same output, the same refused with zod's issues.
 */
function expectSameAsZod(input: unknown): void {
  const zod = wooOrderSchema.safeParse(input);
  // adopted: it gets its own copy, as the webhook route hands it a fresh JSON.parse
  const copy = (): unknown => (input === undefined ? undefined : JSON.parse(JSON.stringify(input)));
  const own = copy();
  const fast = adoptWooOrder(own);
  const view = (r: typeof zod) => (r.success ? { ok: true, data: sortedJson(r.data) } : { ok: false, issues: formatZodIssues(r.error) });
  expect(view(fast)).toEqual(view(zod));
  expect(fast.success ? fast.data : undefined).toStrictEqual(zod.success ? zod.data : undefined);
  // a refused order is left as it came (defaults are filled only once everything passed)
  expect(fast.success ? 'accepted' : own).toStrictEqual(fast.success ? 'accepted' : copy());
}

const realBodies = [...loadRecordedDeliveries('async'), ...loadRecordedDeliveries('sync')]
  .filter((d) => d.topic !== undefined && d.topic !== 'order.deleted')
  .map((d) => JSON.parse(d.body.toString('utf8')) as Record<string, unknown>);

const base = (): Record<string, unknown> => ({ ...buildWooOrder() });
const without = (key: string): Record<string, unknown> => {
  const order = base();
  delete order[key];
  return order;
};

describe('adoptWooOrder', () => {
  it('accepts every real 9.9.5 delivery, the REST docs order and the builder order exactly as zod does', () => {
    expect(realBodies.length).toBeGreaterThan(5);
    for (const body of [...realBodies, docsOrder, buildWooOrder()]) {
      expect(adoptWooOrder(structuredClone(body)).success).toBe(true);
      expectSameAsZod(body);
    }
  });

  it.each<[string, unknown]>([
    ['not an object', 'order'],
    ['null', null],
    ['an array', [buildWooOrder()]],
    ['id 0', { ...base(), id: 0 }],
    ['id as a string', { ...base(), id: '15' }],
    ['id fractional', { ...base(), id: 1.5 }],
    ['id beyond 2^53', { ...base(), id: 2 ** 53 + 2 }],
    ['no id', without('id')],
    ['no status', without('status')],
    ['empty status', { ...base(), status: '' }],
    ['lower-case currency', { ...base(), currency: 'eur' }],
    ['no currency', without('currency')],
    ['total with a comma', { ...base(), total: '12,50' }],
    ['total as a number', { ...base(), total: 12.5 }],
    ['no total', without('total')],
    ['date with a zone', { ...base(), date_created_gmt: '2026-11-21T18:19:29Z' }],
    ['no created date', without('date_created_gmt')],
    ['bad paid date', { ...base(), date_paid_gmt: 'yesterday' }],
    ['null paid date', { ...base(), date_paid_gmt: null }],
    ['no paid date', without('date_paid_gmt')],
    ['negative parent', { ...base(), parent_id: -1 }],
    ['no parent (default)', without('parent_id')],
    ['prices_include_tax as a string', { ...base(), prices_include_tax: 'yes' }],
    ['no discount_total (default)', without('discount_total')],
    ['bad shipping_tax', { ...base(), shipping_tax: 'free' }],
    ['negative customer', { ...base(), customer_id: -3 }],
    ['number as a number', { ...base(), number: 15 }],
    ['meta_data not an array', { ...base(), meta_data: {} }],
    ['meta entry without key', { ...base(), meta_data: [{ id: 1, value: 'x' }] }],
    ['meta entry without value', { ...base(), meta_data: [{ id: 1, key: 'k' }] }],
    ['meta entry with a string id', { ...base(), meta_data: [{ id: '1', key: 'k', value: 'x' }] }],
    ['meta entry null', { ...base(), meta_data: [null] }],
    ['line item without total', { ...base(), line_items: [{ id: 1 }] }],
    ['line item without total_tax (default)', { ...base(), line_items: [{ id: 1, total: '1.00', extra: { a: 1 } }] }],
    ['fee line with a bad total', { ...base(), fee_lines: [{ total: 'x' }] }],
    ['coupon without code', { ...base(), coupon_lines: [{ id: 3 }] }],
    ['refund with a fractional id', { ...base(), refunds: [{ id: 1.5, total: '-1.00' }] }],
    ['refund with a null reason', { ...base(), refunds: [{ id: 9, total: '-1.00', reason: null }] }],
    ['refund with a numeric reason', { ...base(), refunds: [{ id: 9, total: '-1.00', reason: 4 }] }],
    ['a __proto__ key', JSON.parse(`{"__proto__":{"polluted":true},${JSON.stringify(buildWooOrder()).slice(1)}`)],
    ['no optional keys at all', { id: 3, status: 'pending', currency: 'EUR', date_created_gmt: '2026-11-21T18:19:29', total: '0.00' }],
  ])('agrees with zod on %s', (_name, input) => {
    expectSameAsZod(input);
  });

  const declaredKeys = Object.keys(wooOrderSchema.shape);
  const jsonValue = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom('0.00', '12.5', '-3', '2026-11-21T18:19:29', 'EUR', '', 0, 1, -1, 2 ** 53, 1.5, null, true, []),
    fc.array(fc.dictionary(fc.constantFrom('id', 'key', 'value', 'total', 'total_tax', 'code', 'reason', 'x'), fc.jsonValue({ maxDepth: 1 })), { maxLength: 3 }),
  );
  it('agrees with zod on real orders with any declared key changed or removed (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...realBodies, docsOrder as Record<string, unknown>),
        fc.array(fc.tuple(fc.constantFrom(...declaredKeys, 'billing'), fc.option(jsonValue, { nil: undefined })), { maxLength: 4 }),
        (order, changes) => {
          const input: Record<string, unknown> = { ...order };
          for (const [key, value] of changes) {
            if (value === undefined) delete input[key];
            else input[key] = value;
          }
          // through JSON, as a webhook body arrives
          expectSameAsZod(JSON.parse(JSON.stringify(input)));
        },
      ),
      { numRuns: 400 },
    );
  });
});
