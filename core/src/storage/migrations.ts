import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

export type SqlDialect = 'sqlite' | 'postgres';

/**
 * Versioned migrations as code (no files read at run time, so they ship with the source).
 * Names sort in the order they run; a migration, once released, is never edited: add the next one.
 * The few column types that differ by dialect come from `types`.
 */

function typesFor(dialect: SqlDialect) {
  return {
    timestamp: dialect === 'postgres' ? ('timestamptz' as const) : ('text' as const),
    idType: dialect === 'postgres' ? ('bigint' as const) : ('integer' as const),
  };
}

// `Kysely<unknown>`: migrations speak in table names as strings, not through the typed schema,
// because the schema they see is the one before them, not today's.
function initialSchema(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('merchants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('agency_id', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('merchants_agency').on('merchants').column('agency_id').execute();

      await db.schema
        .createTable('stores')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('secrets', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('stores_merchant').on('stores').column('merchant_id').execute();
      await db.schema.createIndex('stores_domain').on('stores').column('domain').execute();

      await db.schema
        .createTable('merchant_domains')
        .addColumn('domain', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('merchant_domains_merchant').on('merchant_domains').column('merchant_id').execute();

      await db.schema
        .createTable('offers')
        .addColumn('merchant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('offers_pk', ['merchant_id', 'id'])
        .execute();

      await db.schema
        .createTable('captures')
        .addColumn('merchant_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('transaction_id', 'text', (c) => c.notNull())
        .addColumn('param', 'text')
        .addColumn('extras', 'text', (c) => c.notNull())
        .addColumn('captured_at', t.timestamp, (c) => c.notNull())
        .addColumn('domain', 'text')
        .addPrimaryKeyConstraint('captures_pk', ['merchant_id', 'kind', 'key'])
        .execute();

      await db.schema
        .createTable('order_links')
        .addColumn('store_id', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('visitor_token', 'text', (c) => c.notNull())
        .addColumn('linked_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('order_links_pk', ['store_id', 'order_id'])
        .execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', t.idType, (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
        .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
        .addColumn('merchant_id', 'text', (c) => c.notNull())
        .addColumn('store_id', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('order_number', 'text', (c) => c.notNull())
        .addColumn('offer_id', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('event_key', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('transaction_id', 'text', (c) => c.notNull())
        .addColumn('id_source', 'text', (c) => c.notNull())
        .addColumn('amount', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('test', 'integer', (c) => c.notNull())
        .addColumn('allow_http', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('schedule_attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', t.timestamp, (c) => c.notNull())
        .addColumn('locked_by', 'text')
        .addColumn('lease_until', t.timestamp)
        .addColumn('last_outcome', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      // claiming scans these two: due pending jobs, and in-flight jobs whose lease ran out
      await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('jobs_lease').on('jobs').columns(['status', 'lease_until']).execute();
      await db.schema.createIndex('jobs_offer').on('jobs').columns(['merchant_id', 'offer_id']).execute();
      await db.schema.createIndex('jobs_order').on('jobs').columns(['store_id', 'order_id']).execute();

      await db.schema
        .createTable('attempts')
        .addColumn('id', t.idType, (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
        .addColumn('job_id', t.idType, (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('started_at', t.timestamp, (c) => c.notNull())
        .addColumn('latency_ms', 'integer', (c) => c.notNull())
        .addColumn('request_url', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('response_headers', 'text', (c) => c.notNull())
        .addColumn('response_body', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('error_class', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('attempts_job').on('attempts').columns(['job_id', 'id']).execute();

      await db.schema
        .createTable('webhook_receipts')
        .addColumn('store_id', 'text', (c) => c.notNull())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('received_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_receipts_pk', ['store_id', 'webhook_id'])
        .execute();

      await db.schema
        .createTable('unattributed_orders')
        .addColumn('store_id', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('order_number', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('unattributed_orders_pk', ['store_id', 'order_id'])
        .execute();
      await db.schema.createIndex('unattributed_orders_at').on('unattributed_orders').column('at').execute();
    },
  };
}

/**
 * Claims order by (next_attempt_at, id) and (lease_until, id): with the id in the index, PostgreSQL
 * reads the first rows in order and stops at the limit instead of sorting every due row.
 */
const claimIndexesWithId: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('jobs_due').execute();
    await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'next_attempt_at', 'id']).execute();
    await db.schema.dropIndex('jobs_lease').execute();
    await db.schema.createIndex('jobs_lease').on('jobs').columns(['status', 'lease_until', 'id']).execute();
  },
};

/**
 * A job may wait for another (a reversal for its conversion): `depends_on` holds that job's
 * idempotency key. Both indexes are partial, so jobs without a dependency (nearly all) cost them
 * nothing: claims look for waiting jobs that came due, settles for the dependents of a job that
 * just finished.
 */
const jobDependencies: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('jobs').addColumn('depends_on', 'text').execute();
    await db.schema.createIndex('jobs_waiting').on('jobs').columns(['status', 'next_attempt_at', 'id']).where(sql.ref('depends_on'), 'is not', null).execute();
    await db.schema.createIndex('jobs_depends_on').on('jobs').column('depends_on').where('depends_on', 'is not', null).execute();
  },
};

/**
 * WooCommerce orders that arrived paid before their order-received link wait in a table of their
 * own (not in the connection's settings JSON, which several processes rewrite); captures say which
 * store reported them (shop/redact deletes those); the admin overview counts a merchant's jobs by
 * creation day.
 */
function pendingOrdersAndStoreCaptures(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('pending_orders')
        .addColumn('store_id', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('due_at', t.timestamp, (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('pending_orders_pk', ['store_id', 'order_id'])
        .execute();
      await db.schema.createIndex('pending_orders_due').on('pending_orders').columns(['due_at', 'store_id']).execute();
      await db.schema.alterTable('captures').addColumn('store_id', 'text').execute();
      await db.schema.createIndex('captures_store').on('captures').columns(['merchant_id', 'store_id']).where(sql.ref('store_id'), 'is not', null).execute();
      await db.schema.createIndex('jobs_merchant_created').on('jobs').columns(['merchant_id', 'created_at']).execute();
    },
  };
}

/**
 * The claim, lease and waiting indexes hold only the rows they serve. A claim moves a job from the
 * due index to the lease index and a settle takes it out of both, where full indexes on
 * (status, …) rewrote both entries of every job twice; and they stay the size of the backlog, not
 * of the history (settled jobs are nearly every row). Failed and dead jobs, the admin's lists and
 * replays, get a small index of their own. Queries name the status as a literal (a bound parameter
 * would not prove the index's condition to SQLite's planner).
 */
const partialJobIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('jobs_due').execute();
    await db.schema.dropIndex('jobs_lease').execute();
    await db.schema.dropIndex('jobs_waiting').execute();
    await sql`create index jobs_due on jobs (next_attempt_at, id) where status = 'pending'`.execute(db);
    await sql`create index jobs_lease on jobs (lease_until, id) where status = 'in_flight'`.execute(db);
    await sql`create index jobs_waiting on jobs (next_attempt_at, id) where status = 'pending' and depends_on is not null`.execute(db);
    await sql`create index jobs_unsent on jobs (status, id) where status in ('failed', 'dead')`.execute(db);
  },
};

/**
 * Write-backs (the order note or tags that show a settled postback in the store's admin) that the
 * store refused or did not answer wait here for their next try: one row per job, the step to
 * resume at, the outcome to write, and the platform whose process tries it. Deleted with their job
 * (and so with the store or merchant).
 */
function writeBacks(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('write_backs')
        .addColumn('job_id', t.idType, (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
        .addColumn('store_id', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('step', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('due_at', t.timestamp, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      await sql`create index write_backs_due on write_backs (platform, due_at, job_id) where status = 'pending'`.execute(db);
      await db.schema.createIndex('write_backs_store').on('write_backs').columns(['store_id', 'status']).execute();
    },
  };
}

export function migrationsFor(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_initial': initialSchema(dialect),
    '0002_claim_indexes_with_id': claimIndexesWithId,
    '0003_job_dependencies': jobDependencies,
    '0004_pending_orders_and_store_captures': pendingOrdersAndStoreCaptures(dialect),
    '0005_partial_job_indexes': partialJobIndexes,
    '0006_write_backs': writeBacks(dialect),
  };
}

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}
