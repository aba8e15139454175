import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseOffer, type Offer } from '../offers/offer-schema.ts';
import { InvariantError, StorageError } from '../shared/errors.ts';
import { buildJobDraft, buildOfferInput } from '../testing/builders.ts';
import { neverReportedOutcome, neverReportedWriteBack, type AttemptRecord, type SettleInput, type Store } from './store.ts';

/**
 * The one behaviour both adapters must have (like shopify-app-js's batteryOfTests). Each adapter's
 * test file calls `storeContract(name, factory)`; every test gets a fresh, migrated database.
 */

export interface StoreHandle {
  readonly store: Store;
  /** Another, independent connection to the same database (a second process, in effect). */
  open(): Promise<Store>;
  /** Closes what the handle opened and removes the database. */
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreHandle>;

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

function offerOf(overrides: Parameters<typeof buildOfferInput>[0] = {}): Offer {
  const parsed = parseOffer(buildOfferInput(overrides));
  if (!parsed.ok) throw new Error(`test offer is invalid: ${JSON.stringify(parsed.reason)}`);
  return parsed.value;
}

function attemptOf(jobId: string, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    jobId,
    attempt: 1,
    startedAt: t0,
    latencyMs: 12,
    requestUrl: 'https://tracker.example/aff_lsr?transaction_id=abc&security_token=[redacted]',
    status: 200,
    responseHeaders: { 'content-type': 'text/plain' },
    responseBody: 'success=true;',
    outcome: 'success',
    errorClass: null,
    detail: null,
    ...overrides,
  };
}

function settleOf(jobId: string, workerId: string, overrides: Partial<SettleInput> = {}): SettleInput {
  return { jobId, workerId, attempt: attemptOf(jobId), next: { status: 'succeeded' }, outcome: 'success', now: at(1_000), ...overrides };
}

const saleDraft = () => buildJobDraft({ orderId: 'o1' });
const refundDraft = () => buildJobDraft({ orderId: 'o1', event: 'refund', eventKey: 'refund:1', dependsOn: saleDraft().idempotencyKey });
const day = (d: string, h: number) => new Date(`${d}T${String(h).padStart(2, '0')}:30:00.000Z`);

