import type { ColumnType, Generated } from 'kysely';

/**
 * The access store's tables as Kysely sees them, in the same conventions as the Store's
 * (storage/database.ts): ISO-8601 text in, a string (SQLite) or a Date (pg) out; JSON as text.
 * Type aliases, not interfaces: Kysely's $extendTables wants types with implicit index signatures.
 */

type Timestamp = ColumnType<Date | string, string, string>;
type NullableTimestamp = ColumnType<Date | string | null, string | null, string | null>;

export type AgenciesTable = {
  id: string;
  name: string;
  created_at: Timestamp;
};

export type ApiTokensTable = {
  prefix: string;
  hash: string;
  scope_kind: string;
  agency_id: string | null;
  merchant_id: string | null;
  label: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
};

export type OfferAuditTable = {
  id: Generated<number | string>;
  merchant_id: string;
  offer_id: string;
  action: string;
  actor: string;
  at: Timestamp;
  before_json: string | null;
  after_json: string | null;
};

export type AccessDatabase = {
  access_agencies: AgenciesTable;
  access_api_tokens: ApiTokensTable;
  access_offer_audit: OfferAuditTable;
};
