import { describe, expect, it } from 'vitest';
import { loadRecordedDeliveries } from '../testing/woo-deliveries.ts';
import { buildWooOrder, type WooOrderJson } from '../testing/woo-order-builder.ts';
import { isPaid, mapWooOrder } from './map-order.ts';
import { wooOrderSchema } from './woo-order.ts';
import docsOrder from '../testing/fixtures/woocommerce-order-rest-v3-docs.json' with { type: 'json' };

const context = { merchantId: 'm1', storeId: 'wc_1', storeDomain: 'shop.example', testSources: ['admin'] };

function map(json: unknown) {
  const parsed = wooOrderSchema.safeParse(json);
  if (!parsed.success) throw new Error(parsed.error.message);
  return mapWooOrder(parsed.data, context, []);
}

describe('mapWooOrder', () => {
  it('maps every real 9.9.5 delivery body', () => {
    const bodies = [...loadRecordedDeliveries('async'), ...loadRecordedDeliveries('sync')].filter((d) => d.topic !== undefined);
    expect(bodies).toHaveLength(15);
    for (const d of bodies) {
      const order = map(JSON.parse(d.body.toString('utf8')));
      expect(order.platform).toBe('woocommerce');
      expect(order.currency).toEqual({ shop: 'USD', presentment: 'USD' });
      expect(order.amounts.total.shop).toBe('39.98');
    }
  });

  it('reads the state of the recorded async run: pending, then paid, then a $5 partial refund', () => {
    const bodies = loadRecordedDeliveries('async').filter((d) => d.topic !== undefined).map((d) => map(JSON.parse(d.body.toString('utf8'))));
    expect(bodies.map((o) => [o.status, o.paid])).toEqual([
      ['pending', false],
      ['pending', false],
      ['processing', true],
      ['completed', true],
      ['completed', true],
      ['completed', true],
      ['completed', true],
    ]);
    expect(bodies[4]?.refunds).toEqual([{ id: '13', amount: { shop: '5.00', presentment: '5.00' } }]);
    expect(bodies[4]?.fullyRefunded).toBe(false);
    expect(bodies[2]).toMatchObject({ orderId: '12', orderNumber: '12', source: 'rest-api', test: false, createdAt: '2026-11-21T18:19:29.000Z' });
  });

  it('maps the REST documentation example (tax, shipping, two lines)', () => {
    const order = map(docsOrder);
    expect(order.amounts).toEqual({
      subtotal: { shop: '18.00', presentment: '18.00' },
      total: { shop: '29.35', presentment: '29.35' },
      tax: { shop: '1.35', presentment: '1.35' },
      shipping: { shop: '10.00', presentment: '10.00' },
      discounts: { shop: '0.00', presentment: '0.00' },
    });
    expect(order.paid).toBe(true);
  });

  it('adds tax back to lines, shipping and discounts when the shop enters prices with tax', () => {
    const order = map(
      buildWooOrder({
        prices_include_tax: true,
        discount_total: '8.33',
        discount_tax: '1.67',
        shipping_total: '4.17',
        shipping_tax: '0.83',
        total: '45.00',
        total_tax: '7.50',
        line_items: [{ ...buildWooOrder().line_items[0]!, total: '33.33', total_tax: '6.67' }],
      }),
    );
    expect(order.amounts.subtotal.shop).toBe('40.00');
    expect(order.amounts.shipping.shop).toBe('5.00');
    expect(order.amounts.discounts.shop).toBe('10.00');
    expect(order.amounts.total.shop).toBe('45.00');
    expect(order.amounts.tax.shop).toBe('7.50');
  });

  it('keeps lines, shipping and discounts without tax when prices exclude tax', () => {
    const order = map(
      buildWooOrder({ discount_total: '5.00', discount_tax: '1.00', shipping_total: '4.00', shipping_tax: '0.80', total: '43.78', total_tax: '5.80' }),
    );
    expect(order.amounts.subtotal.shop).toBe('39.98');
    expect(order.amounts.shipping.shop).toBe('4.00');
    expect(order.amounts.discounts.shop).toBe('5.00');
  });

  it.each<[string, Partial<WooOrderJson>, boolean]>([
    ['processing', { status: 'processing' }, true],
    ['completed', { status: 'completed' }, true],
    ['pending, never paid', { status: 'pending', date_paid: null, date_paid_gmt: null }, false],
    ['on-hold (bank transfer awaiting payment)', { status: 'on-hold', date_paid: null, date_paid_gmt: null }, false],
    ['on-hold after payment (date_paid kept)', { status: 'on-hold' }, true],
    ['failed with a stray date_paid', { status: 'failed' }, false],
    ['cancelled before payment', { status: 'cancelled', date_paid: null, date_paid_gmt: null }, false],
    ['cancelled after payment', { status: 'cancelled' }, true],
    ['refunded', { status: 'refunded' }, true],
    ['a custom paid status with date_paid', { status: 'shipped' }, true],
  ])('paid: %s', (_name, overrides, paid) => {
    const order = buildWooOrder(overrides);
    expect(isPaid({ status: order.status, date_paid_gmt: order.date_paid_gmt })).toBe(paid);
    expect(map(order).paid).toBe(paid);
  });

  it('marks cancellations, full refunds, coupons, customers and refunds (positive amounts)', () => {
    const order = map(
      buildWooOrder({
        status: 'refunded',
        customer_id: 42,
        coupon_lines: [{ id: 1, code: 'spring10' }, { id: 2, code: 'vip' }],
        refunds: [
          { id: 31, reason: '', total: '-30.00' },
          { id: 30, reason: 'damaged', total: '-9.98' },
        ],
      }),
    );
    expect(order.fullyRefunded).toBe(true);
    expect(order.cancelled).toBe(false);
    expect(order.coupons).toEqual(['spring10', 'vip']);
    expect(order.customerId).toBe('42');
    expect(order.refunds).toEqual([
      { id: '31', amount: { shop: '30.00', presentment: '30.00' } },
      { id: '30', amount: { shop: '9.98', presentment: '9.98' } },
    ]);
    expect(map(buildWooOrder({ status: 'cancelled' })).cancelled).toBe(true);
    expect(map(buildWooOrder({ customer_id: 0 })).customerId).toBeUndefined();
  });

  it.each([
    ['admin', true],
    ['checkout', false],
    ['store-api', false],
    ['rest-api', false],
  ])('created_via %s → test %s (default test sources)', (createdVia, test) => {
    expect(map(buildWooOrder({ created_via: createdVia })).test).toBe(test);
  });

  it.each<[string, unknown]>([
    ['a total with a comma', { ...buildWooOrder(), total: '1,039.98' }],
    ['no id', { ...buildWooOrder(), id: undefined }],
    ['a lower-case currency', { ...buildWooOrder(), currency: 'usd' }],
    ['a date with a zone', { ...buildWooOrder(), date_created_gmt: '2026-11-21T18:26:37Z' }],
    ['a refund without total', { ...buildWooOrder(), refunds: [{ id: 1, reason: '' }] }],
    ['not an object', 'order'],
  ])('refuses an order with %s', (_name, json) => {
    expect(wooOrderSchema.safeParse(json).success).toBe(false);
  });
});
