import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildJobDraft } from '@clickthread/core/testing';
import { startApiHarness, t0, type ApiHarness } from '../testing/api-harness.ts';

/** A data subject access request answered to the merchant from what is stored, and logged without it. */

const vid = 'v'.repeat(32);
const url = '/api/v1/merchants/shop-a1/stores/s1/customer-data';

let h: ApiHarness;

beforeEach(async () => {
  h = await startApiHarness();
  await h.store.upsertStore({ id: 's1', merchantId: 'shop-a1', platform: 'shopify', domain: 'a1.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
  await h.store.upsertStore({ id: 'sb', merchantId: 'shop-b1', platform: 'shopify', domain: 'b1.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
  const capture = { merchantId: 'shop-a1', transactionId: 'tx-personal', param: 'transaction_id', extras: {}, capturedAt: t0, domain: null };
  await h.store.putCapture({ ...capture, kind: 'customer', key: '901' });
  await h.store.putCapture({ ...capture, kind: 'visitor', key: vid });
  await h.store.linkOrder({ storeId: 's1', orderId: '5001', visitorToken: vid, linkedAt: t0 });
  await h.store.enqueue({ jobs: [buildJobDraft({ merchantId: 'shop-a1', storeId: 's1', orderId: '5001', transactionId: 'tx-personal', amount: '34.67' })], now: t0 });
});

afterEach(async () => {
  await h.close();
});

describe('GET /merchants/:merchantId/stores/:storeId/customer-data', () => {
  it('answers the customer\'s click and, per order, the linked visitor, its click and the postbacks', async () => {
    const res = await request(h.url).get(url).query({ customerId: '901', orderIds: '5001, 5002,5001' }).set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(res.status).toBe(200);
    expect(res.body.customerData).toEqual({
      customerId: '901',
      customerCapture: { transactionId: 'tx-personal', param: 'transaction_id', capturedAt: t0.toISOString() },
      orders: [
        {
          orderId: '5001',
          visitorToken: vid,
          visitorCapture: { transactionId: 'tx-personal', capturedAt: t0.toISOString() },
          postbacks: [{ event: 'sale', status: 'pending', transactionId: 'tx-personal', amount: '34.67', currency: 'USD', createdAt: t0.toISOString() }],
        },
        { orderId: '5002', visitorToken: null, visitorCapture: null, postbacks: [] },
      ],
    });
  });

  it('logs who read it and how much, never the data', async () => {
    await request(h.url).get(url).query({ customerId: '901', orderIds: '5001' }).set('authorization', `Bearer ${h.tokens.merchantA1}`);
    const entry = h.logger.entries.find((e) => e.msg === 'customer data read');
    expect(entry?.obj).toMatchObject({ merchantId: 'shop-a1', storeId: 's1', customerCapture: true, orders: 1, linkedOrders: 1, postbacks: 1 });
    const logged = JSON.stringify(h.logger.entries);
    for (const personal of ['901', vid, 'tx-personal', '5001']) expect(logged).not.toContain(personal);
  });

  it('refuses another merchant\'s store with 404 and nothing of it', async () => {
    const res = await request(h.url).get('/api/v1/merchants/shop-b1/stores/s1/customer-data').query({ customerId: '901' }).set('authorization', `Bearer ${h.tokens.operator}`);
    expect(res.status).toBe(404);
    const foreign = await request(h.url).get('/api/v1/merchants/shop-a1/stores/sb/customer-data').query({ customerId: '901' }).set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain('tx-personal');
  });

  it.each([
    ['neither a customer nor an order', {}, 'query.customerId'],
    ['a customer id that is not an id', { customerId: '90 1' }, 'query.customerId'],
    ['an order id that is not an id', { orderIds: '5001,<x>' }, 'query.orderIds.1'],
    ['more than 250 orders', { orderIds: Array.from({ length: 251 }, (_, i) => String(i)).join(',') }, 'query.orderIds'],
  ])('refuses %s: 400 naming %s', async (_, query, path) => {
    const res = await request(h.url).get(url).query(query).set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
  });
});
