import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postbackEvents } from '@clickthread/core';
import type { PostbackJob } from '@clickthread/core/storage';
import { reconcileCursorSetting } from '../../shopify-app/src/reconcile/reconciler.ts';
import { webhookPaths } from '../../shopify-app/src/webhooks/webhook-routes.ts';
import { eventTag } from '../../shopify-app/src/write-back/order-tags.ts';
import { graphqlMoney, graphqlOrderNode, ordersPage, startGraphqlStandIn, type GraphqlCall, type GraphqlStandIn } from './graphql-stand-in.ts';
import { buildOrderPayload, buildRefundPayload, captureAttribute, type JsonObject } from './order-payload-builder.ts';
import { accessToken, apiVersion, startHarness, type Harness } from './shopify-harness.ts';

let h: Harness;
let gql: GraphqlStandIn;

beforeEach(async () => {
  gql = await startGraphqlStandIn();
  h = await startHarness({ graphqlFetch: gql.fetch });
  await h.saveOffer();
});

afterEach(async () => {
  await h.close();
  await gql.close();
});

const clickAttribute = (id: string) => ({ key: '_clickthread', value: captureAttribute({ id })['value'] ?? null });

function serveOrders(...pages: JsonObject[][]): void {
  gql.answer = (call: GraphqlCall) => {
    if (!call.query.includes('ClickthreadRecentOrders')) return { body: { errors: [{ message: 'unexpected operation' }] } };
    const index = call.variables['after'] === null ? 0 : Number(call.variables['after']);
    const nodes = pages[index] ?? [];
    return { body: ordersPage(nodes, index + 1 < pages.length ? String(index + 1) : null) };
  };
}

