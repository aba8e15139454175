import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PostgreSQLSessionStorage } from '@shopify/shopify-app-session-storage-postgresql';
import { SQLiteSessionStorage } from '@shopify/shopify-app-session-storage-sqlite';
import sqlite3 from 'sqlite3';

/**
 * Shopify sessions (offline access tokens) in Shopify's own session-storage packages, chosen like the
 * rest of Clickthread's storage: PostgreSQL when DATABASE_URL says postgres://, otherwise a SQLite
 * file beside Clickthread's own under the data directory.
 */
export interface ClosableSessionStorage {
  readonly storage: SQLiteSessionStorage | PostgreSQLSessionStorage;
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

export const sessionsFileName = 'shopify-sessions.sqlite';

export function createSessionStorage(options: { databaseUrl: string | undefined; dataDir: string }): ClosableSessionStorage {
  if (options.databaseUrl !== undefined && /^postgres(ql)?:\/\//i.test(options.databaseUrl)) {
    const storage = new PostgreSQLSessionStorage(options.databaseUrl);
    return { storage, kind: 'postgres', close: () => storage.disconnect() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  // the package accepts an open database; opening it here is what lets close() release the file
  const database = new sqlite3.Database(join(options.dataDir, sessionsFileName));
  const storage = new SQLiteSessionStorage(database);
  return {
    storage,
    kind: 'sqlite',
    close: async () => {
      // a close before the migrations finished would fail them; wait for them first
      await storage.ready.catch(() => undefined);
      await new Promise<void>((resolve, reject) => database.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
