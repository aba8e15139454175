import * as fc from 'fast-check';
import { recordedSecret, recordedSource, signedDelivery } from '@clickthread/woocommerce-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedConnection, startHarness, type Harness } from './support/harness.ts';
import { post } from './support/send.ts';

/** Open-ended input at the bridge's two public doors: whatever arrives, a clear 4xx, never a 500. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await seedConnection(h, { id: 'wc_prop', storeUrl: recordedSource, webhookSecret: recordedSecret, idMetaKeys: ['_transaction_id_demo'] });
  await h.saveOffer();
});
afterAll(async () => {
  await h.close();
});

describe('properties', () => {
  it('a signed body of any JSON is accepted as an order or refused with 400, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 3 }), fc.constantFrom('order.created', 'order.updated', 'order.deleted', 'order.restored'), async (text, topic) => {
        const d = signedDelivery(text, { secret: recordedSecret, topic });
        const res = await post(`${h.url}/webhooks/woocommerce/wc_prop`, d.body, d.headers);
        expect([200, 400]).toContain(res.status);
      }),
      { numRuns: 60 },
    );
  });

  it('unsigned bytes are refused (401), except the exact ping form', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const body = Buffer.from(bytes);
        const res = await post(`${h.url}/webhooks/woocommerce/wc_prop`, body, { 'content-type': 'application/octet-stream' });
        expect(res.status).toBe(/^webhook_id=\d{1,20}$/.test(body.toString('latin1').trim()) ? 200 : 401);
      }),
      { numRuns: 60 },
    );
    expect(await h.store.listJobs({})).toEqual([]);
  });

  it('any capture report body gets a 4xx answer and stores nothing unless it is a valid click', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ maxLength: 200 })), async (body) => {
        const res = await fetch(`${h.url}/capture`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://127.0.0.1:8080' }, body });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });
});