describe('reconciliation through the GraphQL Admin API', () => {
  it('reports a paid order no webhook brought, exactly once however often it runs', async () => {
    serveOrders([graphqlOrderNode(7001, { customAttributes: [clickAttribute('tx-recon-1')] })]);
    const [report] = await h.handle.reconciler.runOnce();
    expect(report).toMatchObject({ ordersSeen: 1, jobsInserted: 1, failures: [] });
    await h.handle.reconciler.runOnce();
    expect(await h.jobs('7001')).toMatchObject([{ eventKey: 'sale', transactionId: 'tx-recon-1', idSource: 'note_attribute', amount: '34.67', currency: 'USD' }]);

    const call = gql.calls[0];
    expect(call?.path).toBe(`/admin/api/${apiVersion}/graphql.json`);
    expect(call?.headers['x-shopify-access-token']).toBe(accessToken);
    expect(call?.query).toContain('orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT)');
    expect(call?.query).toContain('cartToken');
    // the cursor starts at the installation (12:05), read with a 10-minute overlap
    expect(call?.variables).toEqual({ first: 50, after: null, query: "updated_at:>='2026-03-02T11:55:00.000Z'" });
  });

  it('an order the webhook already brought adds nothing', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-both' })] });
    await h.webhook(webhookPaths.ordersPaid, 'orders/paid', order);
    serveOrders([graphqlOrderNode(order['id'] ?? null, { customAttributes: [clickAttribute('tx-both')] })]);
    const [report] = await h.handle.reconciler.runOnce();
    expect(report).toMatchObject({ ordersSeen: 1, jobsInserted: 0 });
    expect(await h.jobs()).toHaveLength(1);
  });

  it('finds the landing page, the cart token and the customer like the webhook does', async () => {
    await h.proxy({ cartToken: 'c1-recon-cart', id: 'tx-cart-r', p: 'transaction_id', t: '2026-03-02T11:00:00.000Z', x: {} });
    serveOrders([
      graphqlOrderNode(7101, { customerJourneySummary: { firstVisit: { landingPage: 'https://shop-a.example/?click_id=tx-land-r' }, lastVisit: null } }),
      graphqlOrderNode(7102, { cartToken: 'c1-recon-cart' }),
    ]);
    await h.handle.reconciler.runOnce();
    expect(await h.jobs('7101')).toMatchObject([{ transactionId: 'tx-land-r', idSource: 'landing_site' }]);
    expect(await h.jobs('7102')).toMatchObject([{ transactionId: 'tx-cart-r', idSource: 'cart_token' }]);
    expect(gql.calls[0]?.query).toContain('customerJourneySummary { firstVisit { landingPage } }');
  });

  it("takes the first visit's landing page, the one the webhook's landing_site names, never the last visit's", async () => {
    const journey = { firstVisit: { landingPage: 'https://shop-a.example/?click_id=tx-first-visit' }, lastVisit: { landingPage: 'https://shop-a.example/?click_id=tx-last-visit' } };
    serveOrders([graphqlOrderNode(7111, { customerJourneySummary: journey }), graphqlOrderNode(7112, { customerJourneySummary: { firstVisit: null, lastVisit: journey.lastVisit } })]);
    await h.handle.reconciler.runOnce();
    expect(await h.jobs('7111')).toMatchObject([{ transactionId: 'tx-first-visit', idSource: 'landing_site' }]);
    // the same order by webhook: landing_site is that first page
    const viaWebhook = buildOrderPayload({ landing_site: '/?click_id=tx-first-visit' });
    await h.webhook(webhookPaths.ordersPaid, 'orders/paid', viaWebhook);
    expect(await h.jobs(String(viaWebhook['id']))).toMatchObject([{ transactionId: 'tx-first-visit', idSource: 'landing_site' }]);
    expect(await h.jobs('7112')).toEqual([]);
  });

  it('pages through the orders and moves its cursor to the newest order read', async () => {
    h.clock.set('2026-03-02T14:00:00.000Z');
    serveOrders(
      [graphqlOrderNode(7201, { customAttributes: [clickAttribute('tx-p1')], updatedAt: '2026-03-02T12:30:00Z' })],
      [graphqlOrderNode(7202, { customAttributes: [clickAttribute('tx-p2')], updatedAt: '2026-03-02T13:00:00Z' })],
    );
    const [report] = await h.handle.reconciler.runOnce();
    expect(report).toMatchObject({ ordersSeen: 2, jobsInserted: 2, cursor: '2026-03-02T13:00:00.000Z' });
    expect(gql.calls.map((c) => c.variables['after'])).toEqual([null, '1']);
    expect((await h.shop()).settings[reconcileCursorSetting]).toBe('2026-03-02T13:00:00.000Z');
    gql.calls.length = 0;
    await h.handle.reconciler.runOnce();
    expect(gql.calls[0]?.variables['query']).toBe("updated_at:>='2026-03-02T12:50:00.000Z'");
  });

  it("a run that read less than another process's run never moves the cursor back, nor revives an uninstalled shop", async () => {
    h.clock.set('2026-03-02T14:00:00.000Z');
    serveOrders([graphqlOrderNode(7211, { customAttributes: [clickAttribute('tx-c1')], updatedAt: '2026-03-02T12:30:00Z' })]);
    // this process read the shop before another process's run stored a later cursor, and the shop was uninstalled
    const seen = await h.shop();
    expect(await h.store.compareAndSetStoreSetting(seen.id, reconcileCursorSetting, String(seen.settings[reconcileCursorSetting]), '2026-03-02T13:30:00.000Z', h.clock.now())).toBe(true);
    await h.store.upsertStore({ ...(await h.shop()), status: 'uninstalled', now: h.clock.now() });

    expect(await h.handle.reconciler.runShop(seen)).toMatchObject({ ordersSeen: 1, cursor: '2026-03-02T12:30:00.000Z' });
    expect((await h.shop()).settings[reconcileCursorSetting]).toBe('2026-03-02T13:30:00.000Z');
    expect((await h.shop()).status).toBe('uninstalled');
  });

  it("a run that read further than another process's run stores how far it got", async () => {
    h.clock.set('2026-03-02T14:00:00.000Z');
    serveOrders([graphqlOrderNode(7212, { customAttributes: [clickAttribute('tx-c2')], updatedAt: '2026-03-02T13:45:00Z' })]);
    const seen = await h.shop();
    expect(await h.store.compareAndSetStoreSetting(seen.id, reconcileCursorSetting, String(seen.settings[reconcileCursorSetting]), '2026-03-02T13:00:00.000Z', h.clock.now())).toBe(true);
    await h.handle.reconciler.runShop(seen);
    expect((await h.shop()).settings[reconcileCursorSetting]).toBe('2026-03-02T13:45:00.000Z');
  });

  it('a refund that arrived before its order\'s orders/paid is reported once the order is reconciled', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-late-refund' })] });
    const refund = buildRefundPayload(order['id'] ?? null);
    await h.webhook(webhookPaths.refundsCreate, 'refunds/create', refund);
    await h.webhook(webhookPaths.ordersPaid, 'orders/paid', order);
    serveOrders([
      graphqlOrderNode(order['id'] ?? null, {
        displayFinancialStatus: 'PARTIALLY_REFUNDED',
        customAttributes: [clickAttribute('tx-late-refund')],
        refunds: [{ legacyResourceId: String(refund['id']), createdAt: '2026-03-05T09:00:00Z', totalRefundedSet: graphqlMoney('22.00', '16.72') }],
      }),
    ]);
    await h.handle.reconciler.runOnce();
    const jobs = await h.jobs(String(order['id']));
    expect(jobs.map((j) => j.eventKey)).toEqual(['sale', `refund:${String(refund['id'])}`]);
    // GraphQL gives the refund's total only: 16.72 of a 45.85 order whose subtotal the offer reports is 34.67
    expect(jobs[1]).toMatchObject({ transactionId: 'tx-late-refund', amount: '12.64' });
  });

  it('reconciliation plans against the outbox like the webhooks: a cancellation reverses only what refunds/create did not', async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-recon-cancel' })] });
    await h.webhook(webhookPaths.ordersPaid, 'orders/paid', order);
    const refund = buildRefundPayload(order['id'] ?? null);
    await h.webhook(webhookPaths.refundsCreate, 'refunds/create', refund);
    // the orders/cancelled webhook was lost
    serveOrders([
      graphqlOrderNode(order['id'] ?? null, {
        displayFinancialStatus: 'PARTIALLY_REFUNDED',
        cancelledAt: '2026-03-03T08:00:00Z',
        customAttributes: [clickAttribute('tx-recon-cancel')],
        refunds: [{ legacyResourceId: String(refund['id']), createdAt: '2026-03-05T09:00:00Z', totalRefundedSet: graphqlMoney('22.00', '16.72') }],
      }),
    ]);
    await h.handle.reconciler.runOnce();
    await h.handle.reconciler.runOnce();
    expect((await h.jobs(String(order['id']))).map((j) => [j.eventKey, j.transactionId, j.amount])).toEqual([
      ['sale', 'tx-recon-cancel', '34.67'],
      [`refund:${String(refund['id'])}`, 'tx-recon-cancel', '15.20'],
      ['cancel', 'tx-recon-cancel', '19.47'],
    ]);
  });

  it('a failing Admin API is reported and the cursor stays', async () => {
    gql.answer = () => ({ status: 200, body: { errors: [{ message: 'Throttled' }] } });
    const [report] = await h.handle.reconciler.runOnce();
    expect(report?.failures[0]).toContain('Throttled');
    expect((await h.shop()).settings[reconcileCursorSetting]).toBe('2026-03-02T12:05:00.000Z');
    expect(await h.jobs()).toEqual([]);
  });

  it('an order node it cannot read is reported, the others are handled', async () => {
    serveOrders([graphqlOrderNode(7301, { createdAt: 'soon' }), graphqlOrderNode(7302, { customAttributes: [clickAttribute('tx-ok')] })]);
    const [report] = await h.handle.reconciler.runOnce();
    expect(report?.failures).toEqual([expect.stringContaining('createdAt: "soon" is not a date')]);
    expect(await h.jobs('7302')).toHaveLength(1);
  });
});

