import { join } from 'node:path';
import { createPostgresStore } from './postgres-store.ts';
import { createSqliteStore, type SqliteSync } from './sqlite-store.ts';
import type { Store } from './store.ts';

export interface CreateStoreOptions {
  /** postgres:// or postgresql:// selects PostgreSQL; anything else (or nothing) SQLite. */
  readonly databaseUrl?: string | undefined;
  /** The SQLite file; defaults to ./data/clickthread.db. */
  readonly sqlitePath?: string | undefined;
  /** PostgreSQL schema (default "public"). */
  readonly postgresSchema?: string | undefined;
  /** SQLite durability (CLICKTHREAD_SQLITE_SYNC, parsed by parseSqliteSync); default `full`. Ignored on PostgreSQL. */
  readonly sqliteSync?: SqliteSync | undefined;
}

export const defaultSqlitePath = join('data', 'clickthread.db');

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(?:ql)?:\/\//i.test(url);
}

/** Picks the adapter by DATABASE_URL. The caller runs `migrate()` at start. */
export function createStore(options: CreateStoreOptions = {}): Store {
  if (isPostgresUrl(options.databaseUrl)) {
    return createPostgresStore({
      connectionString: options.databaseUrl,
      ...(options.postgresSchema === undefined ? {} : { schema: options.postgresSchema }),
    });
  }
  return createSqliteStore({
    path: options.sqlitePath ?? defaultSqlitePath,
    ...(options.sqliteSync === undefined ? {} : { sync: options.sqliteSync }),
  });
}
