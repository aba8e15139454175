import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import type { SqlDialect } from '../storage/migrations.ts';

/**
 * The access store's versioned migrations. They are tracked in tables of their own
 * (`access_migration`, `access_migration_lock`), so they never mix with the Store's migrator,
 * which owns Kysely's default table names in the same database. Released migrations are never
 * edited: add the next one.
 */

export const accessMigrationTable = 'access_migration';
export const accessMigrationLockTable = 'access_migration_lock';

// `Kysely<unknown>`: a migration sees the schema as it was before it, not today's typed schema.
function initialSchema(dialect: SqlDialect): Migration {
  const timestamp = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('access_agencies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('access_api_tokens')
        .addColumn('prefix', 'text', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('scope_kind', 'text', (c) => c.notNull())
        .addColumn('agency_id', 'text')
        .addColumn('merchant_id', 'text')
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('last_used_at', timestamp)
        .execute();
      await db.schema.createIndex('access_api_tokens_agency').on('access_api_tokens').column('agency_id').execute();
      await db.schema.createIndex('access_api_tokens_merchant').on('access_api_tokens').column('merchant_id').execute();

      await db.schema
        .createTable('access_offer_audit')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('merchant_id', 'text', (c) => c.notNull())
        .addColumn('offer_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('at', timestamp, (c) => c.notNull())
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .execute();
      await db.schema.createIndex('access_offer_audit_offer').on('access_offer_audit').columns(['merchant_id', 'offer_id', 'id']).execute();
      await db.schema.createIndex('access_offer_audit_merchant').on('access_offer_audit').columns(['merchant_id', 'id']).execute();
    },
  };
}

export function accessMigrationsFor(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_access_initial': initialSchema(dialect),
  };
}

export function accessMigrationProvider(dialect: SqlDialect): MigrationProvider {
  return { getMigrations: async () => accessMigrationsFor(dialect) };
}
