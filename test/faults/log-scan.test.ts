import { createLogger } from '@clickthread/core';
import { signAppProxyQuery } from '@clickthread/shopify-app';
import { wpJsonEncode, wooOrderAt } from '@clickthread/woocommerce-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrderPayload, captureAttribute } from '../shopify/order-payload-builder.ts';
import { secrets, shopDomain, startSystem, wooMetaKey, type System } from './support/system.ts';

/**
 * Log scan: the whole system runs its flows with every kind of secret configured (Shopify API
 * secret and offline access token, Woo consumer key/secret and webhook secret, the key that
 * encrypts them at rest, tracker URLs carrying token= and security_token=), through the real pino
 * logger at debug level into memory. Good paths and failing ones: refused signatures, retries,
 * connection resets, dead letters, write-backs, reconciliation. No secret may appear in any line,
 * in any common encoding, nor in the postback log shown to merchants.
 */

const lines: string[] = [];
let system: System;

beforeAll(async () => {
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  system = await startSystem({ logger, schedule: [60_000, 120_000] });
});
afterAll(async () => {
  await system.close();
});

function variants(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), JSON.stringify(secret).slice(1, -1)])];
}

describe('log scan', () => {
  it('runs every flow with secrets configured and finds none of them in any log line or in the postback log', { timeout: 30_000 }, async () => {
    // postbacks: one network answers, the other fails (echoing its token, resetting) until its jobs are dead letters
    system.tracker.behave('/net-b', {
      kind: 'sequence',
      steps: [{ kind: 'reply', status: 500, body: `error for token=${secrets.trackerToken}` }, { kind: 'reset' }, { kind: 'reply', status: 503 }],
    });

    // Shopify: a good order, a refused signature, compliance, the app proxy
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'scan-tx-1' })] });
    expect((await system.sendShopify(JSON.stringify(order))).status).toBe(200);
    expect((await system.sendShopify(JSON.stringify(order), { secret: 'not-the-secret' })).status).toBe(401);
    const redact = JSON.stringify({ shop_id: 1, shop_domain: shopDomain, customer: { id: 1, email: 'a@example.com' }, orders_to_redact: [] });
    expect((await system.sendShopify(redact, { topic: 'customers/redact', path: '/webhooks/compliance' })).status).toBeLessThan(500);
    const query = new URLSearchParams({ shop: shopDomain, logged_in_customer_id: '', path_prefix: '/apps/clickthread', timestamp: String(Math.floor(system.clock.now().getTime() / 1000)) });
    query.append('signature', signAppProxyQuery(query, secrets.shopifyApiSecret));
    const proxied = await fetch(`${system.shopify.url}/proxy/capture?${query.toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cartToken: 'cart-scan-1', id: 'scan-tx-2', p: 'transaction_id', t: '2026-03-02T11:00:00.000Z', vid: 'v'.repeat(32), x: {} }),
    });
    expect(proxied.status).toBeLessThan(500);
    query.set('signature', 'f'.repeat(64));
    expect((await fetch(`${system.shopify.url}/proxy/capture?${query.toString()}`, { method: 'POST', body: '{}' })).status).toBeGreaterThanOrEqual(400);

    // WooCommerce: a ping, a good order that lives in the store (so write-back and reconciliation call its REST API), a refused one
    const wooOrder = wooOrderAt(system.clock.now(), { id: 501, status: 'processing', meta_data: [{ id: 9, key: wooMetaKey, value: 'scan-woo-tx' }] });
    system.woo.fake.deliveryMode = 'drop';
    await system.woo.fake.addOrder(wooOrder);
    system.woo.fake.deliveryMode = 'sync';
    const ping = await fetch(`${system.woo.url}${system.woo.webhookPath}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'webhook_id=2' });
    expect(ping.status).toBe(200);
    expect((await system.sendWoo(wpJsonEncode(wooOrder))).status).toBe(200);
    const forged = await fetch(`${system.woo.url}${system.woo.webhookPath}`, {
      method: 'POST',
      headers: { ...system.wooHeaders('{}'), 'x-wc-webhook-signature': 'AAAA' },
      body: wpJsonEncode(wooOrder),
    });
    expect(forged.status).toBe(401);

    // delivery: successes, a 500, a reset, a redirect, a rejection; retries as the clock moves, then dead letters
    for (let round = 0; round < 5; round += 1) {
      await system.drain();
      if ('advance' in system.clock && typeof system.clock.advance === 'function') system.clock.advance(10 * 60_000);
    }
    expect((await system.store.countJobs()).dead).toBe(2);
    // the dead letters are replayed once the network is back
    system.tracker.behave('/net-b', { kind: 'tune', answer: 'success' });
    expect(await system.worker.replay({ filter: { status: 'dead' } })).toBe(2);
    await system.drain();
    expect((await system.store.countJobs()).succeeded).toBe(4);
    await system.woo.bridge.reconciler.runOnce();
    await system.shopify.handle.reconciler.runOnce();

    expect(system.tracker.requests.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeGreaterThan(20);

    const everything = lines.join('\n');
    if (process.env['CLICKTHREAD_PRINT_LOGS'] === '1') console.log(everything);
    const attempts = [];
    for (const job of await system.store.listJobs({ limit: 500 })) attempts.push(...(await system.store.listAttempts(job.id)));
    // the answer's body is stored as the network sent it (a network that echoes the URL echoes its own
    // token back); what Clickthread itself writes there is the request URL and the outcome
    const postbackLog = JSON.stringify(attempts.map(({ responseBody: _body, ...rest }) => rest));
    expect(attempts.length).toBeGreaterThan(0);

    const leaks: string[] = [];
    for (const [name, secret] of Object.entries(secrets)) {
      for (const form of variants(secret)) {
        if (everything.includes(form)) leaks.push(`${name} in the logs: ${lines.find((l) => l.includes(form))?.slice(0, 300) ?? ''}`);
        if (postbackLog.includes(form)) leaks.push(`${name} in the postback log`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
