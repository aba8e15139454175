import { buildOffer } from '@clickthread/core/fixtures';
import type { Capture, CaptureKind, OrderLink } from '@clickthread/core/storage';
import { describe, expect, it } from 'vitest';
import { buildWooOrder, type WooMetaJson } from '../testing/woo-order-builder.ts';
import { resolveIdChain, wooCustomerKey } from './resolve-id.ts';
import { wooOrderSchema } from './woo-order.ts';

function capture(kind: CaptureKind, key: string, transactionId: string, param: string | null = 'transaction_id'): Capture {
  return { merchantId: 'm1', kind, key, transactionId, param, extras: { aff_sub: 's1' }, capturedAt: new Date('2026-11-20T10:00:00Z'), domain: 'a.example' };
}

function lookups(links: OrderLink[], captures: Capture[]) {
  return {
    getOrderLink: async (storeId: string, orderId: string) => links.find((l) => l.storeId === storeId && l.orderId === orderId),
    getCapture: async (merchantId: string, kind: CaptureKind, key: string) => captures.find((c) => c.merchantId === merchantId && c.kind === kind && c.key === key),
  };
}

const offers = [buildOffer({ captureParams: ['transaction_id', 'click_id'], extraParams: ['aff_sub'] }), buildOffer({ id: 'utm-offer', captureParams: ['utm_content'] })];

function order(meta: WooMetaJson[], customerId = 0) {
  return wooOrderSchema.parse(buildWooOrder({ meta_data: meta, customer_id: customerId }));
}

const entryUrl = (query: string): WooMetaJson => ({ key: '_wc_order_attribution_session_entry', value: `https://shop.example/landing/?${query}` });

describe('resolveIdChain', () => {
  it('lists every source in chain order: meta → link → attribution → customer', async () => {
    const store = lookups(
      [{ storeId: 'wc_1', orderId: '15', visitorToken: 'v'.repeat(32), linkedAt: new Date() }],
      [capture('visitor', 'v'.repeat(32), 'from-link'), capture('customer', wooCustomerKey('wc_1', 7), 'from-customer')],
    );
    const chain = await resolveIdChain(store, {
      order: order([{ key: 'my_tid', value: 'from-meta' }, entryUrl('click_id=from-entry&aff_sub=x1'), { key: '_wc_order_attribution_utm_content', value: 'from-utm' }], 7),
      merchantId: 'm1',
      storeId: 'wc_1',
      idMetaKeys: ['my_tid'],
      offers,
    });
    expect(chain.linkKnown).toBe(true);
    expect(chain.candidates).toEqual([
      { source: 'order_meta', value: 'from-meta' },
      { source: 'order_link', value: 'from-link', param: 'transaction_id', extras: { aff_sub: 's1' }, capturedAt: '2026-11-20T10:00:00.000Z' },
      { source: 'order_attribution', value: 'from-entry', param: 'click_id', extras: { aff_sub: 'x1' } },
      { source: 'order_attribution', value: 'from-utm', param: 'utm_content' },
      { source: 'customer', value: 'from-customer', param: 'transaction_id', extras: { aff_sub: 's1' }, capturedAt: '2026-11-20T10:00:00.000Z' },
    ]);
  });

  it('finds nothing when no source has an ID', async () => {
    const chain = await resolveIdChain(lookups([], []), { order: order([{ key: '_transaction_id_demo', value: 'abc' }]), merchantId: 'm1', storeId: 'wc_1', idMetaKeys: [], offers });
    expect(chain).toEqual({ candidates: [], linkKnown: false });
  });

  it('knows the link even when the visitor had no click', async () => {
    const chain = await resolveIdChain(lookups([{ storeId: 'wc_1', orderId: '15', visitorToken: 'x'.repeat(32), linkedAt: new Date() }], []), {
      order: order([]),
      merchantId: 'm1',
      storeId: 'wc_1',
      idMetaKeys: [],
      offers,
    });
    expect(chain).toEqual({ candidates: [], linkKnown: true });
  });

  it('reads the ID in the session entry in another case of the parameter name', async () => {
    const chain = await resolveIdChain(lookups([], []), { order: order([entryUrl('Transaction_ID=t-1')]), merchantId: 'm1', storeId: 'wc_1', idMetaKeys: [], offers });
    expect(chain.candidates).toEqual([{ source: 'order_attribution', value: 't-1', param: 'transaction_id' }]);
  });

  it.each([
    ['an entry without the parameter', entryUrl('utm_source=google')],
    ['an empty entry', { key: '_wc_order_attribution_session_entry', value: '' }],
    ['an entry that is not a string', { key: '_wc_order_attribution_session_entry', value: { url: 'x' } }],
    ['an ID with markup', entryUrl('transaction_id=%3Cscript%3E')],
  ])('ignores %s', async (_name, meta) => {
    const chain = await resolveIdChain(lookups([], []), { order: order([meta]), merchantId: 'm1', storeId: 'wc_1', idMetaKeys: [], offers });
    expect(chain.candidates).toEqual([]);
  });

  it('looks customers up only for registered customers', async () => {
    const store = lookups([], [capture('customer', wooCustomerKey('wc_1', 0), 'guest-id')]);
    const chain = await resolveIdChain(store, { order: order([], 0), merchantId: 'm1', storeId: 'wc_1', idMetaKeys: [], offers });
    expect(chain.candidates).toEqual([]);
  });

  it.each([
    ['admin', true],
    ['pos-rest-api', true],
    ['POS', true],
    ['checkout', false],
    ['store-api', false],
    ['rest-api', false],
    ['subscription', false],
  ])('created_via %s: customer map skipped = %s', async (createdVia, skipped) => {
    const store = lookups([], [capture('customer', wooCustomerKey('wc_1', 7), 'from-customer')]);
    const raw = wooOrderSchema.parse(buildWooOrder({ meta_data: [], customer_id: 7, created_via: createdVia }));
    const chain = await resolveIdChain(store, { order: raw, merchantId: 'm1', storeId: 'wc_1', idMetaKeys: [], offers });
    expect(chain.candidates.map((c) => c.source)).toEqual(skipped ? [] : ['customer']);
    expect(chain.customerMapSkipped !== undefined).toBe(skipped);
  });
});
