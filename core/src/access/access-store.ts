/**
 * The access port: who may use the agency API, and what they changed. Agencies manage many
 * merchants (core's Merchant.agencyId); API tokens belong to an agency or to one merchant and are
 * kept only as a SHA-256 hash beside a short visible prefix; the audit log keeps every change to an
 * offer with its author and the offer before and after.
 *
 * One implementation (kysely-access-store.ts) over the same database as the Store, on SQLite and
 * PostgreSQL, with migrations of its own. Times are passed in; the access store never reads a clock.
 */

export interface Agency {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
}

export type TokenScope = { readonly kind: 'agency'; readonly agencyId: string } | { readonly kind: 'merchant'; readonly merchantId: string };

export interface ApiTokenRecord {
  /** The visible part of the token (`ct_<prefix>_…`): safe to show, log and key rate limits on. */
  readonly prefix: string;
  /** SHA-256 of the whole token, hex. */
  readonly hash: string;
  readonly scope: TokenScope;
  readonly label: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

export type AuditAction = 'create' | 'update' | 'delete' | 'enable' | 'disable' | 'import';
export const auditActions: readonly AuditAction[] = ['create', 'update', 'delete', 'enable', 'disable', 'import'];

export interface AuditEntry {
  /** A decimal integer as a string, increasing with insertion. */
  readonly id: string;
  readonly merchantId: string;
  readonly offerId: string;
  readonly action: AuditAction;
  /** Who: "operator", "token:<prefix>", "shopify:<shop>/<user>"… */
  readonly actor: string;
  readonly at: Date;
  /** The offer before the change (null when created), and after (null when deleted), as JSON values. */
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditFilter {
  readonly merchantId: string;
  readonly offerId?: string;
  /** Newest first; defaults to 100, at most 1000. */
  readonly limit?: number;
  /** Keyset pagination: entries older than this entry id. */
  readonly before?: string;
}

export interface AccessStore {
  /** Runs this store's own pending migrations (never the Store's); idempotent. */
  migrate(): Promise<void>;

  /** Creates the agency, or returns the existing one with that id unchanged. */
  createAgency(a: { id: string; name: string; now: Date }): Promise<Agency>;
  getAgency(id: string): Promise<Agency | undefined>;
  listAgencies(): Promise<Agency[]>;
  /** Deletes the agency and its tokens (its merchants and their tokens stay). */
  deleteAgency(id: string): Promise<boolean>;

  /** Stores a token's hash; false when the prefix is taken (the caller draws another). */
  saveToken(t: { prefix: string; hash: string; scope: TokenScope; label: string; now: Date }): Promise<boolean>;
  findToken(prefix: string): Promise<ApiTokenRecord | undefined>;
  listTokens(filter?: { agencyId?: string; merchantId?: string }): Promise<ApiTokenRecord[]>;
  revokeToken(prefix: string): Promise<boolean>;
  /** Records use; only writes when the stored time is older than `staleAfterMs` (default 5 min), so reads stay reads. */
  touchToken(prefix: string, now: Date, staleAfterMs?: number): Promise<void>;

  recordAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;
  listAudit(filter: AuditFilter): Promise<AuditEntry[]>;

  /** A merchant is gone (deleted, uninstalled, redacted): its tokens and audit entries go too. */
  deleteMerchantAccess(merchantId: string): Promise<void>;
}
