import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../storage/sqlite-store.ts';
import type { Store } from '../storage/store.ts';
import { accessContract } from './access-contract.ts';
import { accessMigrationTable } from './access-migrations.ts';
import { createAccessStore } from './kysely-access-store.ts';

accessContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ct-access-'));
  const store = createSqliteStore({ path: join(dir, 'clickthread.db') });
  await store.migrate();
  const access = createAccessStore(store);
  await access.migrate();
  return {
    store,
    access,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('createAccessStore', () => {
  it('keeps its migrations in its own table, apart from the Store\'s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-access-'));
    try {
      const path = join(dir, 'c.db');
      const store = createSqliteStore({ path });
      await store.migrate();
      await createAccessStore(store).migrate();
      await store.close();
      const raw = new BetterSqlite3(path, { readonly: true });
      const names = (table: string) => (raw.prepare(`select name from ${table} order by name`).all() as Array<{ name: string }>).map((r) => r.name);
      expect(names(accessMigrationTable)).toEqual(['0001_access_initial']);
      expect(names('kysely_migration')).not.toContain('0001_access_initial');
      raw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a Store it cannot reach the database of', () => {
    const notKysely = { dialect: 'sqlite' } as unknown as Store; // a stand-in Store: only its identity matters here
    expect(() => createAccessStore(notKysely)).toThrow(/createStore/);
  });
});
