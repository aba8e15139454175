import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../storage/store.ts';
import type { AccessStore } from './access-store.ts';
import { generateApiToken, issueApiToken, verifyApiToken } from './api-token.ts';

/**
 * The behaviour the access store has on every database (SQLite always, PostgreSQL when
 * CLICKTHREAD_TEST_DATABASE_URL is set). Each test gets a fresh, migrated Store with the access
 * store beside it, in the same database.
 */

export interface AccessHandle {
  readonly store: Store;
  readonly access: AccessStore;
  cleanup(): Promise<void>;
}

export type AccessFactory = () => Promise<AccessHandle>;

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

/** `skip`: why this database cannot be used here (shown in the suite's name), or undefined to run it. */
export function accessContract(name: string, factory: AccessFactory, skip?: string): void {
  describe.skipIf(skip !== undefined)(`AccessStore contract: ${name}${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
    let handle: AccessHandle;
    let access: AccessStore;

    beforeEach(async () => {
      handle = await factory();
      access = handle.access;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    it('migrates idempotently, beside the Store and without touching its migrations', async () => {
      await access.migrate();
      await handle.store.migrate();
      await access.migrate();
      expect(await access.listAgencies()).toEqual([]);
      // the Store still works in the same database
      await handle.store.createMerchant({ id: 'm1', name: 'Shop', now: t0 });
      expect((await handle.store.getMerchant('m1'))?.name).toBe('Shop');
    });

    it('creates agencies once and keeps the first', async () => {
      const a = await access.createAgency({ id: 'ag1', name: 'Agency One', now: t0 });
      expect(a).toEqual({ id: 'ag1', name: 'Agency One', createdAt: t0 });
      const again = await access.createAgency({ id: 'ag1', name: 'Renamed', now: at(1000) });
      expect(again).toEqual(a);
      await access.createAgency({ id: 'ag0', name: 'Agency Zero', now: t0 });
      expect((await access.listAgencies()).map((x) => x.id)).toEqual(['ag0', 'ag1']);
      expect(await access.getAgency('nope')).toBeUndefined();
    });

    it('stores only the hash of a token and finds it by prefix', async () => {
      const issued = await issueApiToken(access, { scope: { kind: 'merchant', merchantId: 'm1' }, label: 'CI', now: t0 });
      expect(issued.token).toMatch(/^ct_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
      expect(issued.record).toEqual({
        prefix: issued.token.slice(3, 13),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        scope: { kind: 'merchant', merchantId: 'm1' },
        label: 'CI',
        createdAt: t0,
        lastUsedAt: null,
      });
      const listed = await access.listTokens();
      expect(JSON.stringify(listed)).not.toContain(issued.token.slice(14));
      expect(await verifyApiToken(access, issued.token)).toEqual(issued.record);
    });

    it.each([
      ['a wrong secret', (t: string) => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`],
      ['a malformed token', () => 'ct_nothex_secret'],
      ['an unknown prefix', () => generateApiToken().token],
      ['an empty string', () => ''],
    ])('refuses %s', async (_, mangle) => {
      const issued = await issueApiToken(access, { scope: { kind: 'agency', agencyId: 'ag1' }, label: 'x', now: t0 });
      expect(await verifyApiToken(access, mangle(issued.token))).toBeUndefined();
    });

    it('refuses a prefix that is taken, and issueApiToken draws another', async () => {
      const fixed = generateApiToken();
      expect(await access.saveToken({ prefix: fixed.prefix, hash: fixed.hash, scope: { kind: 'agency', agencyId: 'a' }, label: '', now: t0 })).toBe(true);
      expect(await access.saveToken({ prefix: fixed.prefix, hash: fixed.hash, scope: { kind: 'agency', agencyId: 'b' }, label: '', now: t0 })).toBe(false);
      let calls = 0;
      // the first draw repeats the taken prefix (5 bytes), then fresh randomness
      const random = (size: number): Buffer => {
        calls += 1;
        return calls === 1 ? Buffer.from(fixed.prefix, 'hex') : Buffer.alloc(size, calls);
      };
      const issued = await issueApiToken(access, { scope: { kind: 'agency', agencyId: 'b' }, label: '', now: t0, random });
      expect(issued.record.prefix).not.toBe(fixed.prefix);
      expect(await verifyApiToken(access, issued.token)).toBeDefined();
    });

    it('lists tokens by agency or merchant, and revokes them', async () => {
      const a = await issueApiToken(access, { scope: { kind: 'agency', agencyId: 'ag1' }, label: 'a', now: t0 });
      const m = await issueApiToken(access, { scope: { kind: 'merchant', merchantId: 'm1' }, label: 'm', now: at(1) });
      expect((await access.listTokens({ agencyId: 'ag1' })).map((t) => t.prefix)).toEqual([a.record.prefix]);
      expect((await access.listTokens({ merchantId: 'm1' })).map((t) => t.prefix)).toEqual([m.record.prefix]);
      expect(await access.listTokens()).toHaveLength(2);
      expect(await access.revokeToken(a.record.prefix)).toBe(true);
      expect(await access.revokeToken(a.record.prefix)).toBe(false);
      expect(await verifyApiToken(access, a.token)).toBeUndefined();
    });

    it('records use only when the last use is stale', async () => {
      const issued = await issueApiToken(access, { scope: { kind: 'merchant', merchantId: 'm1' }, label: '', now: t0 });
      await access.touchToken(issued.record.prefix, at(1000));
      expect((await access.findToken(issued.record.prefix))?.lastUsedAt).toEqual(at(1000));
      await access.touchToken(issued.record.prefix, at(2000));
      expect((await access.findToken(issued.record.prefix))?.lastUsedAt).toEqual(at(1000));
      await access.touchToken(issued.record.prefix, at(1000 + 5 * 60 * 1000 + 1));
      expect((await access.findToken(issued.record.prefix))?.lastUsedAt).toEqual(at(1000 + 5 * 60 * 1000 + 1));
    });

    it('deleting an agency removes its tokens, not its merchants\' tokens', async () => {
      await access.createAgency({ id: 'ag1', name: 'A', now: t0 });
      const a = await issueApiToken(access, { scope: { kind: 'agency', agencyId: 'ag1' }, label: '', now: t0 });
      const m = await issueApiToken(access, { scope: { kind: 'merchant', merchantId: 'm1' }, label: '', now: t0 });
      expect(await access.deleteAgency('ag1')).toBe(true);
      expect(await access.deleteAgency('ag1')).toBe(false);
      expect(await access.findToken(a.record.prefix)).toBeUndefined();
      expect(await access.findToken(m.record.prefix)).toBeDefined();
    });

    it('keeps an audit log newest first, per offer, with JSON before and after', async () => {
      const offer = { id: 'tune-main', name: 'TUNE', nested: { amount: '12.50', list: [1, 'two'] } };
      const created = await access.recordAudit({ merchantId: 'm1', offerId: 'tune-main', action: 'create', actor: 'token:abc', at: t0, before: null, after: offer });
      expect(created).toEqual({ id: expect.stringMatching(/^\d+$/), merchantId: 'm1', offerId: 'tune-main', action: 'create', actor: 'token:abc', at: t0, before: null, after: offer });
      await access.recordAudit({ merchantId: 'm1', offerId: 'tune-main', action: 'disable', actor: 'operator', at: at(1), before: offer, after: { ...offer, enabled: false } });
      await access.recordAudit({ merchantId: 'm1', offerId: 'other', action: 'create', actor: 'operator', at: at(2), before: null, after: {} });
      await access.recordAudit({ merchantId: 'm2', offerId: 'tune-main', action: 'delete', actor: 'operator', at: at(3), before: offer, after: null });

      const all = await access.listAudit({ merchantId: 'm1' });
      expect(all.map((e) => [e.offerId, e.action])).toEqual([['other', 'create'], ['tune-main', 'disable'], ['tune-main', 'create']]);
      const one = await access.listAudit({ merchantId: 'm1', offerId: 'tune-main' });
      expect(one.map((e) => e.action)).toEqual(['disable', 'create']);
      expect(one[0]?.after).toEqual({ ...offer, enabled: false });
      const page = await access.listAudit({ merchantId: 'm1', limit: 1 });
      expect(page).toHaveLength(1);
      const next = await access.listAudit({ merchantId: 'm1', limit: 5, before: page[0]?.id ?? '' });
      expect(next.map((e) => e.action)).toEqual(['disable', 'create']);
      expect(await access.listAudit({ merchantId: 'm1', before: 'not-a-number' })).toEqual([]);
      expect((await access.listAudit({ merchantId: 'm2' }))[0]?.after).toBeNull();
    });

    it('forgets a merchant: its tokens and audit entries, nobody else\'s', async () => {
      const m1 = await issueApiToken(access, { scope: { kind: 'merchant', merchantId: 'm1' }, label: '', now: t0 });
      const m2 = await issueApiToken(access, { scope: { kind: 'merchant', merchantId: 'm2' }, label: '', now: t0 });
      await access.recordAudit({ merchantId: 'm1', offerId: 'o', action: 'create', actor: 'x', at: t0, before: null, after: {} });
      await access.recordAudit({ merchantId: 'm2', offerId: 'o', action: 'create', actor: 'x', at: t0, before: null, after: {} });
      await access.deleteMerchantAccess('m1');
      expect(await access.findToken(m1.record.prefix)).toBeUndefined();
      expect(await access.findToken(m2.record.prefix)).toBeDefined();
      expect(await access.listAudit({ merchantId: 'm1' })).toEqual([]);
      expect(await access.listAudit({ merchantId: 'm2' })).toHaveLength(1);
    });
  });
}
