import { sql, type Kysely } from 'kysely';
import type { MigrationResultSet, Migrator } from 'kysely/migration';

/**
 * One advisory lock serializes schema changes in a PostgreSQL database: migrations (ours and the
 * access store's) and dropping a schema. Kysely's PostgreSQL migrator lists every table of the
 * database before it migrates and resolves each table's schema by name, which fails ("schema …
 * does not exist", 3F000) when another schema is dropped at that moment — several processes
 * starting at once, tenants torn down, parallel test runs. It also keeps two processes from
 * migrating the same schema at the same time.
 */
export const schemaChangeLockKey = 0x436c_6963; // "Clic"

export async function migrateToLatestLocked<DB>(
  db: Kysely<DB>,
  dialect: 'sqlite' | 'postgres',
  migrator: Migrator,
): Promise<MigrationResultSet> {
  if (dialect !== 'postgres') return migrator.migrateToLatest();
  // the lock lives on one pooled connection for as long as the migrator runs on the others
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${schemaChangeLockKey})`.execute(connection);
    try {
      return await migrator.migrateToLatest();
    } finally {
      await sql`select pg_advisory_unlock(${schemaChangeLockKey})`.execute(connection);
    }
  });
}
