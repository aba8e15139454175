import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildJobDraft } from '../testing/builders.ts';
import { storeDatabaseOf } from './kysely-store.ts';
import { createStore, isPostgresUrl } from './create-store.ts';
import { StorageError } from '../shared/errors.ts';
import { createSqliteStore, parseSqliteSync } from './sqlite-store.ts';
import type { Store } from './store.ts';
import { storeContract } from './store-contract.ts';

storeContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ct-store-'));
  const path = join(dir, 'nested', 'clickthread.db');
  const store = createSqliteStore({ path });
  await store.migrate();
  const opened = [store];
  return {
    store,
    async open() {
      const other = createSqliteStore({ path });
      await other.migrate();
      return other;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

async function withStore(sync: 'full' | 'normal', run: (store: Store, flushes: () => number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-store-'));
  let flushes = 0;
  const store = createSqliteStore({
    path: join(dir, 'a.db'),
    sync,
    syncFile: async (handle) => {
      flushes += 1;
      await handle.sync();
    },
  });
  try {
    await store.migrate();
    await run(store, () => flushes);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const level = async (store: Store) => {
  const database = storeDatabaseOf(store);
  if (!database) throw new Error('not a Kysely store');
  return (await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db)).rows[0]?.synchronous;
};

describe('SQLite durability', () => {
  it('full: SQLite never fsyncs on the event loop (synchronous=NORMAL); every acknowledged write had its WAL flushed, the worker bookkeeping did not', async () => {
    await withStore('full', async (store, flushes) => {
      expect(await level(store)).toBe(1);
      await store.linkOrder({ storeId: 's0', orderId: '0', visitorToken: 'v', linkedAt: new Date() });
      const before = flushes();
      // each acknowledged write, in a transaction (enqueue, upsertStore…) or not (linkOrder), was flushed after it committed
      for (let i = 1; i <= 3; i += 1) {
        await store.enqueue({ jobs: [buildJobDraft({ orderId: `o${i}` })], now: new Date() });
        expect(flushes()).toBe(before + 2 * i - 1);
        await store.linkOrder({ storeId: 's1', orderId: `o${i}`, visitorToken: 'v', linkedAt: new Date() });
        expect(flushes()).toBe(before + 2 * i);
      }
      await store.upsertStore({ id: 's9', merchantId: 'm', platform: 'shopify', domain: 'x.myshopify.com', status: 'active', settings: {}, secrets: null, now: new Date() });
      expect(flushes()).toBe(before + 7);
      // a write that changed nothing has nothing to flush
      await store.linkOrder({ storeId: 's1', orderId: 'o1', visitorToken: 'other', linkedAt: new Date() });
      expect(flushes()).toBe(before + 7);
      const [job] = await store.claimDueJobs({ workerId: 'w', now: new Date(), limit: 1, leaseUntil: new Date(Date.now() + 60_000) });
      await store.releaseJobs({ ids: [job?.id ?? ''], workerId: 'w', now: new Date() });
      await store.getJob(job?.id ?? '');
      expect(flushes()).toBe(before + 7);
    });
  });

  it('full: concurrent writes share flushes (one fsync covers every commit made before it started)', async () => {
    await withStore('full', async (store, flushes) => {
      const before = flushes();
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.enqueue({ jobs: [buildJobDraft({ orderId: `o${i}` })], now: new Date() })));
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.linkOrder({ storeId: 's1', orderId: `o${i}`, visitorToken: 'v', linkedAt: new Date() })));
      expect(flushes() - before).toBeGreaterThan(0);
      expect(flushes() - before).toBeLessThanOrEqual(4);
      expect((await store.countJobs()).pending).toBe(40);
    });
  });

  it('normal: no flush at all', async () => {
    await withStore('normal', async (store, flushes) => {
      expect(await level(store)).toBe(1);
      await store.enqueue({ jobs: [buildJobDraft()], now: new Date() });
      await store.linkOrder({ storeId: 's1', orderId: '1', visitorToken: 'v', linkedAt: new Date() });
      expect(flushes()).toBe(0);
    });
  });

  it('a failed flush fails the write it acknowledges (the caller answers 5xx and the platform retries)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-store-'));
    let fail = false;
    const store = createSqliteStore({
      path: join(dir, 'a.db'),
      syncFile: async (handle) => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
        await handle.sync();
      },
    });
    try {
      await store.migrate();
      fail = true;
      await expect(store.enqueue({ jobs: [buildJobDraft()], now: new Date() })).rejects.toBeInstanceOf(StorageError);
      fail = false;
      expect(await store.enqueue({ jobs: [buildJobDraft({ orderId: '2' })], now: new Date() })).toMatchObject({ inserted: 1 });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checkpoints run on a thread of their own: the committing connection only falls back to it past 10000 pages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-store-'));
    const path = join(dir, 'a.db');
    const store = createSqliteStore({ path, checkpointIntervalMs: 20 });
    try {
      await store.migrate();
      const database = storeDatabaseOf(store);
      if (!database) throw new Error('not a Kysely store');
      expect((await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db)).rows[0]?.wal_autocheckpoint).toBe(10_000);
      const before = statSync(path).size;
      for (let i = 0; i < 20; i += 1) await store.enqueue({ jobs: Array.from({ length: 20 }, (_, k) => buildJobDraft({ orderId: `o${i}-${k}` })), now: new Date() });
      // the database file only grows when a checkpoint copies the WAL into it
      const deadline = Date.now() + 5_000;
      while (statSync(path).size <= before && Date.now() < deadline) await sleep(20);
      expect(statSync(path).size).toBeGreaterThan(before);
      expect((await store.countJobs()).pending).toBe(400);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [undefined, { ok: true, value: 'full' }],
    ['', { ok: true, value: 'full' }],
    ['NORMAL', { ok: true, value: 'normal' }],
    [' full ', { ok: true, value: 'full' }],
  ])('parseSqliteSync(%j)', (value, expected) => {
    expect(parseSqliteSync(value)).toEqual(expected);
  });

  it.each(['off', 'extra', '2'])('parseSqliteSync refuses %j, naming the setting and the choices', (value) => {
    const parsed = parseSqliteSync(value);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(/CLICKTHREAD_SQLITE_SYNC must be one of full, normal/);
  });
});

describe('createStore', () => {
  it.each([
    ['postgres://u@h/db', true],
    ['postgresql://u@h/db', true],
    ['POSTGRES://u@h/db', true],
    ['sqlite:./data/x.db', false],
    ['', false],
    [undefined, false],
  ])('isPostgresUrl(%s) is %s', (url, expected) => {
    expect(isPostgresUrl(url)).toBe(expected);
  });

  it('defaults to SQLite in WAL mode at the given path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-store-'));
    try {
      const store = createStore({ sqlitePath: join(dir, 'a.db') });
      expect(store.dialect).toBe('sqlite');
      await store.migrate();
      await store.close();
      await store.close(); // closing twice is harmless
      const { default: BetterSqlite3 } = await import('better-sqlite3');
      const raw = new BetterSqlite3(join(dir, 'a.db'));
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      raw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
