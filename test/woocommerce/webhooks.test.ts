import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildWooOrder,
  loadRecordedDeliveries,
  recordedSecret,
  recordedSource,
  replayHeaders,
  signedDelivery,
  wpJsonEncode,
} from '@clickthread/woocommerce-bridge/testing';
import { startHarness, seedConnection, type Harness } from './support/harness.ts';
import { post } from './support/send.ts';

/**
 * The webhook route over real HTTP: the deliveries a real WooCommerce 9.9.5 sent, replayed byte for
 * byte, and signed bodies built from their shape for everything they do not cover.
 */

let h: Harness;
const connectionId = 'wc_recorded';
const hookUrl = () => `${h.url}/webhooks/woocommerce/${connectionId}`;

beforeEach(async () => {
  h = await startHarness({ env: { CLICKTHREAD_WOO_WEBHOOK_MAX_BYTES: '65536' } });
  await seedConnection(h, { id: connectionId, storeUrl: recordedSource, webhookSecret: recordedSecret, idMetaKeys: ['_transaction_id_demo'] });
  await h.saveOffer();
});
afterEach(async () => {
  await h.close();
});

async function nothingStored(): Promise<void> {
  expect(await h.store.listJobs({})).toEqual([]);
  expect(await h.store.listUnattributed({})).toEqual([]);
}

describe('recorded WooCommerce 9.9.5 deliveries, replayed byte for byte', () => {
  it('answers both real pings with exactly 200, before any check, storing nothing', async () => {
    const pings = loadRecordedDeliveries('async').filter((d) => d.topic === undefined);
    expect(pings.map((p) => p.body.toString())).toEqual(['webhook_id=1', 'webhook_id=2']);
    for (const ping of pings) {
      const res = await post(hookUrl(), ping.body, replayHeaders(ping));
      expect(res.status).toBe(200);
      // a ping for a connection the bridge does not know (yet) passes too: Woo only wants the 200
      expect((await post(`${h.url}/webhooks/woocommerce/wc_unknown`, ping.body, replayHeaders(ping))).status).toBe(200);
    }
    expect(await h.counter('webhooks', { outcome: 'ping' })).toBe(4);
    await nothingStored();
  });

  it.each(['async', 'sync'] as const)('turns the %s run into one sale and one refund postback job', async (run) => {
    const deliveries = loadRecordedDeliveries(run).filter((d) => d.topic !== undefined);
    for (const d of deliveries) {
      const res = await post(hookUrl(), d.body, replayHeaders(d));
      expect(res.status, `delivery ${d.seq}`).toBe(200);
    }
    const jobs = await h.store.listJobs({});
    const orderId = run === 'async' ? '12' : '15';
    expect(jobs.map((j) => [j.orderId, j.event, j.amount, j.transactionId, j.idSource]).toSorted()).toEqual([
      [orderId, 'refund', '5.00', 'abc', 'order_meta'],
      [orderId, 'sale', '39.98', 'abc', 'order_meta'],
    ]);
    expect(await h.counter('webhooks', { outcome: 'accepted' })).toBe(deliveries.length);
  });

  it('replaying the whole run again stores nothing new (duplicate deliveries)', async () => {
    const deliveries = loadRecordedDeliveries('sync').filter((d) => d.topic !== undefined);
    for (const d of [...deliveries, ...deliveries]) expect((await post(hookUrl(), d.body, replayHeaders(d))).status).toBe(200);
    expect(await h.store.listJobs({})).toHaveLength(2);
  });

  it('does not dedupe on X-WC-Webhook-Delivery-ID: two orders in the same second share it', async () => {
    const [a, b] = [buildWooOrder({ id: 101 }), buildWooOrder({ id: 102 })];
    const shared = '6c309b611a89b6570889ab8e02cee828';
    for (const order of [a, b]) {
      const d = signedDelivery(order, { secret: recordedSecret, deliveryId: shared });
      expect((await post(hookUrl(), d.body, d.headers)).status).toBe(200);
    }
    expect((await h.store.listJobs({})).map((j) => j.orderId).toSorted()).toEqual(['101', '102']);
  });
});

const recorded = () => loadRecordedDeliveries('async').find((d) => d.seq === 5)!;

