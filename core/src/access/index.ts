// @clickthread/core/access: agencies, API tokens (hashed) and the offer audit log, stored beside the Store.
export {
  auditActions,
  type AccessStore,
  type Agency,
  type ApiTokenRecord,
  type AuditAction,
  type AuditEntry,
  type AuditFilter,
  type TokenScope,
} from './access-store.ts';
export {
  generateApiToken,
  hashToken,
  issueApiToken,
  tokenMatchesHash,
  tokenPrefixOf,
  tokenPrefixLength,
  verifyApiToken,
  type GeneratedToken,
  type IssuedToken,
} from './api-token.ts';
export { createAccessStore, createKyselyAccessStore, type KyselyAccessStoreOptions } from './kysely-access-store.ts';
export { accessMigrationsFor, accessMigrationTable, accessMigrationLockTable } from './access-migrations.ts';
