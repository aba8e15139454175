import { describe, expect, it } from 'vitest';
import { buildOffer } from '../fixtures/offer-fixture.ts';
import { buildOrder } from '../fixtures/order-fixture.ts';
import { planPostbacks } from './plan-postbacks.ts';
import { idempotencyKeyOf, type PriorPostback } from './postback-job.ts';

const now = new Date('2026-03-02T12:00:05.000Z');
const reversalOffer = () =>
  buildOffer({
    postbacks: {
      sale: { url: 'https://tracker.example/pb?tid={transaction_id}&amount={amount}&order={order_id}' },
      refund: { url: 'https://tracker.example/rev?tid={transaction_id}&amount={amount}&order={order_id}' },
      cancel: { url: 'https://tracker.example/cancel?tid={transaction_id}&order={order_id}' },
    },
  });

const sold = (over: Partial<PriorPostback> = {}): PriorPostback => ({
  idempotencyKey: idempotencyKeyOf({ storeId: 's1', orderId: '1001', offerId: 'offer-1', eventKey: 'sale' }),
  offerId: 'offer-1',
  event: 'sale',
  eventKey: 'sale',
  status: 'succeeded',
  amount: '90.00',
  transactionId: 'SOLD-ID',
  idSource: 'cart_token',
  ...over,
});