/** `skip`: why this adapter cannot run here (shown as the suite's name), or undefined to run it. */
export function storeContract(name: string, factory: StoreFactory, skip?: string): void {
  describe.skipIf(skip !== undefined)(`Store contract: ${name}${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
    let handle: StoreHandle;
    let store: Store;
    const opened: Store[] = [];

    async function another(): Promise<Store> {
      const s = await handle.open();
      opened.push(s);
      return s;
    }

    beforeEach(async () => {
      handle = await factory();
      store = handle.store;
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await handle.cleanup();
    });

    async function enqueueOne(overrides: Parameters<typeof buildJobDraft>[0] = {}, now = t0) {
      const draft = buildJobDraft(overrides);
      await store.enqueue({ jobs: [draft], now });
      const [job] = await store.listJobs({ orderId: draft.orderId, offerId: draft.offerId, limit: 1 });
      if (!job) throw new Error('job was not stored');
      return job;
    }

    async function settleAs(orderId: string, offerId: string, status: 'succeeded' | 'failed' | 'dead', createdAt: Date) {
      await store.enqueue({ jobs: [buildJobDraft({ orderId, offerId })], now: createdAt });
      const [job] = await store.claimDueJobs({ workerId: 'w', now: createdAt, limit: 1, leaseUntil: at(10 ** 8) });
      if (!job) throw new Error('no job');
      await store.settleJob(settleOf(job.id, 'w', { next: { status }, outcome: status, now: createdAt }));
      return job.id;
    }

    describe('migrations', () => {
      it('migrate() is idempotent, and a second connection sees the same schema', async () => {
        await store.migrate();
        const other = await another();
        await other.migrate();
        await store.createMerchant({ id: 'm1', name: 'Shop', now: t0 });
        expect(await other.getMerchant('m1')).toMatchObject({ id: 'm1', name: 'Shop' });
      });
    });

    describe('merchants', () => {
      it('creates, reads and lists merchants; creating again keeps the first', async () => {
        const created = await store.createMerchant({ id: 'm1', name: 'Shop', agencyId: 'ag', now: t0 });
        expect(created).toEqual({ id: 'm1', name: 'Shop', agencyId: 'ag', createdAt: t0 });
        expect(await store.createMerchant({ id: 'm1', name: 'Renamed', now: at(5) })).toEqual(created);
        await store.createMerchant({ id: 'm2', name: 'Other', now: t0 });
        expect((await store.listMerchants()).map((m) => m.id)).toEqual(['m1', 'm2']);
        expect((await store.listMerchants({ agencyId: 'ag' })).map((m) => m.id)).toEqual(['m1']);
        expect(await store.getMerchant('nope')).toBeUndefined();
      });

      it('deleteMerchant removes everything the merchant owns and nothing else', async () => {
        for (const id of ['m1', 'm2']) {
          await store.createMerchant({ id, name: id, now: t0 });
          await store.upsertStore({ id: `s-${id}`, merchantId: id, platform: 'shopify', domain: `${id}.myshopify.com`, status: 'active', settings: {}, secrets: null, now: t0 });
          await store.saveOffer(id, offerOf(), t0);
          await store.putCapture({ merchantId: id, kind: 'visitor', key: 'v1', transactionId: 'abc', param: null, extras: {}, capturedAt: t0, domain: null });
          await store.addDomain(id, `www.${id}.com`);
          await store.linkOrder({ storeId: `s-${id}`, orderId: '1', visitorToken: 'v1', linkedAt: t0 });
          await store.putPendingOrder({ storeId: `s-${id}`, orderId: '3', payload: '{}', dueAt: t0, now: t0 });
          await store.enqueue({
            jobs: [buildJobDraft({ merchantId: id, storeId: `s-${id}` })],
            webhook: { storeId: `s-${id}`, webhookId: 'w1' },
            unattributed: { storeId: `s-${id}`, orderId: '2', orderNumber: '#2', reason: 'no id', at: t0 },
            now: t0,
          });
        }
        const claimed = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 10, leaseUntil: at(60_000) });
        await store.settleJobs(claimed.map((j) => settleOf(j.id, 'w')));
        const m1Job = claimed.find((j) => j.merchantId === 'm1');
        if (!m1Job) throw new Error('no job of m1');
        expect(await store.listAttempts(m1Job.id)).toHaveLength(1);

        await store.deleteMerchant('m1');
        expect(await store.getMerchant('m1')).toBeUndefined();
        expect(await store.listStores('m1')).toEqual([]);
        expect(await store.listOffers('m1')).toEqual([]);
        expect(await store.getCapture('m1', 'visitor', 'v1')).toBeUndefined();
        expect(await store.listDomains('m1')).toEqual([]);
        expect(await store.getOrderLink('s-m1', '1')).toBeUndefined();
        expect(await store.listJobs({ merchantId: 'm1' })).toEqual([]);
        expect(await store.hasProcessedWebhook('s-m1', 'w1')).toBe(false);
        expect(await store.listUnattributed({ storeId: 's-m1' })).toEqual([]);
        expect(await store.listAttempts(m1Job.id)).toEqual([]);
        expect(await store.countPendingOrders('s-m1')).toBe(0);
        expect(await store.countPendingOrders('s-m2')).toBe(1);

        expect(await store.getMerchant('m2')).toBeDefined();
        expect(await store.listOffers('m2')).toHaveLength(1);
        expect(await store.getCapture('m2', 'visitor', 'v1')).toBeDefined();
        expect(await store.listJobs({ merchantId: 'm2' })).toHaveLength(1);
        expect(await store.hasProcessedWebhook('s-m2', 'w1')).toBe(true);
        expect(await store.findMerchantByDomain('www.m2.com')).toBe('m2');
      });
    });

    describe('stores and domains', () => {
      beforeEach(async () => {
        await store.createMerchant({ id: 'm1', name: 'Shop', now: t0 });
        await store.createMerchant({ id: 'm2', name: 'Other', now: t0 });
      });

      it('upsertStore creates, then updates everything but createdAt', async () => {
        const created = await store.upsertStore({
          id: 's1', merchantId: 'm1', platform: 'shopify', domain: 'Shop-One.myshopify.com', status: 'active',
          settings: { webhooks: ['orders/paid'], nested: { cursor: '2026-01-01' } }, secrets: 'enc:v1:abc', now: t0,
        });
        expect(created).toEqual({
          id: 's1', merchantId: 'm1', platform: 'shopify', domain: 'shop-one.myshopify.com', status: 'active',
          settings: { webhooks: ['orders/paid'], nested: { cursor: '2026-01-01' } }, secrets: 'enc:v1:abc', createdAt: t0, updatedAt: t0,
        });
        const updated = await store.upsertStore({ ...created, status: 'uninstalled', settings: {}, secrets: null, now: at(1_000) });
        expect(updated).toMatchObject({ status: 'uninstalled', settings: {}, secrets: null, createdAt: t0, updatedAt: at(1_000) });
        expect(await store.getStore('s1')).toEqual(updated);
        expect(await store.getStore('nope')).toBeUndefined();
      });

      it('finds a store by domain in any case, preferring the active, newest one', async () => {
        await store.upsertStore({ id: 'old', merchantId: 'm1', platform: 'woocommerce', domain: 'shop.example', status: 'uninstalled', settings: {}, secrets: null, now: at(5_000) });
        await store.upsertStore({ id: 'new', merchantId: 'm1', platform: 'woocommerce', domain: 'shop.example', status: 'active', settings: {}, secrets: null, now: t0 });
        expect((await store.findStoreByDomain('SHOP.example'))?.id).toBe('new');
        expect(await store.findStoreByDomain('other.example')).toBeUndefined();
        expect((await store.listStores('m1')).map((s) => s.id)).toEqual(['new', 'old']);
        expect(await store.listStores('m2')).toEqual([]);
        expect(await store.listStores()).toHaveLength(2);
      });

      it('domains: per merchant, lower case, idempotent, never shared', async () => {
        expect(await store.addDomain('m1', 'WWW.Shop.com')).toEqual({ ok: true, value: undefined });
        expect(await store.addDomain('m1', 'www.shop.com')).toEqual({ ok: true, value: undefined });
        const taken = await store.addDomain('m2', 'www.shop.com');
        expect(taken.ok).toBe(false);
        expect(taken.ok ? '' : taken.reason).toMatch(/another merchant/);
        expect((await store.addDomain('m1', '  ')).ok).toBe(false);
        await store.upsertStore({ id: 's1', merchantId: 'm1', platform: 'shopify', domain: 'shop.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
        expect(await store.listDomains('m1')).toEqual(['shop.myshopify.com', 'www.shop.com']);
        expect(await store.findMerchantByDomain('www.SHOP.com')).toBe('m1');
        expect(await store.findMerchantByDomain('shop.myshopify.com')).toBe('m1');
        expect(await store.findMerchantByDomain('unknown.com')).toBeUndefined();
      });

      it("deleteStore removes the store's own data and keeps the merchant's captures", async () => {
        await store.upsertStore({ id: 's1', merchantId: 'm1', platform: 'shopify', domain: 'a.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
        await store.upsertStore({ id: 's2', merchantId: 'm1', platform: 'shopify', domain: 'b.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
        await store.putCapture({ merchantId: 'm1', kind: 'cart_token', key: 'c1', transactionId: 'abc', param: 'transaction_id', extras: {}, capturedAt: t0, domain: 'a.com' });
        await store.linkOrder({ storeId: 's1', orderId: '1', visitorToken: 'v', linkedAt: t0 });
        await store.enqueue({ jobs: [buildJobDraft({ storeId: 's1' }), buildJobDraft({ storeId: 's2' })], webhook: { storeId: 's1', webhookId: 'w' }, now: t0 });
        await store.enqueue({ jobs: [], unattributed: { storeId: 's1', orderId: '9', orderNumber: '#9', reason: 'none', at: t0 }, now: t0 });
        const claimed = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 10, leaseUntil: at(60_000) });
        await store.settleJobs(claimed.map((j) => settleOf(j.id, 'w')));
        const s1Job = claimed.find((j) => j.storeId === 's1');

        await store.deleteStore('s1');
        expect(await store.getStore('s1')).toBeUndefined();
        expect(await store.listJobs({ storeId: 's1' })).toEqual([]);
        expect(s1Job && (await store.listAttempts(s1Job.id))).toEqual([]);
        expect(await store.getOrderLink('s1', '1')).toBeUndefined();
        expect(await store.hasProcessedWebhook('s1', 'w')).toBe(false);
        expect(await store.listUnattributed({ storeId: 's1' })).toEqual([]);
        expect(await store.getCapture('m1', 'cart_token', 'c1')).toBeDefined();
        expect(await store.listJobs({ storeId: 's2' })).toHaveLength(1);
      });
    });

    describe('store settings, atomically', () => {
      beforeEach(async () => {
        await store.upsertStore({
          id: 's1', merchantId: 'm1', platform: 'woocommerce', domain: 'shop.example', status: 'active',
          settings: { webhookIds: { 'order.updated': 7 }, cursor: '2026-01-01T00:00:00Z', keep: [1, 2], idMetaKeys: ['_aff'] }, secrets: 'enc', now: t0,
        });
      });

      it('patchStoreSettings replaces top-level keys (never merging into objects), deletes on null, keeps the rest', async () => {
        const patched = await store.patchStoreSettings('s1', { webhookIds: { 'order.created': 9 }, cursor: null, added: { a: null, 'b.c': "it's \"x\"" }, 'odd.key': 1 }, at(1_000));
        expect(patched).toMatchObject({
          settings: { webhookIds: { 'order.created': 9 }, keep: [1, 2], idMetaKeys: ['_aff'], added: { a: null, 'b.c': 'it\'s "x"' }, 'odd.key': 1 },
          updatedAt: at(1_000), secrets: 'enc', status: 'active',
        });
        expect(patched?.settings).not.toHaveProperty('cursor');
        expect(await store.getStore('s1')).toEqual(patched);
        expect(await store.patchStoreSettings('nope', { a: 1 }, t0)).toBeUndefined();
        expect((await store.patchStoreSettings('s1', {}, at(2_000)))?.updatedAt).toEqual(at(1_000));
        await expect(store.patchStoreSettings('s1', { 'a"b': 1 }, t0)).rejects.toBeInstanceOf(InvariantError);
      });

      it('concurrent patches from two connections lose no key', async () => {
        const other = await another();
        await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).patchStoreSettings('s1', { [`k${i}`]: i }, at(i))));
        const settings = (await store.getStore('s1'))?.settings ?? {};
        for (let i = 0; i < 20; i += 1) expect(settings[`k${i}`]).toBe(i);
        expect(settings['cursor']).toBe('2026-01-01T00:00:00Z');
      });

      it.each([
        ['the same string', '2026-01-01T00:00:00Z', true],
        ['another string', '2026-01-02T00:00:00Z', false],
        ['null (the key is there)', null, false],
      ])('compareAndSetStoreSetting with %s as expected: %s', async (_label, expected, applies) => {
        expect(await store.compareAndSetStoreSetting('s1', 'cursor', expected, '2026-02-01T00:00:00Z', at(1_000))).toBe(applies);
        expect((await store.getStore('s1'))?.settings['cursor']).toBe(applies ? '2026-02-01T00:00:00Z' : '2026-01-01T00:00:00Z');
      });

      it('compareAndSetStoreSetting: absent is null, numbers and booleans compare as JSON values, null next deletes', async () => {
        expect(await store.compareAndSetStoreSetting('s1', 'version', null, 1, t0)).toBe(true);
        expect(await store.compareAndSetStoreSetting('s1', 'version', '1', 2, t0)).toBe(false);
        expect(await store.compareAndSetStoreSetting('s1', 'version', 1, { n: 2, list: ['x'] }, t0)).toBe(true);
        expect((await store.getStore('s1'))?.settings['version']).toEqual({ n: 2, list: ['x'] });
        expect(await store.compareAndSetStoreSetting('s1', 'flag', null, true, t0)).toBe(true);
        expect(await store.compareAndSetStoreSetting('s1', 'flag', 1, false, t0)).toBe(false);
        expect(await store.compareAndSetStoreSetting('s1', 'flag', true, null, at(5))).toBe(true);
        const after = await store.getStore('s1');
        expect(after?.settings).not.toHaveProperty('flag');
        expect(after?.updatedAt).toEqual(at(5));
        expect(await store.compareAndSetStoreSetting('nope', 'cursor', null, 'x', t0)).toBe(false);
      });

      it('compareAndSetStoreSetting: of concurrent writers expecting the same value, exactly one wins', async () => {
        const other = await another();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).compareAndSetStoreSetting('s1', 'cursor', '2026-01-01T00:00:00Z', `winner-${i}`, t0)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('orders waiting for their link (pending orders)', () => {
      it('puts (replacing payload and due time), gets, lists the due ones earliest first, counts and deletes', async () => {
        await store.putPendingOrder({ storeId: 's1', orderId: '10', payload: '{"id":10}', dueAt: at(5_000), now: t0 });
        await store.putPendingOrder({ storeId: 's1', orderId: '11', payload: '{"id":11}', dueAt: at(3_000), now: t0 });
        await store.putPendingOrder({ storeId: 's2', orderId: '10', payload: '{"id":"other"}', dueAt: at(1_000), now: t0 });
        await store.putPendingOrder({ storeId: 's1', orderId: '12', payload: '{}', dueAt: at(60_000), now: t0 });
        await store.putPendingOrder({ storeId: 's1', orderId: '10', payload: '{"id":10,"v":2}', dueAt: at(4_000), now: at(1) });
        expect(await store.getPendingOrder('s1', '10')).toEqual({ storeId: 's1', orderId: '10', payload: '{"id":10,"v":2}', dueAt: at(4_000), createdAt: t0, updatedAt: at(1) });
        expect(await store.getPendingOrder('s1', '99')).toBeUndefined();
        expect(await store.countPendingOrders('s1')).toBe(3);
        const due = await store.listDuePendingOrders({ now: at(5_000), limit: 10 });
        expect(due.map((p) => [p.storeId, p.orderId])).toEqual([['s2', '10'], ['s1', '11'], ['s1', '10']]);
        expect((await store.listDuePendingOrders({ storeId: 's1', now: at(5_000), limit: 1 })).map((p) => p.orderId)).toEqual(['11']);
        expect(await store.deletePendingOrder('s1', '11')).toBe(true);
        expect(await store.deletePendingOrder('s1', '11')).toBe(false);
        expect(await store.countPendingOrders('s1')).toBe(2);
        await store.deleteStore('s1');
        expect(await store.countPendingOrders('s1')).toBe(0);
        expect(await store.countPendingOrders('s2')).toBe(1);
      });
    });

    describe('offers', () => {
      it('saves, replaces, lists and deletes offers per merchant, with defaults kept', async () => {
        const a = offerOf({ id: 'a' });
        const b = offerOf({ id: 'b', name: 'B', attribution: { windowDays: 7 } });
        await store.saveOffer('m1', b, t0);
        await store.saveOffer('m1', a, t0);
        await store.saveOffer('m2', a, t0);
        expect(await store.getOffer('m1', 'b')).toEqual(b);
        expect((await store.listOffers('m1')).map((o) => o.id)).toEqual(['a', 'b']);
        await store.saveOffer('m1', { ...a, name: 'Renamed', enabled: false }, at(1));
        expect(await store.getOffer('m1', 'a')).toMatchObject({ name: 'Renamed', enabled: false });
        expect(await store.getOffer('m2', 'a')).toMatchObject({ name: a.name, enabled: true });
        expect(await store.deleteOffer('m1', 'a')).toBe(true);
        expect(await store.deleteOffer('m1', 'a')).toBe(false);
        expect(await store.getOffer('m1', 'a')).toBeUndefined();
      });
    });

    describe('captures and order links', () => {
      const capture = {
        merchantId: 'm1', kind: 'visitor' as const, key: 'v-1', transactionId: 'first', param: 'transaction_id',
        extras: { aff_sub: 'x y', source: 'é✓' }, capturedAt: t0, domain: 'shop.example',
      };

      it('keeps the first capture unless told to replace it', async () => {
        expect(await store.putCapture(capture)).toBe(true);
        expect(await store.putCapture({ ...capture, transactionId: 'second' })).toBe(false);
        expect(await store.getCapture('m1', 'visitor', 'v-1')).toEqual(capture);
        expect(await store.putCapture({ ...capture, transactionId: 'second', param: null, domain: null, capturedAt: at(1) }, { replace: true })).toBe(true);
        expect(await store.getCapture('m1', 'visitor', 'v-1')).toMatchObject({ transactionId: 'second', param: null, domain: null, capturedAt: at(1) });
      });

      it('keys captures by merchant, kind and key', async () => {
        await store.putCapture(capture);
        await store.putCapture({ ...capture, kind: 'customer', transactionId: 'cust' });
        await store.putCapture({ ...capture, merchantId: 'm2', transactionId: 'other' });
        expect((await store.getCapture('m1', 'customer', 'v-1'))?.transactionId).toBe('cust');
        expect((await store.getCapture('m2', 'visitor', 'v-1'))?.transactionId).toBe('other');
        expect(await store.getCapture('m1', 'cart_token', 'v-1')).toBeUndefined();
      });

      it('deleteCaptures removes the named keys of one kind and counts them', async () => {
        for (const key of ['a', 'b', 'c']) await store.putCapture({ ...capture, key });
        await store.putCapture({ ...capture, kind: 'customer', key: 'a' });
        expect(await store.deleteCaptures('m1', 'visitor', ['a', 'b', 'zz'])).toBe(2);
        expect(await store.deleteCaptures('m1', 'visitor', [])).toBe(0);
        expect(await store.getCapture('m1', 'visitor', 'c')).toBeDefined();
        expect(await store.getCapture('m1', 'customer', 'a')).toBeDefined();
      });

      it('keeps the first link of an order and says whether this one was stored', async () => {
        expect(await store.linkOrder({ storeId: 's1', orderId: '7', visitorToken: 'first', linkedAt: t0 })).toBe(true);
        expect(await store.linkOrder({ storeId: 's1', orderId: '7', visitorToken: 'second', linkedAt: at(1) })).toBe(false);
        expect(await store.getOrderLink('s1', '7')).toEqual({ storeId: 's1', orderId: '7', visitorToken: 'first', linkedAt: t0 });
      });

      it('deleteOrderLinks removes the named orders\' links of one store', async () => {
        for (const orderId of ['1', '2', '3']) await store.linkOrder({ storeId: 's1', orderId, visitorToken: `v${orderId}`, linkedAt: t0 });
        await store.linkOrder({ storeId: 's2', orderId: '1', visitorToken: 'v', linkedAt: t0 });
        expect(await store.deleteOrderLinks('s1', ['1', '3', '404'])).toBe(2);
        expect(await store.deleteOrderLinks('s1', [])).toBe(0);
        expect(await store.getOrderLink('s1', '1')).toBeUndefined();
        expect(await store.getOrderLink('s1', '2')).toBeDefined();
        expect(await store.getOrderLink('s2', '1')).toBeDefined();
      });

      it('captures remember the store that reported them; deleteStoreCaptures removes exactly those', async () => {
        await store.putCapture({ ...capture, kind: 'cart_token', key: 'c1', storeId: 'shop-a' });
        await store.putCapture({ ...capture, kind: 'customer', key: '42', storeId: 'shop-a' });
        await store.putCapture({ ...capture, kind: 'visitor', key: 'v-a', storeId: 'shop-a' });
        await store.putCapture({ ...capture, kind: 'customer', key: '43', storeId: 'shop-b' });
        await store.putCapture({ ...capture, kind: 'visitor', key: 'v-merchant' });
        await store.putCapture({ ...capture, merchantId: 'm2', kind: 'customer', key: '42', storeId: 'shop-a' });
        expect(await store.getCapture('m1', 'customer', '42')).toEqual({ ...capture, kind: 'customer', key: '42', storeId: 'shop-a' });
        expect(await store.getCapture('m1', 'visitor', 'v-merchant')).not.toHaveProperty('storeId');
        // a later capture of the same key from another store moves it there
        await store.putCapture({ ...capture, kind: 'visitor', key: 'v-a', storeId: 'shop-b', transactionId: 'later' }, { replace: true });
        expect(await store.deleteStoreCaptures('m1', 'shop-a')).toBe(2);
        expect(await store.getCapture('m1', 'cart_token', 'c1')).toBeUndefined();
        expect(await store.getCapture('m1', 'customer', '42')).toBeUndefined();
        expect(await store.getCapture('m1', 'visitor', 'v-a')).toMatchObject({ storeId: 'shop-b' });
        expect(await store.getCapture('m1', 'customer', '43')).toBeDefined();
        expect(await store.getCapture('m1', 'visitor', 'v-merchant')).toBeDefined();
        expect(await store.getCapture('m2', 'customer', '42')).toBeDefined();
      });

      it('the first order link wins', async () => {
        expect(await store.linkOrder({ storeId: 's1', orderId: '7', visitorToken: 'v1', linkedAt: t0 })).toBe(true);
        expect(await store.linkOrder({ storeId: 's1', orderId: '7', visitorToken: 'attacker', linkedAt: at(1) })).toBe(false);
        expect(await store.getOrderLink('s1', '7')).toEqual({ storeId: 's1', orderId: '7', visitorToken: 'v1', linkedAt: t0 });
        expect(await store.getOrderLink('s1', '8')).toBeUndefined();
      });
    });

    describe('enqueue', () => {
      it('stores every field of a job, pending and due now', async () => {
        const draft = buildJobDraft({ orderId: `O'Brien "1"`, orderNumber: '#1001 ✓', headers: { 'X-Token': 'abc' }, test: true, allowHttp: true, method: 'POST' });
        expect(await store.enqueue({ jobs: [draft], now: t0 })).toEqual({ inserted: 1, duplicates: 0, webhookIsNew: true });
        const [job] = await store.listJobs({});
        expect(job).toEqual({
          ...draft,
          id: expect.stringMatching(/^\d+$/),
          status: 'pending', attempts: 0, scheduleAttempts: 0, nextAttemptAt: t0, createdAt: t0, updatedAt: t0,
          lastOutcome: null, lastError: null, lockedBy: null, leaseUntil: null,
        });
        expect(await store.getJob(job?.id ?? '')).toEqual(job);
        expect(await store.getJob('999999')).toBeUndefined();
        expect(await store.getJob('not-an-id')).toBeUndefined();
      });

      it('skips a job whose idempotency key exists (exactly one postback per store, order, offer, event)', async () => {
        const sale = buildJobDraft();
        const refund = buildJobDraft({ event: 'refund', eventKey: 'refund:1' });
        expect(await store.enqueue({ jobs: [sale], now: t0 })).toEqual({ inserted: 1, duplicates: 0, webhookIsNew: true });
        expect(await store.enqueue({ jobs: [sale, refund, refund], now: at(1) })).toEqual({ inserted: 1, duplicates: 2, webhookIsNew: true });
        expect(await store.listJobs({})).toHaveLength(2);
      });

      it('a plan made against an outdated history of its order stores nothing and says so', async () => {
        const sale = buildJobDraft();
        const refund = buildJobDraft({ event: 'refund', eventKey: 'refund:1' });
        const cancel = buildJobDraft({ event: 'cancel', eventKey: 'cancel' });
        const order = { storeId: sale.storeId, orderId: sale.orderId };
        await store.enqueue({ jobs: [sale], now: t0 });
        expect(await store.enqueue({ jobs: [refund], webhook: { storeId: 's1', webhookId: 'refund-1' }, plannedAgainst: { ...order, knownKeys: [sale.idempotencyKey] }, now: at(1) })).toEqual({
          inserted: 1,
          duplicates: 0,
          webhookIsNew: true,
        });
        // planned beside the refund, against the sale alone: the refund is news to it
        expect(await store.enqueue({ jobs: [cancel], webhook: { storeId: 's1', webhookId: 'cancel-1' }, plannedAgainst: { ...order, knownKeys: [sale.idempotencyKey] }, now: at(2) })).toEqual({
          inserted: 0,
          duplicates: 0,
          webhookIsNew: true,
          stale: true,
        });
        expect((await store.listJobs({})).map((j) => j.eventKey).toSorted()).toEqual(['refund:1', 'sale']);
        // nothing of it was kept, the receipt included: the delivery plans again and stores
        expect(await store.hasProcessedWebhook('s1', 'cancel-1')).toBe(false);
        expect(
          await store.enqueue({ jobs: [cancel], webhook: { storeId: 's1', webhookId: 'cancel-1' }, plannedAgainst: { ...order, knownKeys: [sale.idempotencyKey, refund.idempotencyKey] }, now: at(3) }),
        ).toEqual({ inserted: 1, duplicates: 0, webhookIsNew: true });
        // jobs of other orders are not this order's history
        await store.enqueue({ jobs: [buildJobDraft({ orderId: '2002' }), buildJobDraft({ storeId: 's2' })], now: at(4) });
        const known = (await store.listJobs({ storeId: 's1', orderId: '1001' })).map((j) => j.idempotencyKey);
        expect((await store.enqueue({ jobs: [], plannedAgainst: { ...order, knownKeys: known }, now: at(5) })).stale).toBeUndefined();
      });

      it('two deliveries of one order planned side by side: one stores, the other is told to plan again', async () => {
        const sale = buildJobDraft();
        await store.enqueue({ jobs: [sale], now: t0 });
        const plannedAgainst = { storeId: sale.storeId, orderId: sale.orderId, knownKeys: [sale.idempotencyKey] };
        const results = await Promise.all([
          store.enqueue({ jobs: [buildJobDraft({ event: 'refund', eventKey: 'refund:1' })], plannedAgainst, now: at(1) }),
          store.enqueue({ jobs: [buildJobDraft({ event: 'cancel', eventKey: 'cancel' })], plannedAgainst, now: at(1) }),
        ]);
        expect(results.filter((r) => r.stale === true)).toHaveLength(1);
        expect(results.filter((r) => r.inserted === 1)).toHaveLength(1);
        expect(await store.listJobs({})).toHaveLength(2);
      });

      it('a webhook id seen before stores nothing at all, even new jobs', async () => {
        const webhook = { storeId: 's1', webhookId: 'evt-1' };
        expect(await store.hasProcessedWebhook('s1', 'evt-1')).toBe(false);
        expect(await store.enqueue({ jobs: [buildJobDraft()], webhook, now: t0 })).toEqual({ inserted: 1, duplicates: 0, webhookIsNew: true });
        expect(await store.hasProcessedWebhook('s1', 'evt-1')).toBe(true);
        expect(await store.hasProcessedWebhook('s2', 'evt-1')).toBe(false);
        const again = await store.enqueue({
          jobs: [buildJobDraft({ orderId: '2' })], webhook,
          unattributed: { storeId: 's1', orderId: '3', orderNumber: '#3', reason: 'x', at: t0 }, now: at(1),
        });
        expect(again).toEqual({ inserted: 0, duplicates: 0, webhookIsNew: false });
        expect(await store.listJobs({})).toHaveLength(1);
        expect(await store.listUnattributed({})).toEqual([]);
      });

      it('concurrent deliveries of one webhook store its jobs once', async () => {
        const other = await another();
        const webhook = { storeId: 's1', webhookId: 'evt-race' };
        const results = await Promise.all(
          [store, other, store, other].map((s, i) => s.enqueue({ jobs: [buildJobDraft({ eventKey: `sale-${i}` })], webhook, now: t0 })),
        );
        expect(results.filter((r) => r.webhookIsNew)).toHaveLength(1);
        expect(await store.listJobs({})).toHaveLength(1);
      });

      it('is one transaction: a failing job leaves no receipt and no other job behind', async () => {
        // a NOT NULL column given null: the only way to make the database itself fail mid-transaction
        const broken = { ...buildJobDraft({ orderId: '2' }), url: null } as unknown as ReturnType<typeof buildJobDraft>;
        await expect(store.enqueue({ jobs: [buildJobDraft(), broken], webhook: { storeId: 's1', webhookId: 'w' }, now: t0 })).rejects.toBeInstanceOf(StorageError);
        expect(await store.hasProcessedWebhook('s1', 'w')).toBe(false);
        expect(await store.listJobs({})).toEqual([]);
        // and the webhook can be processed when it comes again
        expect((await store.enqueue({ jobs: [buildJobDraft()], webhook: { storeId: 's1', webhookId: 'w' }, now: t0 })).inserted).toBe(1);
      });

      it('concurrent enqueues each get their own result: receipts, idempotency and failures stay per call', async () => {
        const broken = { ...buildJobDraft({ orderId: 'broken' }), url: null } as unknown as ReturnType<typeof buildJobDraft>;
        const calls = [
          store.enqueue({ jobs: [buildJobDraft({ orderId: 'a' })], webhook: { storeId: 's1', webhookId: 'w-a' }, now: t0 }),
          store.enqueue({ jobs: [buildJobDraft({ orderId: 'b' })], webhook: { storeId: 's1', webhookId: 'w-a' }, now: t0 }),
          store.enqueue({ jobs: [buildJobDraft({ orderId: 'c' }), broken], webhook: { storeId: 's1', webhookId: 'w-c' }, now: t0 }),
          store.enqueue({ jobs: [buildJobDraft({ orderId: 'd' }), buildJobDraft({ orderId: 'd' })], now: t0 }),
          store.enqueue({ jobs: [], unattributed: { storeId: 's1', orderId: 'e', orderNumber: '#e', reason: 'no id', at: t0 }, now: t0 }),
        ];
        const results = (await Promise.allSettled(calls)).map((r) => (r.status === 'fulfilled' ? r.value : r.reason instanceof StorageError ? 'StorageError' : r.reason));
        // one delivery of webhook w-a wins (which one is up to the race), the other stores nothing
        expect(results.slice(0, 2).toSorted((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
          { inserted: 0, duplicates: 0, webhookIsNew: false },
          { inserted: 1, duplicates: 0, webhookIsNew: true },
        ]);
        expect(results.slice(2)).toEqual([
          'StorageError',
          { inserted: 1, duplicates: 1, webhookIsNew: true },
          { inserted: 0, duplicates: 0, webhookIsNew: true },
        ]);
        const winner = results[0] !== undefined && typeof results[0] === 'object' && results[0].webhookIsNew ? 'a' : 'b';
        expect((await store.listJobs({})).map((j) => j.orderId).toSorted()).toEqual([winner, 'd']);
        // the failed call left nothing behind: its webhook can be processed when it comes again
        expect(await store.hasProcessedWebhook('s1', 'w-c')).toBe(false);
        expect(await store.hasProcessedWebhook('s1', 'w-a')).toBe(true);
        expect((await store.listUnattributed({})).map((u) => u.orderId)).toEqual(['e']);
        expect(await store.enqueue({ jobs: [buildJobDraft({ orderId: 'c' })], webhook: { storeId: 's1', webhookId: 'w-c' }, now: t0 })).toEqual({ inserted: 1, duplicates: 0, webhookIsNew: true });
      });

      it('a burst of concurrent enqueues stores each job exactly once', async () => {
        const other = await another();
        const burst = Array.from({ length: 300 }, (_, i) =>
          (i % 3 === 0 ? other : store).enqueue({ jobs: [buildJobDraft({ orderId: `o${i % 150}` })], webhook: { storeId: 's1', webhookId: `w${i}` }, now: t0 }),
        );
        const results = await Promise.all(burst);
        expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(150);
        expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(150);
        expect(await store.countJobs()).toMatchObject({ pending: 150 });
      });

      it('keeps one unattributed row per order (latest reason) and drops it once jobs arrive', async () => {
        await store.createMerchant({ id: 'm1', name: 'Shop', now: t0 });
        await store.upsertStore({ id: 's1', merchantId: 'm1', platform: 'shopify', domain: 'a.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
        const u = { storeId: 's1', orderId: '1001', orderNumber: '#1001', reason: 'no transaction ID found', at: t0 };
        await store.enqueue({ jobs: [], unattributed: u, now: t0 });
        await store.enqueue({ jobs: [], unattributed: { ...u, reason: 'click older than the window', at: at(1) }, now: at(1) });
        await store.enqueue({ jobs: [], unattributed: { ...u, orderId: '1002', orderNumber: '#1002', at: at(2) }, now: at(2) });
        expect(await store.listUnattributed({ merchantId: 'm1' })).toEqual([
          { ...u, orderId: '1002', orderNumber: '#1002', at: at(2) },
          { ...u, reason: 'click older than the window', at: at(1) },
        ]);
        expect(await store.listUnattributed({ merchantId: 'm2' })).toEqual([]);
        expect(await store.listUnattributed({ storeId: 's1', limit: 1 })).toHaveLength(1);
        await store.enqueue({ jobs: [buildJobDraft({ storeId: 's1', orderId: '1001' })], now: at(3) });
        expect((await store.listUnattributed({})).map((r) => r.orderId)).toEqual(['1002']);
      });
    });

    describe('claiming', () => {
      it('leases due jobs in due order, up to the limit, counting an attempt', async () => {
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'late' })], now: at(2_000) });
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'a' }), buildJobDraft({ orderId: 'b' })], now: t0 });
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'c' })], now: at(1_000) });
        const claimed = await store.claimDueJobs({ workerId: 'w1', now: at(1_500), limit: 2, leaseUntil: at(61_500) });
        expect(claimed.map((j) => j.orderId)).toEqual(['a', 'b']);
        expect(claimed[0]).toMatchObject({ status: 'in_flight', attempts: 1, scheduleAttempts: 1, lockedBy: 'w1', leaseUntil: at(61_500), updatedAt: at(1_500) });
        expect((await store.claimDueJobs({ workerId: 'w1', now: at(1_500), limit: 10, leaseUntil: at(61_500) })).map((j) => j.orderId)).toEqual(['c']);
        expect(await store.claimDueJobs({ workerId: 'w2', now: at(1_500), limit: 10, leaseUntil: at(61_500) })).toEqual([]);
        expect(await store.claimDueJobs({ workerId: 'w2', now: at(1_500), limit: 0, leaseUntil: at(61_500) })).toEqual([]);
        expect((await store.claimDueJobs({ workerId: 'w2', now: at(2_000), limit: 10, leaseUntil: at(62_000) })).map((j) => j.orderId)).toEqual(['late']);
      });

      it('re-claims a job whose lease expired (its worker died), counting another attempt', async () => {
        const job = await enqueueOne();
        await store.claimDueJobs({ workerId: 'dead-worker', now: t0, limit: 1, leaseUntil: at(30_000) });
        expect(await store.claimDueJobs({ workerId: 'w2', now: at(29_999), limit: 1, leaseUntil: at(90_000) })).toEqual([]);
        const [again] = await store.claimDueJobs({ workerId: 'w2', now: at(30_000), limit: 1, leaseUntil: at(90_000) });
        expect(again).toMatchObject({ id: job.id, lockedBy: 'w2', attempts: 2, orderId: job.orderId });
        // the dead worker's late settle does not move the job it lost
        expect(await store.settleJob(settleOf(job.id, 'dead-worker'))).toEqual({ applied: false });
        expect(await store.getJob(job.id)).toMatchObject({ status: 'in_flight', lockedBy: 'w2' });
        expect(await store.listAttempts(job.id)).toHaveLength(1);
      });

      it('concurrent claimers never share a job', async () => {
        const jobs = Array.from({ length: 60 }, (_, i) => buildJobDraft({ orderId: `o${i}` }));
        await store.enqueue({ jobs, now: t0 });
        const claimers = [store, await another(), await another()];
        const rounds = await Promise.all(
          claimers.flatMap((s, c) => [0, 1, 2].map((r) => s.claimDueJobs({ workerId: `w${c}-${r}`, now: t0, limit: 7, leaseUntil: at(60_000) }))),
        );
        const ids = rounds.flat().map((j) => j.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBe(60);
      });

      it('releases unsent jobs back to pending, due as before, with the claim uncounted', async () => {
        const job = await enqueueOne();
        const other = await enqueueOne({ orderId: 'other' });
        await store.claimDueJobs({ workerId: 'w1', now: at(1_000), limit: 10, leaseUntil: at(61_000) });
        expect(await store.releaseJobs({ ids: [job.id, 'junk'], workerId: 'someone-else', now: at(2_000) })).toBe(0);
        expect(await store.releaseJobs({ ids: [job.id, 'junk'], workerId: 'w1', now: at(2_000) })).toBe(1);
        expect(await store.getJob(job.id)).toMatchObject({ status: 'pending', attempts: 0, scheduleAttempts: 0, lockedBy: null, leaseUntil: null, nextAttemptAt: t0 });
        expect(await store.getJob(other.id)).toMatchObject({ status: 'in_flight', attempts: 1 });
        const [again] = await store.claimDueJobs({ workerId: 'w2', now: at(2_000), limit: 1, leaseUntil: at(62_000) });
        expect(again).toMatchObject({ id: job.id, attempts: 1 });
      });

      it('survives closing and reopening the database', async () => {
        const job = await enqueueOne();
        await store.claimDueJobs({ workerId: 'w1', now: t0, limit: 1, leaseUntil: at(1_000) });
        const reopened = await another();
        expect(await reopened.getJob(job.id)).toMatchObject({ status: 'in_flight', lockedBy: 'w1' });
      });
    });

    describe('jobs that wait for another (dependsOn)', () => {
      const lease = at(10 ** 7);

      async function claimIds(now: Date, workerId = 'w') {
        return (await store.claimDueJobs({ workerId, now, limit: 10, leaseUntil: lease })).map((j) => j.eventKey);
      }

      it('stores dependsOn, and a dependent is claimed only after the job it waits for succeeded', async () => {
        await store.enqueue({ jobs: [saleDraft(), refundDraft()], now: t0 });
        const [stored] = await store.listJobs({ orderId: 'o1', limit: 1 });
        expect(stored).toMatchObject({ eventKey: 'refund:1', dependsOn: saleDraft().idempotencyKey });
        const claimed = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 10, leaseUntil: lease });
        expect(claimed.map((j) => j.eventKey)).toEqual(['sale']);
        expect(claimed[0]?.dependsOn).toBeUndefined();
        expect(await claimIds(at(5_000))).toEqual([]);
        expect(await store.settleJob(settleOf(claimed[0]?.id ?? '', 'w', { now: at(6_000) }))).toEqual({ applied: true, wokeDependents: true });
        expect(await claimIds(at(6_000))).toEqual(['refund:1']);
      });

      it('while the job it waits for retries, the dependent is postponed with it and woken when it succeeds', async () => {
        await store.enqueue({ jobs: [saleDraft(), refundDraft()], now: t0 });
        const [first] = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 10, leaseUntil: lease });
        await store.settleJob(settleOf(first?.id ?? '', 'w', { next: { status: 'pending', at: at(600_000) }, outcome: 'retry: HTTP 500', now: at(1_000) }));
        expect(await claimIds(at(2_000))).toEqual([]);
        const [waiting] = await store.listJobs({ orderId: 'o1', limit: 1 });
        expect(waiting).toMatchObject({ eventKey: 'refund:1', status: 'pending', nextAttemptAt: at(600_000) });
        // the retry goes out and succeeds: the dependent is due at once
        expect(await claimIds(at(600_000))).toEqual(['sale']);
        expect(await store.getJob(waiting?.id ?? '')).toMatchObject({ nextAttemptAt: at(601_000) });
        expect(await store.settleJobs([settleOf(first?.id ?? '', 'w', { now: at(600_200) })])).toEqual([{ applied: true, wokeDependents: true }]);
        expect(await store.getJob(waiting?.id ?? '')).toMatchObject({ nextAttemptAt: at(600_200) });
        expect(await claimIds(at(600_200))).toEqual(['refund:1']);
      });

      it.each(['failed', 'dead'] as const)('when the job it waits for is %s, the dependent is settled failed without being sent; a replay that succeeds lets it go out', async (end) => {
        await store.enqueue({ jobs: [saleDraft(), refundDraft()], now: t0 });
        const [first] = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 10, leaseUntil: lease });
        await store.settleJobs([settleOf(first?.id ?? '', 'w', { next: { status: end }, outcome: `${end}: no`, now: at(1_000) })]);
        expect(await claimIds(at(1_000))).toEqual([]);
        const [dependent] = await store.listJobs({ orderId: 'o1', limit: 1 });
        expect(dependent).toMatchObject({ eventKey: 'refund:1', status: 'failed', lastOutcome: neverReportedOutcome, attempts: 0 });
        expect(await store.listAttempts(dependent?.id ?? '')).toEqual([]);

        // replaying the conversion brings its dependent back, waiting for it again
        expect(await store.replayJobs({ ids: [first?.id ?? ''], now: at(2_000) })).toBe(2);
        expect(await store.getJob(dependent?.id ?? '')).toMatchObject({ status: 'pending' });
        expect(await claimIds(at(2_000))).toEqual(['sale']);
        await store.settleJob(settleOf(first?.id ?? '', 'w', { now: at(3_000) }));
        expect(await claimIds(at(3_000))).toEqual(['refund:1']);
      });

      it('a dependent of a job that does not exist is settled failed', async () => {
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'o9', eventKey: 'refund:9', event: 'refund', dependsOn: 'no-such-key' })], now: t0 });
        expect(await claimIds(t0)).toEqual([]);
        const [job] = await store.listJobs({ orderId: 'o9' });
        expect(job).toMatchObject({ status: 'failed', lastOutcome: neverReportedOutcome, lastError: 'the job it waited for does not exist' });
      });

      it('concurrent claimers never share a dependent, and never send one early', async () => {
        const drafts = Array.from({ length: 20 }, (_, i) => [
          buildJobDraft({ orderId: `o${i}` }),
          buildJobDraft({ orderId: `o${i}`, event: 'refund', eventKey: 'refund:1', dependsOn: buildJobDraft({ orderId: `o${i}` }).idempotencyKey }),
        ]).flat();
        await store.enqueue({ jobs: drafts, now: t0 });
        const sales = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 100, leaseUntil: lease });
        expect(sales.every((j) => j.event === 'sale')).toBe(true);
        await store.settleJobs(sales.map((j) => settleOf(j.id, 'w', { now: at(1_000) })));
        const claimers = [store, await another(), await another()];
        const rounds = await Promise.all(claimers.flatMap((s, c) => [0, 1].map((r) => s.claimDueJobs({ workerId: `w${c}-${r}`, now: at(1_000), limit: 5, leaseUntil: lease }))));
        const ids = rounds.flat().map((j) => j.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(20);
        expect(rounds.flat().every((j) => j.event === 'refund')).toBe(true);
      });
    });

    describe('settling', () => {
      it('records the attempt and finishes the job', async () => {
        const job = await enqueueOne();
        await store.claimDueJobs({ workerId: 'w1', now: t0, limit: 1, leaseUntil: at(60_000) });
        const attempt = attemptOf(job.id, { responseHeaders: { 'retry-after': '120', 'content-type': 'text/plain' }, detail: 'ok ✓' });
        expect(await store.settleJob(settleOf(job.id, 'w1', { attempt }))).toEqual({ applied: true });
        expect(await store.getJob(job.id)).toMatchObject({ status: 'succeeded', lastOutcome: 'success', lastError: null, lockedBy: null, leaseUntil: null, updatedAt: at(1_000) });
        expect(await store.listAttempts(job.id)).toEqual([attempt]);
        expect(await store.claimDueJobs({ workerId: 'w1', now: at(10 ** 9), limit: 10, leaseUntil: at(10 ** 9 + 1) })).toEqual([]);
      });

      it('a retry puts the job back, due at the given time, and records an error attempt', async () => {
        const job = await enqueueOne();
        await store.claimDueJobs({ workerId: 'w1', now: t0, limit: 1, leaseUntil: at(60_000) });
        const attempt = attemptOf(job.id, { status: null, responseHeaders: {}, responseBody: '', outcome: 'retry', errorClass: 'timeout', detail: 'no answer in 10000 ms', latencyMs: 10_000 });
        await store.settleJob(settleOf(job.id, 'w1', { attempt, next: { status: 'pending', at: at(61_000) }, outcome: 'retry: timeout', error: 'no answer in 10000 ms' }));
        expect(await store.getJob(job.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(61_000), lastOutcome: 'retry: timeout', lastError: 'no answer in 10000 ms', lockedBy: null });
        expect(await store.claimDueJobs({ workerId: 'w1', now: at(60_999), limit: 1, leaseUntil: at(120_000) })).toEqual([]);
        const [again] = await store.claimDueJobs({ workerId: 'w1', now: at(61_000), limit: 1, leaseUntil: at(120_000) });
        expect(again).toMatchObject({ id: job.id, attempts: 2 });
        await store.settleJob(settleOf(job.id, 'w1', { attempt: attemptOf(job.id, { attempt: 2 }) }));
        expect((await store.listAttempts(job.id)).map((a) => [a.attempt, a.outcome, a.status])).toEqual([[1, 'retry', null], [2, 'success', 200]]);
      });

      it('settleJobs settles many in one transaction, results in input order', async () => {
        await store.enqueue({ jobs: ['a', 'b', 'c'].map((orderId) => buildJobDraft({ orderId })), now: t0 });
        const claimed = await store.claimDueJobs({ workerId: 'w1', now: t0, limit: 2, leaseUntil: at(60_000) });
        const [first, second] = claimed;
        if (!first || !second) throw new Error('expected two jobs');
        const results = await store.settleJobs([
          settleOf(first.id, 'w1', { next: { status: 'dead' }, outcome: 'dead: HTTP 503', error: 'HTTP 503' }),
          settleOf('424242', 'w1'),
          settleOf(second.id, 'someone-else'),
        ]);
        expect(results).toEqual([{ applied: true }, { applied: false }, { applied: false }]);
        expect(await store.getJob(first.id)).toMatchObject({ status: 'dead', lastError: 'HTTP 503' });
        expect(await store.getJob(second.id)).toMatchObject({ status: 'in_flight' });
        expect(await store.settleJobs([])).toEqual([]);
      });

      it('settleJobs gives each job of a group its own outcome, times and attempt', async () => {
        await store.enqueue({ jobs: ['a', 'b', 'c', 'd', 'e'].map((orderId) => buildJobDraft({ orderId, storeId: orderId === 'e' ? 'gone' : 's1' })), now: t0 });
        const claimed = await store.claimDueJobs({ workerId: 'w1', now: t0, limit: 5, leaseUntil: at(60_000) });
        const [a, b, c, d, e] = claimed;
        if (!a || !b || !c || !d || !e) throw new Error('expected five jobs');
        await store.deleteStore('gone');
        const results = await store.settleJobs([
          settleOf(a.id, 'w1', { now: at(1_000) }),
          settleOf(b.id, 'w1', { next: { status: 'pending', at: at(61_000) }, outcome: 'retry: HTTP 500', error: 'HTTP 500', now: at(1_001), attempt: attemptOf(b.id, { status: 500, outcome: 'retry' }) }),
          settleOf(c.id, 'w1', { next: { status: 'failed' }, outcome: "rejected: it's \"bad\"", error: 'Invalid Trans. ID ✓', now: at(1_002) }),
          settleOf(d.id, 'not-the-holder', { now: at(1_003) }),
          settleOf(e.id, 'w1', { now: at(1_004) }),
        ]);
        expect(results).toEqual([{ applied: true }, { applied: true }, { applied: true }, { applied: false }, { applied: false }]);
        expect(await store.getJob(a.id)).toMatchObject({ status: 'succeeded', nextAttemptAt: at(1_000), updatedAt: at(1_000), lastOutcome: 'success', lastError: null, lockedBy: null, leaseUntil: null });
        expect(await store.getJob(b.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(61_000), updatedAt: at(1_001), lastOutcome: 'retry: HTTP 500', lastError: 'HTTP 500' });
        expect(await store.getJob(c.id)).toMatchObject({ status: 'failed', lastOutcome: 'rejected: it\'s "bad"', lastError: 'Invalid Trans. ID ✓', updatedAt: at(1_002) });
        expect(await store.getJob(d.id)).toMatchObject({ status: 'in_flight', lockedBy: 'w1' });
        expect((await store.listAttempts(b.id)).map((x) => [x.status, x.outcome])).toEqual([[500, 'retry']]);
        expect(await store.listAttempts(d.id)).toHaveLength(1);
        expect(await store.getJob(e.id)).toBeUndefined();
      });

      it('settling a job whose store was deleted meanwhile is harmless', async () => {
        const job = await enqueueOne();
        await store.claimDueJobs({ workerId: 'w1', now: t0, limit: 1, leaseUntil: at(60_000) });
        await store.deleteStore(job.storeId);
        expect(await store.settleJob(settleOf(job.id, 'w1'))).toEqual({ applied: false });
        expect(await store.listAttempts(job.id)).toEqual([]);
      });
    });

    describe('listing, counting and replaying', () => {
      it('filters jobs and pages newest first', async () => {
        const ids = [];
        for (let i = 0; i < 5; i += 1) ids.push((await enqueueOne({ orderId: `o${i}`, offerId: i % 2 ? 'odd' : 'even', storeId: i < 4 ? 's1' : 's2' }, at(i * 1_000))).id);
        expect((await store.listJobs({})).map((j) => j.orderId)).toEqual(['o4', 'o3', 'o2', 'o1', 'o0']);
        expect((await store.listJobs({ offerId: 'odd' })).map((j) => j.orderId)).toEqual(['o3', 'o1']);
        expect((await store.listJobs({ storeId: 's2' })).map((j) => j.orderId)).toEqual(['o4']);
        expect((await store.listJobs({ orderId: 'o2' })).map((j) => j.orderId)).toEqual(['o2']);
        expect((await store.listJobs({ merchantId: 'm1', status: 'pending', limit: 2 })).map((j) => j.orderId)).toEqual(['o4', 'o3']);
        expect((await store.listJobs({ limit: 2, before: ids[3] ?? '' })).map((j) => j.orderId)).toEqual(['o2', 'o1']);
        expect((await store.listJobs({ createdFrom: at(1_000), createdTo: at(3_000) })).map((j) => j.orderId)).toEqual(['o3', 'o2', 'o1']);
        expect(await store.listJobs({ status: 'dead' })).toEqual([]);
        // one order of one store (what every webhook reads): newest first too
        await store.enqueue({ jobs: ['refund:1', 'refund:2', 'cancel'].map((eventKey) => buildJobDraft({ orderId: 'o1', storeId: 's1', offerId: 'odd', eventKey })), now: at(9_000) });
        expect((await store.listJobs({ storeId: 's1', orderId: 'o1' })).map((j) => j.eventKey)).toEqual(['cancel', 'refund:2', 'refund:1', 'sale']);
        expect((await store.listJobs({ storeId: 's1', orderId: 'o1', limit: 2 })).map((j) => j.eventKey)).toEqual(['cancel', 'refund:2']);
        expect((await store.listJobs({ storeId: 's1', orderId: 'o1', before: ids[1] ?? '' })).map((j) => j.eventKey)).toEqual([]);
      });

      it('counts jobs by status', async () => {
        await settleAs('a', 'x', 'dead', t0);
        await settleAs('b', 'x', 'succeeded', t0);
        await settleAs('c', 'y', 'succeeded', t0);
        await enqueueOne({ orderId: 'd', offerId: 'y' });
        expect(await store.countJobs()).toEqual({ pending: 1, in_flight: 0, succeeded: 2, failed: 0, dead: 1 });
        expect(await store.countJobs({ offerId: 'y' })).toEqual({ pending: 1, in_flight: 0, succeeded: 1, failed: 0, dead: 0 });
      });

      it('counts jobs by UTC day and status, in [from, to), per merchant', async () => {
        await settleAs('a', 'x', 'succeeded', day('2026-03-01', 23));
        await settleAs('b', 'x', 'succeeded', day('2026-03-02', 0));
        await settleAs('c', 'x', 'dead', day('2026-03-02', 12));
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'd' }), buildJobDraft({ orderId: 'e' })], now: day('2026-03-02', 13) });
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'f', merchantId: 'm2' })], now: day('2026-03-02', 13) });
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'g' })], now: day('2026-03-03', 0) });
        expect(await store.countJobsByDay({ merchantId: 'm1', from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') })).toEqual([
          { day: '2026-03-01', status: 'succeeded', count: 1 },
          { day: '2026-03-02', status: 'dead', count: 1 },
          { day: '2026-03-02', status: 'pending', count: 2 },
          { day: '2026-03-02', status: 'succeeded', count: 1 },
        ]);
        expect(await store.countJobsByDay({ from: new Date('2026-03-02T13:00:00Z'), to: new Date('2026-03-04T00:00:00Z') })).toEqual([
          { day: '2026-03-02', status: 'pending', count: 3 },
          { day: '2026-03-03', status: 'pending', count: 1 },
        ]);
        expect(await store.countJobsByDay({ merchantId: 'nobody', from: t0, to: at(10 ** 9) })).toEqual([]);
      });

      it('cancelPendingJobs settles the pending jobs of one store as failed, never the ones in flight or of other stores', async () => {
        await store.enqueue({ jobs: ['a', 'b', 'c'].map((orderId) => buildJobDraft({ orderId, storeId: 's1' })), now: t0 });
        await store.enqueue({ jobs: [buildJobDraft({ orderId: 'z', storeId: 's2' })], now: at(10) });
        const [inFlight] = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 1, leaseUntil: at(60_000) });
        expect(await store.cancelPendingJobs({ storeId: 's1', reason: 'shop uninstalled the app', now: at(1_000) })).toBe(2);
        expect((await store.listJobs({ storeId: 's1', status: 'failed' })).map((j) => [j.lastOutcome, j.updatedAt])).toEqual([
          ['shop uninstalled the app', at(1_000)],
          ['shop uninstalled the app', at(1_000)],
        ]);
        expect(await store.getJob(inFlight?.id ?? '')).toMatchObject({ status: 'in_flight' });
        expect(await store.countJobs({ storeId: 's2' })).toMatchObject({ pending: 1 });
        expect(await store.claimDueJobs({ workerId: 'w', now: at(2_000), limit: 10, leaseUntil: at(60_000) })).toHaveLength(1);
        expect(await store.cancelPendingJobs({ storeId: 's1', reason: 'again', now: at(3_000) })).toBe(0);
      });

      it('replays dead or failed jobs by id with a fresh schedule; other statuses are untouched', async () => {
        const dead = await settleAs('a', 'x', 'dead', t0);
        const failed = await settleAs('b', 'x', 'failed', t0);
        const succeeded = await settleAs('c', 'x', 'succeeded', t0);
        const pending = (await enqueueOne({ orderId: 'd' })).id;
        expect(await store.replayJobs({ ids: [dead, failed, succeeded, pending, 'junk'], now: at(5_000) })).toBe(2);
        expect(await store.getJob(dead)).toMatchObject({ status: 'pending', nextAttemptAt: at(5_000), scheduleAttempts: 0, attempts: 1, lastOutcome: 'dead' });
        expect(await store.getJob(failed)).toMatchObject({ status: 'pending' });
        expect(await store.getJob(succeeded)).toMatchObject({ status: 'succeeded' });
        expect(await store.replayJobs({ ids: [], now: at(5_000) })).toBe(0);
        const claimed = await store.claimDueJobs({ workerId: 'w', now: at(5_000), limit: 10, leaseUntil: at(65_000) });
        expect(claimed.find((j) => j.id === dead)).toMatchObject({ attempts: 2, scheduleAttempts: 1 });
      });

      it('replays by offer and time range, dead only unless the filter says failed', async () => {
        const early = await settleAs('a', 'x', 'dead', t0);
        const late = await settleAs('b', 'x', 'dead', at(10_000));
        const otherOffer = await settleAs('c', 'y', 'dead', t0);
        const failed = await settleAs('d', 'x', 'failed', t0);
        expect(await store.replayJobs({ filter: { offerId: 'x', createdTo: at(5_000) }, now: at(20_000) })).toBe(1);
        expect((await store.getJob(early))?.status).toBe('pending');
        expect((await store.getJob(late))?.status).toBe('dead');
        expect((await store.getJob(otherOffer))?.status).toBe('dead');
        expect((await store.getJob(failed))?.status).toBe('failed');
        expect(await store.replayJobs({ filter: { status: 'failed' }, now: at(20_000) })).toBe(1);
        expect(await store.replayJobs({ filter: { status: 'succeeded' }, now: at(20_000) })).toBe(0);
        expect(await store.replayJobs({ filter: { createdFrom: at(10_000) }, now: at(20_000) })).toBe(1);
      });
    });

    describe('write-backs waiting for another try', () => {
      const sent = { status: 'succeeded', outcome: 'success', reason: 'success=true;' } as const;
      const defer = (jobId: string, overrides: Partial<Parameters<Store['deferWriteBack']>[0]> = {}) =>
        store.deferWriteBack({ jobId, storeId: 's1', platform: 'woocommerce', step: null, outcome: sent, attempts: 1, dueAt: at(60_000), error: 'HTTP 503', now: t0, ...overrides });

      it('keeps one per job, the newest outcome, until due; a claim hides it until its lease ends', async () => {
        const job = await enqueueOne({ storeId: 's1', orderId: 'o1' });
        expect(await defer(job.id)).toBe(true);
        const dead = { status: 'dead', outcome: 'dead', reason: 'HTTP 500 (gave up)' } as const;
        expect(await defer(job.id, { step: 'meta', outcome: dead, attempts: 2, dueAt: at(120_000), error: 'timeout', now: at(1_000) })).toBe(true);
        expect(await store.claimDueWriteBacks({ platforms: ['woocommerce'], now: at(119_999), limit: 10, leaseUntil: at(200_000) })).toEqual([]);
        const [task, ...more] = await store.claimDueWriteBacks({ platforms: ['woocommerce'], now: at(120_000), limit: 10, leaseUntil: at(200_000) });
        expect(more).toEqual([]);
        expect(task).toEqual({
          jobId: job.id,
          storeId: 's1',
          platform: 'woocommerce',
          status: 'pending',
          step: 'meta',
          outcome: dead,
          attempts: 2,
          dueAt: at(120_000),
          lastError: 'timeout',
          createdAt: t0,
          updatedAt: at(1_000),
        });
        expect(await store.claimDueWriteBacks({ platforms: ['woocommerce'], now: at(199_999), limit: 10, leaseUntil: at(300_000) })).toEqual([]);
        expect(await store.claimDueWriteBacks({ platforms: ['woocommerce'], now: at(200_000), limit: 10, leaseUntil: at(300_000) })).toHaveLength(1);
      });

      it('claims the oldest due first, up to the limit, and never one task twice across connections', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 6; i += 1) {
          const job = await enqueueOne({ storeId: 's1', orderId: `o${i}` });
          ids.push(job.id);
          await defer(job.id, { dueAt: at(10_000 - i * 1_000) });
        }
        const other = await another();
        const [a, b] = await Promise.all([
          store.claimDueWriteBacks({ platforms: ['woocommerce'], now: at(20_000), limit: 4, leaseUntil: at(90_000) }),
          other.claimDueWriteBacks({ platforms: ['woocommerce'], now: at(20_000), limit: 4, leaseUntil: at(90_000) }),
        ]);
        const taken = [...a, ...b].map((t) => t.jobId);
        expect(taken.toSorted()).toEqual(ids.toSorted());
        const first = a.length === 4 ? a : b;
        expect(first.map((t) => t.jobId)).toEqual(ids.toReversed().slice(0, 4));
      });

      it("claims only the platforms asked for (a process claims what it can write back)", async () => {
        const woo = await enqueueOne({ storeId: 's1', orderId: 'o1' });
        const shop = await enqueueOne({ storeId: 's2', orderId: 'o2' });
        await defer(woo.id);
        await defer(shop.id, { storeId: 's2', platform: 'shopify' });
        const later = { now: at(10 ** 6), limit: 10, leaseUntil: at(10 ** 7) };
        expect(await store.claimDueWriteBacks({ ...later, platforms: [] })).toEqual([]);
        expect(await store.claimDueWriteBacks({ ...later, platforms: ['shopify'] })).toMatchObject([{ jobId: shop.id, platform: 'shopify' }]);
        expect(await store.claimDueWriteBacks({ ...later, platforms: ['shopify', 'woocommerce'] })).toMatchObject([{ jobId: woo.id, platform: 'woocommerce' }]);
      });

      it('finishes, abandons (kept with the reason) and lists newest first', async () => {
        const one = await enqueueOne({ storeId: 's1', orderId: 'o1' });
        const two = await enqueueOne({ storeId: 's2', orderId: 'o2' });
        await defer(one.id);
        await defer(two.id, { storeId: 's2', now: at(1_000) });
        await store.abandonWriteBack({ jobId: two.id, error: 'order not found (404)', now: at(2_000) });
        expect(await store.claimDueWriteBacks({ platforms: ['woocommerce'], now: at(10 ** 9), limit: 10, leaseUntil: at(10 ** 9 + 1) })).toMatchObject([{ jobId: one.id }]);
        expect(await store.listWriteBacks({ status: 'dead' })).toMatchObject([{ jobId: two.id, storeId: 's2', status: 'dead', lastError: 'order not found (404)', updatedAt: at(2_000) }]);
        expect((await store.listWriteBacks({})).map((t) => t.jobId)).toEqual([two.id, one.id]);
        expect(await store.listWriteBacks({ storeId: 's1' })).toHaveLength(1);
        await store.finishWriteBack(one.id);
        await store.finishWriteBack('junk');
        expect((await store.listWriteBacks({})).map((t) => t.jobId)).toEqual([two.id]);
      });

      it('keeps one, due now, for a job settled failed because what it waited for was never reported', async () => {
        await store.createMerchant({ id: 'm1', name: 'M', now: t0 });
        await store.upsertStore({ id: 's1', merchantId: 'm1', platform: 'shopify', domain: 'm1.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
        await store.enqueue({ jobs: [saleDraft(), refundDraft()], now: t0 });
        const [sale] = await store.claimDueJobs({ workerId: 'w', now: t0, limit: 1, leaseUntil: at(60_000) });
        if (!sale) throw new Error('no sale');
        await store.settleJob(settleOf(sale.id, 'w', { next: { status: 'dead' }, outcome: 'dead', now: at(1_000) }));
        expect(await store.claimDueJobs({ workerId: 'w', now: at(2_000), limit: 10, leaseUntil: at(60_000) })).toEqual([]);
        const [refund] = await store.listJobs({ orderId: 'o1', status: 'failed' });
        expect(refund).toMatchObject({ event: 'refund', lastOutcome: neverReportedOutcome });
        expect(await store.listWriteBacks({})).toEqual([
          {
            jobId: refund?.id,
            storeId: 's1',
            platform: 'shopify',
            status: 'pending',
            step: null,
            outcome: { status: 'failed', outcome: neverReportedWriteBack, reason: 'the job it waited for is dead' },
            attempts: 0,
            dueAt: at(2_000),
            lastError: null,
            createdAt: at(2_000),
            updatedAt: at(2_000),
          },
        ]);
      });

      it('saves nothing for a job that does not exist, and goes with its store', async () => {
        expect(await defer('999999')).toBe(false);
        expect(await defer('junk')).toBe(false);
        await store.createMerchant({ id: 'm1', name: 'M', now: t0 });
        await store.upsertStore({ id: 's1', merchantId: 'm1', platform: 'woocommerce', domain: 'shop.example', status: 'active', settings: {}, secrets: null, now: t0 });
        const job = await enqueueOne({ merchantId: 'm1', storeId: 's1', orderId: 'o1' });
        await defer(job.id);
        expect(await store.listWriteBacks({ merchantId: 'm1' })).toMatchObject([{ jobId: job.id }]);
        expect(await store.listWriteBacks({ merchantId: 'm2' })).toEqual([]);
        await store.deleteStore('s1');
        expect(await store.listWriteBacks({})).toEqual([]);
        const again = await enqueueOne({ merchantId: 'm1', storeId: 's9', orderId: 'o1' });
        await defer(again.id, { storeId: 's9' });
        await store.deleteMerchant('m1');
        expect(await store.listWriteBacks({})).toEqual([]);
      });
    });
  });
}
