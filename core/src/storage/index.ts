// @clickthread/core/storage: the Store port, its adapters (SQLite default, PostgreSQL by DATABASE_URL)
// and the shared contract suite the adapters run.
export type {
  Store,
  Merchant,
  StoreConnection,
  CaptureKind,
  Capture,
  OrderLink,
  JobStatus,
  FinalJobStatus,
  PostbackJob,
  AttemptRecord,
  SettleInput,
  SettleResult,
  EnqueueResult,
  PlannedAgainst,
  JobFilter,
  UnattributedOrder,
  PendingOrder,
  JobDayCount,
  StoreSettingScalar,
  WriteBackOutcome,
  WriteBackTask,
} from './store.ts';
export { neverReportedOutcome, neverReportedWriteBack, jobStatuses, isJobStatus, isFinalJobStatus } from './store.ts';
export { createStore, isPostgresUrl, defaultSqlitePath, type CreateStoreOptions } from './create-store.ts';
export {
  createSqliteStore,
  parseSqliteSync,
  sqliteSyncEnvField,
  defaultSqliteSync,
  sqliteSyncModes,
  type SqliteStoreOptions,
  type SqliteSync,
} from './sqlite-store.ts';
export { createPostgresStore, dropPostgresSchema, type PostgresStoreOptions } from './postgres-store.ts';
export { createKyselyStore, storeDatabaseOf, type KyselyStoreOptions, type StoreDatabase } from './kysely-store.ts';
export { migrationsFor, type SqlDialect } from './migrations.ts';
