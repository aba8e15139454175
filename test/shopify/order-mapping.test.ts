import { describe, expect, it } from 'vitest';
import { parseOffer, type Offer, type OfferInput } from '@clickthread/core';
import type { Capture, CaptureKind } from '@clickthread/core/storage';
import { orderFactsFromPayload } from '../../shopify-app/src/orders/order-facts.ts';
import { refundAmount } from '../../shopify-app/src/orders/refund-amount.ts';
import { refundFactsFromPayload } from '../../shopify-app/src/orders/refund-intake.ts';
import { resolveIdChain } from '../../shopify-app/src/orders/resolve-id-chain.ts';
import { refundPayloadSchema } from '../../shopify-app/src/orders/shopify-payload.ts';
import { parseJsonLossless } from '../../shopify-app/src/shared/parse-json.ts';
import { buildOrderPayload, buildRefundPayload, captureAttribute, draftOrderSample, moneySet, webOrderSample, type JsonObject } from './order-payload-builder.ts';

function facts(body: unknown) {
  const result = orderFactsFromPayload(body);
  if (!result.ok) throw new Error(result.reason);
  return result.value;
}

function offer(input: Partial<OfferInput> = {}): Offer {
  const parsed = parseOffer({
    id: 'offer-1',
    name: 'Offer',
    network: 'custom',
    captureParams: ['transaction_id'],
    postbacks: { sale: { url: 'https://tracker.example/pb?tid={transaction_id}' } },
    ...input,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.reason));
  return parsed.value;
}

function refundOf(body: JsonObject) {
  const parsed = refundPayloadSchema.parse(body);
  const amount = refundAmount(parsed);
  if (!amount.ok) throw new Error(amount.reason);
  return amount.value;
}