describe('rejected requests store nothing but a counter and a log line', () => {
  it.each<[string, () => { body: Buffer; headers: Record<string, string> }]>([
    ['a signature made with another secret', () => signedDelivery(buildWooOrder(), { secret: 'not-the-secret' })],
    ['no signature header', () => {
      const d = recorded();
      const { ['x-wc-webhook-signature']: _dropped, ...headers } = replayHeaders(d);
      return { body: d.body, headers };
    }],
    ['a body changed after signing', () => {
      const d = recorded();
      return { body: Buffer.from(d.body.toString().replace('"total":"39.98"', '"total":"3998.00"')), headers: replayHeaders(d) };
    }],
    ['the real body re-serialized (slashes unescaped)', () => {
      const d = recorded();
      return { body: Buffer.from(JSON.stringify(JSON.parse(d.body.toString()))), headers: replayHeaders(d) };
    }],
    ['a signature of an empty body', () => signedDelivery(buildWooOrder(), { secret: recordedSecret, signature: 'q1MKE+RZFJgrefm34/uplM/R8/si9xzqGvvwK0YMbR0=' })],
    ['an unsigned form body that is not a ping', () => ({ body: Buffer.from('webhook_id=1&x=2'), headers: { 'content-type': 'application/x-www-form-urlencoded' } })],
  ])('401 for %s', async (_name, make) => {
    const d = make();
    const res = await post(hookUrl(), d.body, d.headers);
    expect(res.status).toBe(401);
    expect(await h.counter('webhooks', { outcome: 'rejected_signature' })).toBe(1);
    await nothingStored();
    expect(h.logger.entries.some((e) => e.msg === 'woocommerce webhook rejected' && (e.obj as { reason?: string }).reason === 'signature')).toBe(true);
  });

  it('401 when X-WC-Webhook-Source is another site, even with a valid signature', async () => {
    const d = signedDelivery(buildWooOrder(), { secret: recordedSecret, source: 'http://evil.example/' });
    expect((await post(hookUrl(), d.body, d.headers)).status).toBe(401);
    expect(await h.counter('webhooks', { outcome: 'rejected_source' })).toBe(1);
    await nothingStored();
  });

  it.each([
    ['an unknown connection', '/webhooks/woocommerce/wc_nobody'],
    ['a connection id with odd characters', '/webhooks/woocommerce/..%2Fadmin'],
  ])('404 for %s', async (_name, path) => {
    const d = signedDelivery(buildWooOrder(), { secret: recordedSecret });
    expect((await post(`${h.url}${path}`, d.body, d.headers)).status).toBe(404);
    await nothingStored();
  });

  it('a rotated webhook secret takes effect on the next delivery (the opened secrets are cached per sealed value)', async () => {
    const first = signedDelivery(buildWooOrder({ id: 501 }), { secret: recordedSecret });
    expect((await post(hookUrl(), first.body, first.headers)).status).toBe(200);
    await seedConnection(h, { id: connectionId, storeUrl: recordedSource, webhookSecret: 'rotated-secret', idMetaKeys: ['_transaction_id_demo'] });
    const old = signedDelivery(buildWooOrder({ id: 502 }), { secret: recordedSecret });
    expect((await post(hookUrl(), old.body, old.headers)).status).toBe(401);
    expect(await h.counter('webhooks', { outcome: 'rejected_signature' })).toBe(1);
    const rotated = signedDelivery(buildWooOrder({ id: 503 }), { secret: 'rotated-secret' });
    expect((await post(hookUrl(), rotated.body, rotated.headers)).status).toBe(200);
  });

  it('404 for a disconnected store', async () => {
    const stored = (await h.store.getStore(connectionId))!;
    await h.store.upsertStore({ ...stored, status: 'disabled', now: h.clock.now() });
    const d = signedDelivery(buildWooOrder(), { secret: recordedSecret });
    expect((await post(hookUrl(), d.body, d.headers)).status).toBe(404);
    await nothingStored();
  });

  it.each<[string, string]>([
    ['malformed JSON', '{"id":15,"status":'],
    ['JSON that is not an order', '{"hello":"world"}'],
    ['an order with an unreadable total', wpJsonEncode({ ...buildWooOrder(), total: '1,039.98' })],
    ['an empty body', ''],
  ])('400 for a signed body with %s', async (_name, text) => {
    const d = signedDelivery(text, { secret: recordedSecret });
    expect((await post(hookUrl(), d.body, d.headers)).status).toBe(400);
    expect(await h.counter('webhooks', { outcome: 'rejected_malformed' })).toBe(1);
    await nothingStored();
  });

  it('413 for a body over the limit, before anything else', async () => {
    const big = { ...buildWooOrder(), customer_note: 'x'.repeat(70_000) };
    const d = signedDelivery(big, { secret: recordedSecret });
    expect((await post(hookUrl(), d.body, d.headers)).status).toBe(413);
    expect(await h.counter('webhooks', { outcome: 'rejected_too_large' })).toBe(1);
    await nothingStored();
  });

  it('200 and nothing stored for a topic the bridge does not handle', async () => {
    const d = signedDelivery({ id: 5, name: 'A product' }, { secret: recordedSecret, topic: 'product.updated' });
    expect((await post(hookUrl(), d.body, d.headers)).status).toBe(200);
    expect(await h.counter('webhooks', { outcome: 'ignored' })).toBe(1);
    await nothingStored();
  });

  it('accepts order.deleted (id only) and order.restored (a full order)', async () => {
    const deleted = signedDelivery({ id: 15 }, { secret: recordedSecret, topic: 'order.deleted' });
    expect((await post(hookUrl(), deleted.body, deleted.headers)).status).toBe(200);
    await nothingStored();
    const restored = signedDelivery(buildWooOrder(), { secret: recordedSecret, topic: 'order.restored' });
    expect((await post(hookUrl(), restored.body, restored.headers)).status).toBe(200);
    expect(await h.store.listJobs({})).toHaveLength(1);
  });
});