async function paidOrderJob(): Promise<PostbackJob> {
  const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-wb' })] });
  await h.webhook(webhookPaths.ordersPaid, 'orders/paid', order);
  const [job] = await h.jobs(String(order['id']));
  if (!job) throw new Error('no job');
  return job;
}

function acceptTags(): void {
  gql.answer = (call) => {
    const done = { node: { id: call.variables['id'] ?? null }, userErrors: [] };
    return { body: { data: { tagsAdd: done, tagsRemove: call.query.includes('tagsRemove') ? done : null } } };
  };
}

const tagCalls = () => gql.calls.filter((c) => c.query.includes('tagsAdd'));

describe('first orders, for an app approved for protected customer data (SHOPIFY_PROTECTED_CUSTOMER_DATA)', () => {
  let approved: Harness;
  beforeEach(async () => {
    approved = await startHarness({ graphqlFetch: gql.fetch, env: { SHOPIFY_PROTECTED_CUSTOMER_DATA: 'true', SCOPES: 'read_orders,write_orders,read_customers' } });
    const url = `${approved.tracker.url}/first?tid={transaction_id}&order={order_id}`;
    await approved.saveOffer({ postbacks: { sale: { url: `${approved.tracker.url}/sale?tid={transaction_id}&order={order_id}` }, first_order: { url } } });
  });
  afterEach(async () => {
    await approved.close();
  });

  it("reports the customer's first order (their order count is 1) at the next reconciliation, besides the sale the webhook brought", async () => {
    const order = buildOrderPayload({ note_attributes: [captureAttribute({ id: 'tx-first' })] });
    await approved.webhook(webhookPaths.ordersPaid, 'orders/paid', order);
    // the webhook body says nothing of the customer's other orders
    expect((await approved.jobs(String(order['id']))).map((j) => j.eventKey)).toEqual(['sale']);
    serveOrders([
      graphqlOrderNode(order['id'] ?? null, { customAttributes: [clickAttribute('tx-first')], customer: { legacyResourceId: '5101', numberOfOrders: '1' } }),
      graphqlOrderNode(7302, { customAttributes: [clickAttribute('tx-second')], customer: { legacyResourceId: '5102', numberOfOrders: '4' } }),
    ]);
    const [report] = await approved.handle.reconciler.runOnce();
    expect(report).toMatchObject({ failures: [] });
    expect(gql.calls.at(-1)?.query).toContain('customer { legacyResourceId numberOfOrders }');
    expect((await approved.jobs(String(order['id']))).map((j) => j.eventKey).toSorted()).toEqual(['first_order', 'sale']);
    expect((await approved.jobs('7302')).map((j) => j.eventKey)).toEqual(['sale']);
    await approved.handle.reconciler.runOnce();
    expect(await approved.jobs(String(order['id']))).toHaveLength(2);
  });
});

