import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropPostgresSchema } from '@clickthread/core/storage';
import { webhookPaths } from '../../shopify-app/src/webhooks/webhook-routes.ts';
import { buildOrderPayload, captureAttribute } from './order-payload-builder.ts';
import { shopDomain, startHarness, type Harness } from './shopify-harness.ts';

/**
 * The same app on PostgreSQL (DATABASE_URL=postgres://…): Clickthread's store in a schema of its own
 * per test, the Shopify sessions in Shopify's PostgreSQL session storage.
 */

const url = process.env['CLICKTHREAD_TEST_DATABASE_URL'] ?? '';
const skipReason = 'set CLICKTHREAD_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run the Shopify app on PostgreSQL';
if (url === '') console.warn(`[skip] ${skipReason}`);

let h: Harness;
let schema: string;

describe.skipIf(url === '')('Shopify app on PostgreSQL', () => {
  beforeEach(async () => {
    schema = `ct_shopify_${randomBytes(6).toString('hex')}`;
    h = await startHarness({ postgres: { url, schema } });
    await h.saveOffer();
  });

  afterEach(async () => {
    const sessions = await h.handle.sessionStorage.storage.findSessionsByShop(shopDomain);
    // (the PostgreSQL storage fails on an empty list: "IN ()")
    if (sessions.length > 0) await h.handle.sessionStorage.storage.deleteSessions(sessions.map((s) => s.id));
    await h.close();
    await dropPostgresSchema(url, schema);
  });

  it('keeps sessions in PostgreSQL, takes a webhook once, delivers it and forgets the shop on uninstall', async () => {
    expect(h.handle.sessionStorage.kind).toBe('postgres');
    expect(await h.handle.sessionStorage.storage.findSessionsByShop(shopDomain)).toHaveLength(1);

    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-pg-1' })] });
    await h.webhook(webhookPaths.ordersPaid, 'orders/paid', order, { webhookId: 'wh-pg', eventId: 'ev-pg' });
    await h.webhook(webhookPaths.ordersPaid, 'orders/paid', order, { webhookId: 'wh-pg', eventId: 'ev-pg' });
    expect(await h.jobs()).toMatchObject([{ transactionId: 'tx-pg-1', idSource: 'note_attribute' }]);
    expect(await h.deliver()).toMatchObject({ succeeded: 1 });
    expect(h.tracker.requests.map((r) => r.query['tid'])).toEqual(['tx-pg-1']);

    await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1 });
    expect((await h.shop()).status).toBe('uninstalled');
    expect(await h.handle.sessionStorage.storage.findSessionsByShop(shopDomain)).toEqual([]);
  });
});