describe('Shopify order payload → order facts', () => {
  it('reads the multi-currency sample: shop vs presentment money from the *_set fields', () => {
    const f = facts(webOrderSample());
    expect(f).toMatchObject({
      orderId: '2998548365461',
      orderNumber: '#1029',
      financialStatus: 'paid',
      paid: true,
      cancelled: false,
      fullyRefunded: false,
      test: true,
      source: 'web',
      currency: { shop: 'AUD', presentment: 'USD' },
      amounts: {
        subtotal: { shop: '45.62', presentment: '34.67' },
        total: { shop: '60.33', presentment: '45.85' },
        tax: { shop: '4.56', presentment: '3.47' },
        shipping: { shop: '10.15', presentment: '7.71' },
        discounts: { shop: '0.00', presentment: '0.00' },
      },
      refunds: [],
      coupons: [],
      customerId: '4206822293653',
      createdAt: '2020-12-26T21:18:47.000Z',
      landingPages: ['/?transaction_id=102a6b9c3d8e4f&utm_source=affiliate'],
      cartToken: '75ea35352251e9eb2763191774ab3179',
    });
  });

  it('reads the draft-order sample: no cart, no landing page, no attributes', () => {
    const f = facts(draftOrderSample());
    expect(f).toMatchObject({ orderId: '5324830114101', orderNumber: '#1010', source: 'shopify_draft_order', test: false, attributes: [], landingPages: [] });
    expect(f.cartToken).toBeUndefined();
    expect(f.customerId).toBeUndefined();
    expect(f.amounts.total).toEqual({ shop: '2629.95', presentment: '2629.95' });
  });

  it('uses current_* (after order edits) when the order has no refunds', () => {
    const f = facts(
      buildOrderPayload({
        current_subtotal_price_set: moneySet('40.00', '30.40'),
        current_total_price_set: moneySet('54.71', '41.58'),
        current_total_tax_set: moneySet('4.00', '3.04'),
        current_total_discounts_set: moneySet('5.62', '4.27'),
      }),
    );
    expect(f.amounts).toMatchObject({ subtotal: { shop: '40.00', presentment: '30.40' }, total: { shop: '54.71', presentment: '41.58' }, discounts: { shop: '5.62', presentment: '4.27' } });
    // no current shipping in the payload: the original stands
    expect(f.amounts.shipping).toEqual({ shop: '10.15', presentment: '7.71' });
  });

  it('keeps the original amounts when the order has refunds (each refund is its own reversal)', () => {
    const f = facts(
      buildOrderPayload({
        financial_status: 'partially_refunded',
        current_subtotal_price_set: moneySet('25.62', '19.47'),
        refunds: [buildRefundPayload(1)],
      }),
    );
    expect(f.amounts.subtotal).toEqual({ shop: '45.62', presentment: '34.67' });
    expect(f.refunds).toEqual([{ id: expect.any(String), amount: { shop: '22.00', presentment: '16.72' }, createdAt: '2026-03-05T09:00:00.000Z' }]);
    expect(f.paid).toBe(true);
  });

  it('marks cancellations and full refunds, and reads discount codes', () => {
    const f = facts(buildOrderPayload({ cancelled_at: '2026-03-03T10:00:00+00:00', financial_status: 'refunded', discount_codes: [{ code: 'SPRING10', amount: '4.56', type: 'percentage' }] }));
    expect(f).toMatchObject({ cancelled: true, fullyRefunded: true, paid: true, coupons: ['SPRING10'] });
  });

  it.each([
    ['pending', false],
    ['authorized', false],
    ['partially_paid', false],
    ['voided', false],
    ['paid', true],
    ['partially_refunded', true],
    ['refunded', true],
  ])('financial_status %s → paid %s', (status, paid) => {
    expect(facts(buildOrderPayload({ financial_status: status })).paid).toBe(paid);
  });

  it.each<[string, JsonObject, RegExp]>([
    ['no id', { id: null }, /id/],
    ['a created_at that is not a date', { created_at: 'yesterday' }, /created_at: "yesterday" is not a date/],
    ['an amount with a thousands separator', { total_price_set: moneySet('1,060.33', '45.85') }, /total_price.shop_money: amount "1,060.33" is not a decimal number/],
    ['a buyer currency without *_set amounts', { subtotal_price_set: null }, /subtotal_price: no presentment amount for an order in USD/],
    ['no currency', { currency: null }, /currency/],
  ])('refuses %s with a clear reason', (_what, overrides, reason) => {
    const result = orderFactsFromPayload(buildOrderPayload(overrides));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  it('keeps 64-bit ids exact (JSON numbers beyond 2^53)', () => {
    const parsed = parseJsonLossless('{"id": 890088186047892319, "order_id": 820982911946154508, "amount": 1.5}');
    expect(parsed).toEqual({ ok: true, value: { id: '890088186047892319', order_id: '820982911946154508', amount: 1.5 } });
    const refund = refundFactsFromPayload(parsed.ok ? parsed.value : null);
    expect(refund.ok && refund.value).toMatchObject({ orderId: '820982911946154508', refundId: '890088186047892319' });
  });
});

describe('refund amounts', () => {
  it('adds refunded line items (subtotal + tax) in both currencies', () => {
    expect(refundOf(buildRefundPayload(1)).amount).toEqual({ shop: '22.00', presentment: '16.72' });
  });

  it('adds refunded shipping, which Shopify reports as a negative shipping_refund adjustment', () => {
    const body = buildRefundPayload(1, {
      refund_line_items: [],
      order_adjustments: [{ id: 9, kind: 'shipping_refund', amount: '-5.00', tax_amount: '0.00', amount_set: moneySet('-5.00', '-3.80'), tax_amount_set: moneySet('0.00', '0.00') }],
    });
    expect(refundOf(body).amount).toEqual({ shop: '5.00', presentment: '3.80' });
  });

  it('subtracts a refund discrepancy (items refunded for less than their value)', () => {
    const body = buildRefundPayload(1, {
      order_adjustments: [{ id: 9, kind: 'refund_discrepancy', amount: '2.00', tax_amount: '0.00', amount_set: moneySet('2.00', '1.52'), tax_amount_set: moneySet('0.00', '0.00') }],
    });
    expect(refundOf(body).amount).toEqual({ shop: '20.00', presentment: '15.20' });
  });

  it('counts refunded shipping lines once, never together with a shipping_refund adjustment', () => {
    const lines = buildRefundPayload(1, { refund_line_items: [], refund_shipping_lines: [{ subtotal_amount_set: moneySet('7.00', '5.32') }] });
    expect(refundOf(lines).amount).toEqual({ shop: '7.00', presentment: '5.32' });
    const both = buildRefundPayload(1, {
      refund_line_items: [],
      refund_shipping_lines: [{ subtotal_amount_set: moneySet('5.00', '3.80') }],
      order_adjustments: [{ kind: 'shipping_refund', amount_set: moneySet('-5.00', '-3.80'), tax_amount_set: moneySet('0.00', '0.00') }],
    });
    expect(refundOf(both).amount).toEqual({ shop: '5.00', presentment: '3.80' });
  });

  it('falls back to the successful refund transactions when the refund has no parts, and says the shop amount is approximate', () => {
    const body = buildRefundPayload(1, {
      refund_line_items: [],
      transactions: [
        { kind: 'refund', status: 'success', amount: '4.00', currency: 'USD' },
        { kind: 'refund', status: 'failure', amount: '9.00', currency: 'USD' },
      ],
    });
    expect(refundOf(body)).toEqual({ amount: { shop: '4.00', presentment: '4.00' }, currency: { shop: 'USD', presentment: 'USD' }, approximateShop: true });
  });

  it.each<[string, JsonObject, Record<'subtotal' | 'tax' | 'shipping' | 'total', string>]>([
    ['items with tax', {}, { subtotal: '15.20', tax: '1.52', shipping: '0.00', total: '16.72' }],
    [
      'items less a discrepancy',
      { order_adjustments: [{ kind: 'refund_discrepancy', amount_set: moneySet('2.00', '1.52'), tax_amount_set: moneySet('0.00', '0.00') }] },
      { subtotal: '13.68', tax: '1.52', shipping: '0.00', total: '15.20' },
    ],
    [
      'shipping only (adjustment)',
      { refund_line_items: [], order_adjustments: [{ kind: 'shipping_refund', amount_set: moneySet('-5.00', '-3.80'), tax_amount_set: moneySet('-0.50', '-0.38') }] },
      { subtotal: '0.00', tax: '0.38', shipping: '3.80', total: '4.18' },
    ],
    [
      'items and shipping lines',
      { refund_shipping_lines: [{ subtotal_amount_set: moneySet('7.00', '5.32'), tax_amount_set: moneySet('0.70', '0.53') }] },
      { subtotal: '15.20', tax: '2.05', shipping: '5.32', total: '22.57' },
    ],
  ])('tells what the refund is made of (%s), its parts adding up to the refund', (_name, overrides, want) => {
    const refund = refundOf(buildRefundPayload(1, overrides));
    const c = refund.composition;
    expect(c && { subtotal: c.subtotal.presentment, tax: c.tax.presentment, shipping: c.shipping.presentment, total: c.total.presentment }).toEqual(want);
    expect(c?.total).toEqual(refund.amount);
  });

  it('a refund known only from its transactions has no composition', () => {
    const body = buildRefundPayload(1, { refund_line_items: [], transactions: [{ kind: 'refund', status: 'success', amount: '4.00', currency: 'USD' }] });
    expect(refundOf(body).composition).toBeUndefined();
  });

  it('ignores a refund that gives no money back (restock only)', () => {
    const body = buildRefundPayload(1, { refund_line_items: [{ subtotal_set: moneySet('0.00', '0.00'), total_tax_set: moneySet('0.00', '0.00') }], transactions: [] });
    const result = refundFactsFromPayload(body);
    expect(result.ok && result.value.refund).toBeUndefined();
  });
});

describe('the ID chain', () => {
  const captures = new Map<string, Capture>();
  const store = {
    getCapture: async (merchantId: string, kind: CaptureKind, key: string) => captures.get(`${merchantId}|${kind}|${key}`),
  };
  const put = (kind: CaptureKind, key: string, transactionId: string) =>
    captures.set(`m1|${kind}|${key}`, { merchantId: 'm1', kind, key, transactionId, param: 'transaction_id', extras: {}, capturedAt: new Date('2026-03-01T08:00:00Z'), domain: null });

  it('orders the candidates: note_attributes, landing_site, cart token, customer', async () => {
    put('cart_token', 'c1-cart', 'from-cart');
    put('customer', '77', 'from-customer');
    const f = facts(
      buildOrderPayload({
        note_attributes: [captureAttribute({ id: 'from-attribute', x: { aff_sub: 'sub-1' } })],
        landing_site: '/?transaction_id=from-landing',
        cart_token: 'c1-cart',
        customer: { id: 77 },
      }),
    );
    const chain = await resolveIdChain({ facts: f, offers: [offer()], merchantId: 'm1', store });
    expect(chain.candidates.map((c) => [c.source, c.value])).toEqual([
      ['note_attribute', 'from-attribute'],
      ['landing_site', 'from-landing'],
      ['cart_token', 'from-cart'],
      ['customer', 'from-customer'],
    ]);
    expect(chain.candidates[0]).toMatchObject({ param: 'transaction_id', capturedAt: '2026-03-01T10:00:00.000Z', extras: { aff_sub: 'sub-1' } });
    expect(chain.visitorToken).toBe('a'.repeat(32));
  });

  it('reads plain attributes named after an offer parameter, and each offer its own landing parameter', async () => {
    const f = facts(buildOrderPayload({ note_attributes: [{ name: 'click_id', value: 'plain-1' }], landing_site: '/p?cid=landing-b&transaction_id=landing-a' }));
    const offers = [offer({ captureParams: ['click_id', 'transaction_id'] }), offer({ id: 'offer-2', captureParams: ['cid'] })];
    const chain = await resolveIdChain({ facts: f, offers, merchantId: 'm1', store });
    expect(chain.candidates.map((c) => [c.source, c.param, c.value])).toEqual([
      ['note_attribute', 'click_id', 'plain-1'],
      ['landing_site', 'transaction_id', 'landing-a'],
      ['landing_site', 'cid', 'landing-b'],
    ]);
  });

  it('says why each link found nothing', async () => {
    const f = facts(buildOrderPayload({ note_attributes: [{ name: '_clickthread', value: '{not json' }], landing_site: '/wallets/checkouts.json', cart_token: null }));
    const chain = await resolveIdChain({ facts: f, offers: [offer()], merchantId: 'm1', store });
    expect(chain.candidates).toEqual([]);
    expect(chain.report).toEqual([
      'note_attributes: _clickthread unreadable (not JSON)',
      'landing_site: no offer parameter',
      'cart_token: no cart token on the order',
      'customer: nothing registered',
    ]);
  });
});