describe('planPostbacks', () => {
  it('turns a paid, attributed order into one sale job with the idempotency key', () => {
    const plan = planPostbacks({ order: buildOrder(), offers: [buildOffer()], now });
    expect(plan.unattributed).toBeUndefined();
    expect(plan.jobs).toHaveLength(1);
    expect(plan.jobs[0]).toMatchObject({
      idempotencyKey: idempotencyKeyOf({ storeId: 's1', orderId: '1001', offerId: 'offer-1', eventKey: 'sale' }),
      event: 'sale',
      eventKey: 'sale',
      method: 'GET',
      url: 'https://tracker.example/postback?tid=tx-abc123&amount=90.00&order=1001&cur=USD',
      transactionId: 'tx-abc123',
      idSource: 'note_attribute',
      amount: '90.00',
      currency: 'USD',
      test: false,
    });
  });

  it.each([
    ['subtotal', 'shop', '90.00', 'USD'],
    ['total', 'shop', '110.00', 'USD'],
    ['total_less_tax', 'shop', '102.00', 'USD'],
    ['total_less_shipping', 'shop', '98.00', 'USD'],
    ['subtotal', 'presentment', '82.80', 'EUR'],
    ['total_less_tax', 'presentment', '93.84', 'EUR'],
  ] as const)('amount basis %s in %s currency → %s %s', (basis, currency, amount, code) => {
    const plan = planPostbacks({ order: buildOrder(), offers: [buildOffer({ amount: { basis, currency } })], now });
    expect(plan.jobs[0]).toMatchObject({ amount, currency: code });
  });

  it('takes the first usable candidate of the chain and records its source', () => {
    const order = buildOrder({
      idCandidates: [
        { source: 'note_attribute', value: 'bad value', param: 'transaction_id' },
        { source: 'landing_site', value: 'OLD', param: 'transaction_id', capturedAt: '2025-01-01T00:00:00.000Z' },
        { source: 'landing_site', value: 'EF1', param: '_ef_transaction_id' },
        { source: 'cart_token', value: 'CART1', param: 'click_id', capturedAt: '2026-03-01T00:00:00.000Z' },
      ],
    });
    const plan = planPostbacks({ order, offers: [buildOffer()], now });
    expect(plan.jobs[0]).toMatchObject({ transactionId: 'CART1', idSource: 'cart_token' });
  });

  it('logs an unattributed order with the reason of every source', () => {
    const order = buildOrder({
      idCandidates: [
        { source: 'note_attribute', value: 'a b', param: 'transaction_id' },
        { source: 'customer', value: 'OLD', param: 'transaction_id', capturedAt: '2025-01-01T00:00:00.000Z' },
      ],
    });
    const plan = planPostbacks({ order, offers: [buildOffer()], now });
    expect(plan.jobs).toEqual([]);
    expect(plan.unattributed?.reason).toContain('note_attribute: ID refused');
    expect(plan.unattributed?.reason).toContain('customer: click older than the 30-day window');
    expect(planPostbacks({ order: buildOrder({ idCandidates: [] }), offers: [buildOffer()], now }).unattributed?.reason).toContain(
      'no transaction ID found',
    );
  });

  it('sends nothing for an unpaid order, and nothing for offers of other stores', () => {
    expect(planPostbacks({ order: buildOrder({ paid: false }), offers: [buildOffer()], now })).toEqual({ jobs: [], skipped: [] });
    expect(planPostbacks({ order: buildOrder(), offers: [buildOffer({ stores: ['other'] })], now })).toEqual({ jobs: [], skipped: [] });
  });

  it.each([
    ['skip', [], ['test order (offer skips test orders)']],
    ['send', ['https://t.example/pb?tid=tx-abc123&test=0'], []],
    ['send_flagged', ['https://t.example/pb?tid=tx-abc123&test=1'], []],
  ] as const)('test order under policy %s', (testOrders, urls, reasons) => {
    const offer = buildOffer({ testOrders, postbacks: { sale: { url: 'https://t.example/pb?tid={transaction_id}&test={test}' } } });
    const plan = planPostbacks({ order: buildOrder({ test: true }), offers: [offer], now });
    expect(plan.jobs.map((j) => j.url)).toEqual(urls);
    expect(plan.skipped.map((s) => s.reason)).toEqual(reasons);
  });

  it('reverses each refund of a sale planned now, in the offer basis, held until the sale succeeded', () => {
    const order = buildOrder({
      refunds: [
        { id: 'r1', amount: { shop: '11.00', presentment: '10.12' } },
        { id: 'r2', amount: { shop: '22.00', presentment: '20.24' } },
      ],
    });
    const plan = planPostbacks({ order, offers: [reversalOffer()], now });
    const saleKey = idempotencyKeyOf({ storeId: 's1', orderId: '1001', offerId: 'offer-1', eventKey: 'sale' });
    // subtotal basis: 90 of a 110 total, so a refund of 11.00 reverses 9.00
    expect(plan.jobs.map((j) => [j.eventKey, j.amount, new URL(j.url).searchParams.get('order'), j.dependsOn])).toEqual([
      ['sale', '90.00', '1001', undefined],
      ['refund:r1', '9.00', '1001', saleKey],
      ['refund:r2', '18.00', '1001', saleKey],
    ]);
  });

  it('reverses with the ID of the reported sale, not whatever the chain finds today', () => {
    const order = buildOrder({ refunds: [{ id: 'r1', amount: { shop: '11.00', presentment: '10.12' } }] });
    const plan = planPostbacks({ order, offers: [reversalOffer()], now, history: [sold()] });
    expect(plan.jobs.filter((j) => j.event === 'refund').map((j) => [j.transactionId, j.idSource, j.dependsOn])).toEqual([['SOLD-ID', 'cart_token', undefined]]);
  });

  it.each([
    ['failed', 'rejected by the network'],
    ['dead', 'never delivered'],
  ] as const)('reverses nothing when the sale %s (%s)', (status, _why) => {
    const order = buildOrder({ paid: true, cancelled: true });
    const plan = planPostbacks({ order, offers: [reversalOffer()], now, history: [sold({ status })] });
    expect(plan.jobs).toEqual([]);
    expect(plan.skipped.map((s) => s.reason)).toContain('no reported conversion to reverse');
  });

  it('does not count a sale planned again over a rejected one as reported', () => {
    const order = buildOrder({ refunds: [{ id: 'r1', amount: { shop: '11.00', presentment: '10.12' } }] });
    const plan = planPostbacks({ order, offers: [reversalOffer()], now, history: [sold({ status: 'failed' })] });
    expect(plan.jobs.map((j) => j.eventKey)).toEqual(['sale']);
    expect(plan.skipped.map((s) => s.reason)).toContain('no reported conversion to reverse');
  });

  it('never reverses a sale that was never reported', () => {
    const plan = planPostbacks({ order: buildOrder({ cancelled: true }), offers: [reversalOffer()], now });
    expect(plan.jobs).toEqual([]);
  });

  it('cancels what the refunds have not reversed, and sends no refund the cancel covers', () => {
    const refund = (id: string, amount: string): PriorPostback =>
      sold({ idempotencyKey: `k-${id}`, event: 'refund', eventKey: `refund:${id}`, amount });
    const order = buildOrder({
      cancelled: true,
      refunds: [
        { id: 'r1', amount: { shop: '11.00', presentment: '10.12' } },
        { id: 'r2', amount: { shop: '99.00', presentment: '91.08' } },
      ],
    });
    const plan = planPostbacks({ order, offers: [reversalOffer()], now, history: [sold(), refund('r1', '9.00')] });
    expect(plan.jobs.map((j) => [j.event, j.eventKey, j.amount])).toEqual([['cancel', 'cancel', '81.00']]);
  });

  it('caps reversals at the conversion: a full refund after partial ones reverses only the rest', () => {
    const order = buildOrder({ fullyRefunded: true, refunds: [] });
    const partial = sold({ idempotencyKey: 'k-r1', event: 'refund', eventKey: 'refund:r1', amount: '30.00' });
    const plan = planPostbacks({ order, offers: [reversalOffer()], now, history: [sold(), partial] });
    expect(plan.jobs.filter((j) => j.event === 'refund').map((j) => [j.eventKey, j.amount])).toEqual([['refund:full', '60.00']]);
    const again = planPostbacks({ order: buildOrder({ refunds: [{ id: 'r9', amount: { shop: '110.00', presentment: '101.20' } }] }), offers: [reversalOffer()], now, history: [sold(), { ...partial, amount: '90.00' }] });
    expect(again.jobs.filter((j) => j.event === 'refund')).toEqual([]);
    expect(again.skipped.map((s) => s.reason)).toContain('refund:r9: the conversion is already fully reversed');
  });

  it('uses the refund template for a cancellation when the offer has no cancel template', () => {
    const offer = buildOffer({ postbacks: { sale: { url: 'https://t.example/s?t={transaction_id}' }, refund: { url: 'https://t.example/r?t={transaction_id}&a={amount}' } } });
    const plan = planPostbacks({ order: buildOrder({ cancelled: true }), offers: [offer], now, history: [sold()] });
    expect(plan.jobs.map((j) => [j.event, j.eventKey, j.url])).toEqual([['refund', 'cancel', 'https://t.example/r?t=SOLD-ID&a=90.00']]);
  });

  it('sends first_order only when the platform says so, and lead with the sale, each with its own order:event key', () => {
    const offer = buildOffer({
      postbacks: { first_order: { url: 'https://t.example/fo?o={order_id}' }, lead: { url: 'https://t.example/lead?o={order_id}' } },
    });
    expect(planPostbacks({ order: buildOrder(), offers: [offer], now }).jobs.map((j) => j.url)).toEqual(['https://t.example/lead?o=1001%3Alead']);
    expect(planPostbacks({ order: buildOrder({ firstOrder: true }), offers: [offer], now }).jobs.map((j) => j.event)).toEqual(['lead', 'first_order']);
  });

  it('passes captured extras to the template as macros', () => {
    const offer = buildOffer({ extraParams: ['aff_sub'], postbacks: { sale: { url: 'https://t.example/pb?tid={transaction_id}&s={aff_sub}&s1={sub1}' } } });
    const order = buildOrder({ idCandidates: [{ source: 'landing_site', value: 'T', param: 'transaction_id', extras: { aff_sub: 'a+b' } }] });
    expect(planPostbacks({ order, offers: [offer], now }).jobs[0]?.url).toBe('https://t.example/pb?tid=T&s=a%2Bb&s1=a%2Bb');
  });

  it('is deterministic: the same order planned twice gives the same keys', () => {
    const a = planPostbacks({ order: buildOrder(), offers: [reversalOffer()], now });
    const b = planPostbacks({ order: buildOrder(), offers: [reversalOffer()], now: new Date('2026-03-05T00:00:00.000Z') });
    expect(a.jobs.map((j) => j.idempotencyKey)).toEqual(b.jobs.map((j) => j.idempotencyKey));
  });
});
