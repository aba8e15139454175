import type { ColumnType, Generated } from 'kysely';

/**
 * The tables as Kysely sees them. One shape for both dialects, so the Store has one
 * implementation: times are ISO-8601 strings on the way in (SQLite keeps them as text, which
 * sorts and compares correctly at a fixed width; PostgreSQL parses them into timestamptz) and
 * come back as a string (SQLite) or a Date (pg); flags are 0/1 integers; JSON is text.
 */

type Timestamp = ColumnType<Date | string, string, string>;
type NullableTimestamp = ColumnType<Date | string | null, string | null, string | null>;
/** SQLite INTEGER PRIMARY KEY comes back as a number, PostgreSQL bigint (int8) as a string. */
type BigId = ColumnType<number | string, number, number>;

export interface MerchantsTable {
  id: string;
  name: string;
  agency_id: string | null;
  created_at: Timestamp;
}

export interface StoresTable {
  id: string;
  merchant_id: string;
  platform: string;
  domain: string;
  status: string;
  settings: string;
  secrets: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MerchantDomainsTable {
  domain: string;
  merchant_id: string;
}

export interface OffersTable {
  merchant_id: string;
  id: string;
  body: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CapturesTable {
  merchant_id: string;
  kind: string;
  key: string;
  transaction_id: string;
  param: string | null;
  extras: string;
  captured_at: Timestamp;
  domain: string | null;
  store_id: string | null;
}

export interface OrderLinksTable {
  store_id: string;
  order_id: string;
  visitor_token: string;
  linked_at: Timestamp;
}

export interface JobsTable {
  id: Generated<number | string>;
  idempotency_key: string;
  merchant_id: string;
  store_id: string;
  order_id: string;
  order_number: string;
  offer_id: string;
  event: string;
  event_key: string;
  method: string;
  url: string;
  headers: string;
  transaction_id: string;
  id_source: string;
  amount: string;
  currency: string;
  test: number;
  allow_http: number;
  status: string;
  attempts: number;
  schedule_attempts: number;
  next_attempt_at: Timestamp;
  locked_by: string | null;
  lease_until: NullableTimestamp;
  last_outcome: string | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The idempotency key of the job this one waits for (a reversal waits for its conversion). */
  depends_on: string | null;
}

export interface AttemptsTable {
  id: Generated<number | string>;
  job_id: BigId;
  attempt: number;
  started_at: Timestamp;
  latency_ms: number;
  request_url: string;
  status: number | null;
  response_headers: string;
  response_body: string;
  outcome: string;
  error_class: string | null;
  detail: string | null;
}

export interface WebhookReceiptsTable {
  store_id: string;
  webhook_id: string;
  received_at: Timestamp;
}

export interface UnattributedOrdersTable {
  store_id: string;
  order_id: string;
  order_number: string;
  reason: string;
  at: Timestamp;
}

export interface PendingOrdersTable {
  store_id: string;
  order_id: string;
  payload: string;
  due_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WriteBacksTable {
  job_id: BigId;
  store_id: string;
  platform: string;
  status: string;
  step: string | null;
  outcome: string;
  attempts: number;
  due_at: Timestamp;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface Database {
  merchants: MerchantsTable;
  stores: StoresTable;
  merchant_domains: MerchantDomainsTable;
  offers: OffersTable;
  captures: CapturesTable;
  order_links: OrderLinksTable;
  jobs: JobsTable;
  attempts: AttemptsTable;
  webhook_receipts: WebhookReceiptsTable;
  unattributed_orders: UnattributedOrdersTable;
  pending_orders: PendingOrdersTable;
  write_backs: WriteBacksTable;
}
