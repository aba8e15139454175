import type { Kysely, Selectable } from 'kysely';
import { migrateToLatestLocked } from '../storage/run-migrations.ts';
import { Migrator } from 'kysely/migration';
import { InvariantError, StorageError } from '../shared/errors.ts';
import type { Database } from '../storage/database.ts';
import { storeDatabaseOf } from '../storage/kysely-store.ts';
import type { SqlDialect } from '../storage/migrations.ts';
import type { Store } from '../storage/store.ts';
import type { AccessDatabase, ApiTokensTable, OfferAuditTable } from './access-database.ts';
import { accessMigrationLockTable, accessMigrationProvider, accessMigrationTable } from './access-migrations.ts';
import type { AccessStore, Agency, ApiTokenRecord, AuditAction, AuditEntry, TokenScope } from './access-store.ts';

export interface KyselyAccessStoreOptions {
  /** A Kysely instance whose tables include ours (the Store's, widened with withTables). */
  readonly db: Kysely<AccessDatabase>;
  readonly dialect: SqlDialect;
  /** Where the migration tables go (PostgreSQL schema); undefined on SQLite. */
  readonly migrationTableSchema?: string | undefined;
}

const defaultAuditLimit = 100;
const maxAuditLimit = 1000;
const defaultStaleAfterMs = 5 * 60 * 1000;

const iso = (d: Date): string => d.toISOString();
const toDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

/** Audit ids are decimal integers; anything else matches nothing. */
function auditIdNumber(id: string): number | undefined {
  return /^\d{1,15}$/.test(id) ? Number(id) : undefined;
}

function tokenFromRow(row: Selectable<ApiTokensTable>): ApiTokenRecord {
  let scope: TokenScope;
  if (row.scope_kind === 'agency' && row.agency_id !== null) scope = { kind: 'agency', agencyId: row.agency_id };
  else if (row.scope_kind === 'merchant' && row.merchant_id !== null) scope = { kind: 'merchant', merchantId: row.merchant_id };
  else throw new StorageError(`stored API token ${row.prefix} has no valid scope (${row.scope_kind})`);
  return {
    prefix: row.prefix,
    hash: row.hash,
    scope,
    label: row.label,
    createdAt: toDate(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : toDate(row.last_used_at),
  };
}

function parseJson(text: string | null, what: string): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new StorageError(`stored ${what} is not valid JSON`, { cause });
  }
}

function agencyOf(row: Selectable<AccessDatabase['access_agencies']>): Agency {
  return { id: row.id, name: row.name, createdAt: toDate(row.created_at) };
}

function auditFromRow(row: Selectable<OfferAuditTable>): AuditEntry {
  return {
    id: String(row.id),
    merchantId: row.merchant_id,
    offerId: row.offer_id,
    action: row.action as AuditAction,
    actor: row.actor,
    at: toDate(row.at),
    before: parseJson(row.before_json, `audit entry ${String(row.id)}`),
    after: parseJson(row.after_json, `audit entry ${String(row.id)}`),
  };
}