describe('without that approval', () => {
  it('never asks for the customer (the whole query would fail), so no first order is known', async () => {
    serveOrders([graphqlOrderNode(7401, { customAttributes: [clickAttribute('tx-plain')] })]);
    await h.handle.reconciler.runOnce();
    expect(gql.calls.at(-1)?.query).not.toContain('customer {');
    expect(gql.calls.at(-1)?.query).not.toContain('numberOfOrders');
  });
});

describe('write-back: what became of each event\'s postbacks as order tags (GraphQL tagsAdd + tagsRemove, from the worker\'s onSettled)', () => {
  it('a postback the network accepted tags the order clickthread:sale:sent, in one request that also removes what is not true', async () => {
    acceptTags();
    const job = await paidOrderJob();
    expect(await h.deliver()).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(h.tracker.requests.map((r) => [r.path, r.query['tid'], r.query['amount']])).toEqual([['/sale', 'tx-wb', '34.67']]);
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'succeeded' });

    expect(tagCalls()).toHaveLength(1);
    const call = tagCalls()[0];
    expect(call?.path).toBe(`/admin/api/${apiVersion}/graphql.json`);
    expect(call?.headers['x-shopify-access-token']).toBe(accessToken);
    // both mutations in one document, each with the order's id and its own list
    expect(call?.query).toMatch(
      /mutation ClickthreadTagOrder\(\$id: ID!, \$add: \[String!\]!, \$remove: \[String!\]!\)\s*\{\s*tagsAdd\(id: \$id, tags: \$add\)\s*\{\s*node \{ id \}\s*userErrors \{ field message \}\s*\}\s*tagsRemove\(id: \$id, tags: \$remove\)\s*\{\s*node \{ id \}\s*userErrors \{ field message \}\s*\}\s*\}/,
    );
    expect(call?.variables).toEqual({ id: `gid://shopify/Order/${job.orderId}`, add: ['clickthread:sale:sent'], remove: ['clickthread:sale:failed'] });
    expect(h.logger.entries.some((e) => e.msg === 'order tagged')).toBe(true);
  });

  it('a postback the network refused tags the order clickthread:sale:failed', async () => {
    acceptTags();
    h.tracker.behave('/sale', { kind: 'reply', status: 400, body: 'unknown click' });
    const job = await paidOrderJob();
    await h.deliver();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'failed' });
    expect(tagCalls().map((c) => c.variables)).toEqual([{ id: `gid://shopify/Order/${job.orderId}`, add: ['clickthread:sale:failed'], remove: ['clickthread:sale:sent'] }]);
  });

  it('a retry is not final: no tag until the postback is dead', async () => {
    acceptTags();
    h.tracker.behave('/sale', { kind: 'reply', status: 503 });
    const job = await paidOrderJob();
    await h.deliver();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'pending' });
    expect(tagCalls()).toEqual([]);
    h.clock.advance(61_000);
    await h.deliver();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'dead' });
    expect(tagCalls().map((c) => c.variables['add'])).toEqual([['clickthread:sale:failed']]);
  });

  it('a sent sale and a failed refund say so event by event: clickthread:sale:sent and clickthread:refund:failed', async () => {
    acceptTags();
    h.tracker.behave('/refund', { kind: 'reply', status: 400, body: 'refunds are not accepted' });
    const sale = await paidOrderJob();
    await h.deliver();
    await h.webhook(webhookPaths.refundsCreate, 'refunds/create', buildRefundPayload(Number(sale.orderId)));
    await h.deliver();
    const jobs = await h.jobs(sale.orderId);
    expect(jobs.map((j) => [j.event, j.status])).toEqual([
      ['sale', 'succeeded'],
      ['refund', 'failed'],
    ]);
    const last = tagCalls().at(-1);
    expect(last?.variables).toEqual({
      id: `gid://shopify/Order/${sale.orderId}`,
      add: ['clickthread:sale:sent', 'clickthread:refund:failed'],
      remove: ['clickthread:sale:failed', 'clickthread:refund:sent'],
    });
  });

  it('a dead letter replayed with success loses its failed tag, in the same request that adds sent', async () => {
    acceptTags();
    h.tracker.behave('/sale', { kind: 'reply', status: 503 });
    const job = await paidOrderJob();
    await h.deliver();
    h.clock.advance(61_000);
    await h.deliver();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'dead' });
    expect(tagCalls().map((c) => c.variables['add'])).toEqual([['clickthread:sale:failed']]);

    // the network is back; the merchant replays the dead letter
    h.tracker.behave('/sale', { kind: 'tune', answer: 'success' });
    expect(await h.store.replayJobs({ ids: [job.id], now: h.clock.now() })).toBe(1);
    await h.deliver();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'succeeded' });
    expect(tagCalls()).toHaveLength(2);
    const corrected = tagCalls()[1];
    expect(corrected?.query).toContain('tagsRemove(id: $id, tags: $remove)');
    expect(corrected?.variables).toEqual({ id: `gid://shopify/Order/${job.orderId}`, add: ['clickthread:sale:sent'], remove: ['clickthread:sale:failed'] });
  });

  it.each(postbackEvents.flatMap((event) => (['sent', 'failed'] as const).map((outcome) => [event, outcome] as const)))(
    'the tag for %s %s fits Shopify (at most 40 characters) and reads as clickthread:<event>:<outcome>',
    (event, outcome) => {
      const tag = eventTag(event, outcome);
      expect(tag).toBe(`clickthread:${event}:${outcome}`);
      expect(tag.length).toBeLessThanOrEqual(40);
    },
  );

  it('userErrors of either mutation are logged, never thrown at the worker', async () => {
    gql.answer = (call) => ({
      body: { data: { tagsAdd: { node: { id: call.variables['id'] ?? null }, userErrors: [] }, tagsRemove: { node: null, userErrors: [{ field: ['id'], message: 'Order does not exist' }] } } },
    });
    const job = await paidOrderJob();
    await h.deliver();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'succeeded' });
    expect(h.logger.entries.some((e) => e.msg === 'order tag refused' && JSON.stringify(e.obj).includes('tagsRemove id: Order does not exist'))).toBe(true);
    expect(h.logger.entries.some((e) => e.msg === 'onSettled hook failed')).toBe(false);
  });

  it('tags Shopify did not take (HTTP 502) are kept and written once it answers, with what is true then', async () => {
    gql.answer = () => ({ status: 502, body: { errors: 'Bad Gateway' } });
    const job = await paidOrderJob();
    await h.deliver();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'succeeded' });
    expect(await h.store.listWriteBacks({})).toMatchObject([{ jobId: job.id, platform: 'shopify', status: 'pending', attempts: 1 }]);
    const failedCalls = tagCalls().length;
    expect(failedCalls).toBeGreaterThan(0);

    acceptTags();
    h.clock.advance(60_000);
    expect(await h.handle.writeBacks.runOnce()).toEqual({ tried: 1, written: 1, deferred: 0, dead: 0 });
    expect(tagCalls().slice(failedCalls).map((c) => c.variables)).toEqual([{ id: `gid://shopify/Order/${job.orderId}`, add: ['clickthread:sale:sent'], remove: ['clickthread:sale:failed'] }]);
    expect(await h.store.listWriteBacks({})).toEqual([]);
    expect(h.tracker.requests).toHaveLength(1);
  });

  it('tags Shopify refused (userErrors) are not tried again; the reason is kept', async () => {
    gql.answer = (call) => ({
      body: { data: { tagsAdd: { node: null, userErrors: [{ field: ['id'], message: 'Order does not exist' }] }, tagsRemove: { node: { id: call.variables['id'] ?? null }, userErrors: [] } } },
    });
    await paidOrderJob();
    await h.deliver();
    expect(await h.store.listWriteBacks({})).toMatchObject([{ status: 'dead', lastError: 'tagsAdd id: Order does not exist' }]);
    h.clock.advance(10 ** 9);
    expect(await h.handle.writeBacks.runOnce()).toMatchObject({ tried: 0 });
    expect(tagCalls()).toHaveLength(1);
  });

  it('a refund that waited for a sale the network refused is never sent, and its failed tag still reaches the order', async () => {
    acceptTags();
    h.tracker.behave('/sale', { kind: 'reply', status: 400, body: 'unknown click' });
    const sale = await paidOrderJob();
    await h.webhook(webhookPaths.refundsCreate, 'refunds/create', buildRefundPayload(Number(sale.orderId)));
    await h.deliver();
    await h.deliver();
    expect((await h.jobs(sale.orderId)).map((j) => [j.event, j.status])).toEqual([
      ['sale', 'failed'],
      ['refund', 'failed'],
    ]);
    expect(h.tracker.requests.map((r) => r.path)).toEqual(['/sale']);
    // no worker sent the refund: the claim that settled it kept its write-back, due now
    expect(await h.handle.writeBacks.runOnce()).toMatchObject({ written: 1 });
    expect(tagCalls().at(-1)?.variables).toEqual({
      id: `gid://shopify/Order/${sale.orderId}`,
      add: ['clickthread:sale:failed', 'clickthread:refund:failed'],
      remove: ['clickthread:sale:sent', 'clickthread:refund:sent'],
    });
  });

  it('an uninstalled shop is not written to', async () => {
    acceptTags();
    await paidOrderJob();
    await h.webhook(webhookPaths.appUninstalled, 'app/uninstalled', { id: 1 });
    await h.deliver();
    expect(tagCalls()).toEqual([]);
  });

  it('SHOPIFY_WRITE_BACK=false turns it off', async () => {
    await h.close();
    h = await startHarness({ graphqlFetch: gql.fetch, env: { SHOPIFY_WRITE_BACK: 'false' } });
    await h.saveOffer();
    acceptTags();
    await paidOrderJob();
    expect(await h.deliver()).toMatchObject({ succeeded: 1 });
    expect(tagCalls()).toEqual([]);
  });
});
