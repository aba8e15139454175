import { captureParamsOf, type Offer } from '../offers/offer-schema.ts';
import type { Order, PostbackEvent } from '../orders/order.ts';

/**
 * The order `test-fire` renders an offer's postback with. It goes through planPostbacks like a
 * real order, so the URL sent is exactly what the worker would send for such an order. The
 * transaction ID is obviously fake unless the merchant passes a real one from a test click.
 */

export interface SampleOrderOptions {
  readonly merchantId: string;
  readonly offer: Offer;
  readonly event: PostbackEvent;
  readonly transactionId: string;
  readonly orderId: string;
  readonly amount: string;
  readonly currency: string;
  readonly now: Date;
}

export function sampleOrder(o: SampleOrderOptions): Order {
  const amount = { shop: o.amount, presentment: o.amount };
  const zero = { shop: '0.00', presentment: '0.00' };
  const refunded = o.event === 'refund';
  return {
    platform: 'shopify',
    merchantId: o.merchantId,
    // a store id of its own: offers limited to some stores still apply (see testFireOffer)
    storeId: 'test-fire',
    storeDomain: 'test-fire.clickthread.invalid',
    orderId: o.orderId,
    orderNumber: `#${o.orderId}`,
    status: o.event === 'cancel' ? 'cancelled' : refunded ? 'refunded' : 'paid',
    paid: true,
    cancelled: o.event === 'cancel',
    fullyRefunded: false,
    test: false,
    source: 'clickthread test-fire',
    currency: { shop: o.currency, presentment: o.currency },
    amounts: { subtotal: amount, total: amount, tax: zero, shipping: zero, discounts: zero },
    refunds: refunded ? [{ id: 'test', amount, createdAt: o.now.toISOString() }] : [],
    coupons: [],
    ...(o.event === 'first_order' ? { firstOrder: true } : {}),
    createdAt: o.now.toISOString(),
    idCandidates: [{ source: 'manual', value: o.transactionId, param: captureParamsOf(o.offer)[0] ?? 'transaction_id', capturedAt: o.now.toISOString() }],
  };
}