export function createKyselyAccessStore(options: KyselyAccessStoreOptions): AccessStore {
  const { db, dialect } = options;

  async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      if (cause instanceof StorageError) throw cause;
      throw new StorageError(`access.${operation} failed (${dialect})`, { cause });
    }
  }

  const access: AccessStore = {
    migrate: () =>
      guard('migrate', async () => {
        const migrator = new Migrator({
          db,
          provider: accessMigrationProvider(dialect),
          migrationTableName: accessMigrationTable,
          migrationLockTableName: accessMigrationLockTable,
          ...(options.migrationTableSchema === undefined ? {} : { migrationTableSchema: options.migrationTableSchema }),
        });
        const { error, results } = await migrateToLatestLocked(db, dialect, migrator);
        if (error !== undefined) {
          const failed = results?.find((r) => r.status === 'Error')?.migrationName;
          throw new StorageError(`access migration ${failed ?? '(setup)'} failed (${dialect})`, { cause: error });
        }
      }),

    createAgency: (a) =>
      guard('createAgency', async () => {
        await db
          .insertInto('access_agencies')
          .values({ id: a.id, name: a.name, created_at: iso(a.now) })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        const row = await db.selectFrom('access_agencies').selectAll().where('id', '=', a.id).executeTakeFirst();
        if (!row) throw new StorageError(`agency ${a.id} vanished right after it was stored`);
        return agencyOf(row);
      }),

    getAgency: (id) =>
      guard('getAgency', async () => {
        const row = await db.selectFrom('access_agencies').selectAll().where('id', '=', id).executeTakeFirst();
        return row && agencyOf(row);
      }),

    listAgencies: () =>
      guard('listAgencies', async () => (await db.selectFrom('access_agencies').selectAll().orderBy('id').execute()).map(agencyOf)),

    deleteAgency: (id) =>
      guard('deleteAgency', () =>
        db.transaction().execute(async (trx) => {
          await trx.deleteFrom('access_api_tokens').where('scope_kind', '=', 'agency').where('agency_id', '=', id).execute();
          const deleted = await trx.deleteFrom('access_agencies').where('id', '=', id).executeTakeFirst();
          return Number(deleted.numDeletedRows) > 0;
        }),
      ),

    saveToken: (t) =>
      guard('saveToken', async () => {
        if (!/^[0-9a-f]{10}$/.test(t.prefix) || !/^[0-9a-f]{64}$/.test(t.hash)) {
          throw new InvariantError('saveToken takes a 10-hex-character prefix and a SHA-256 hex hash');
        }
        const inserted = await db
          .insertInto('access_api_tokens')
          .values({
            prefix: t.prefix,
            hash: t.hash,
            scope_kind: t.scope.kind,
            agency_id: t.scope.kind === 'agency' ? t.scope.agencyId : null,
            merchant_id: t.scope.kind === 'merchant' ? t.scope.merchantId : null,
            label: t.label,
            created_at: iso(t.now),
            last_used_at: null,
          })
          .onConflict((oc) => oc.column('prefix').doNothing())
          // a row comes back only when it was inserted (affected-row counts differ by driver)
          .returning('prefix')
          .executeTakeFirst();
        return inserted !== undefined;
      }),

    findToken: (prefix) =>
      guard('findToken', async () => {
        const row = await db.selectFrom('access_api_tokens').selectAll().where('prefix', '=', prefix).executeTakeFirst();
        return row && tokenFromRow(row);
      }),

    listTokens: (filter = {}) =>
      guard('listTokens', async () => {
        let q = db.selectFrom('access_api_tokens').selectAll().orderBy('created_at').orderBy('prefix');
        if (filter.agencyId !== undefined) q = q.where('agency_id', '=', filter.agencyId);
        if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
        return (await q.execute()).map(tokenFromRow);
      }),

    revokeToken: (prefix) =>
      guard('revokeToken', async () => {
        const deleted = await db.deleteFrom('access_api_tokens').where('prefix', '=', prefix).executeTakeFirst();
        return Number(deleted.numDeletedRows) > 0;
      }),

    touchToken: (prefix, now, staleAfterMs = defaultStaleAfterMs) =>
      guard('touchToken', async () => {
        const staleBefore = iso(new Date(now.getTime() - staleAfterMs));
        await db
          .updateTable('access_api_tokens')
          .set({ last_used_at: iso(now) })
          .where('prefix', '=', prefix)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]))
          .execute();
      }),

    recordAudit: (entry) =>
      guard('recordAudit', async () => {
        const row = await db
          .insertInto('access_offer_audit')
          .values({
            merchant_id: entry.merchantId,
            offer_id: entry.offerId,
            action: entry.action,
            actor: entry.actor,
            at: iso(entry.at),
            before_json: entry.before === null || entry.before === undefined ? null : JSON.stringify(entry.before),
            after_json: entry.after === null || entry.after === undefined ? null : JSON.stringify(entry.after),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return auditFromRow(row);
      }),

    listAudit: (filter) =>
      guard('listAudit', async () => {
        const limit = Math.min(Math.max(1, filter.limit ?? defaultAuditLimit), maxAuditLimit);
        let q = db.selectFrom('access_offer_audit').selectAll().where('merchant_id', '=', filter.merchantId).orderBy('id', 'desc').limit(limit);
        if (filter.offerId !== undefined) q = q.where('offer_id', '=', filter.offerId);
        if (filter.before !== undefined) q = q.where('id', '<', auditIdNumber(filter.before) ?? 0);
        return (await q.execute()).map(auditFromRow);
      }),

    deleteMerchantAccess: (merchantId) =>
      guard('deleteMerchantAccess', () =>
        db.transaction().execute(async (trx) => {
          await trx.deleteFrom('access_api_tokens').where('scope_kind', '=', 'merchant').where('merchant_id', '=', merchantId).execute();
          await trx.deleteFrom('access_offer_audit').where('merchant_id', '=', merchantId).execute();
        }),
      ),
  };
  return access;
}

/**
 * The access store in the same database as `store` (one connection pool, one SQLite file). The
 * caller runs `store.migrate()` first (it creates the PostgreSQL schema), then `access.migrate()`.
 */
export function createAccessStore(store: Store): AccessStore {
  const database = storeDatabaseOf(store);
  if (!database) throw new InvariantError('createAccessStore needs a Store made by createStore/createKyselyStore');
  return createKyselyAccessStore({
    // the Store's tables are none of ours: only the access tables are visible through this instance
    db: database.db.$omitTables<keyof Database>().$extendTables<AccessDatabase>(),
    dialect: database.dialect,
    migrationTableSchema: database.migrationTableSchema,
  });
}
