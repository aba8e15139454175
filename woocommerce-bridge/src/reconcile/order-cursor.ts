import { err, ok, type Result } from '@clickthread/core';
import type { ListOrdersQuery, OrderKey } from '../rest/woo-client.ts';

/**
 * Keyset paging over a store's orders sorted by (`date_modified_gmt`, id). Any order modified while
 * a pass reads (a merchant's edit, the bridge's own write-back) moves to the end of that list, so
 * page numbers shift under the reader; a pass therefore always asks for the first page of what
 * comes after the last modification it read. Woo's `modified_after` is strict and kept to the
 * second, so the pass asks from one second before the last one read and skips the orders it
 * already read in that second. When more orders share one second than a page holds, the rest of
 * that second is read by id, excluding what was read (`exclude`) — and past the exclude cap,
 * skipping the further ones read by `offset`.
 */

export interface OrderCursor {
  /** GMT second (`YYYY-MM-DDTHH:MM:SS`): what was modified strictly after it is still to read (`modified_after`). */
  readonly after: string;
  /** The lowest ids read among the orders modified in the second right after `after`, ascending, at most the exclude cap. */
  readonly seen: readonly number[];
  /** How many more orders of that second were read, next in id order after the seen ones (a second more crowded than the cap). */
  readonly beyond: number;
  /**
   * While `beyond` > 0: the store's count of that second's orders other than the seen ones
   * (`X-WP-Total`) when the last of them were read; null when unknown. A different count later
   * means the second changed under the offset.
   */
  readonly total: number | null;
}

/** Where a pass is: its cursor, and whether it is reading the rest of one crowded second by id. */
export interface OrderPaging {
  readonly cursor: OrderCursor;
  /** Reading the second after `cursor.after` alone, by id; always so while `cursor.beyond` > 0. */
  readonly draining: boolean;
}

export interface PagingLimits {
  readonly perPage: number;
  /** At most this many ids in one `exclude` (default maxExcludedIds). */
  readonly excludeCap?: number;
}

export type PageOutcome =
  /** More may follow: ask for the next page. */
  | 'more'
  /** The list is read to its end. */
  | 'caught_up'
  /** A full page with nothing the pass can move past (no readable id/date, or a store ignoring `exclude`). */
  | 'stalled';

export interface PageStep {
  readonly paging: OrderPaging;
  /** The page's orders not read before, in the store's order: the ones to process. */
  readonly fresh: readonly OrderKey[];
  readonly outcome: PageOutcome;
}

/**
 * At most this many ids go in one `exclude` (the request's URL stays a few KB). Past it, a crowded
 * second is read on by `offset` after the excluded ids. An order of that second that changes in the
 * meantime would shift the offset; the store's count (`X-WP-Total`) shows it, and the orders past
 * the excluded ones are then read again from offset 0 (processing is idempotent).
 */
export const maxExcludedIds = 400;

// Earlier versions stored the time alone; the rest rides in the same settings string.
const storedCursor = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:;seen=([^;]*))?(?:;beyond=([^;]*))?(?:;total=([^;]*))?$/;
const count = (text: string | undefined): number | null | undefined => (text === undefined ? undefined : /^\d{1,9}$/.test(text) ? Number(text) : null);

export function shiftSecond(gmt: string, seconds: number): string {
  return new Date(Date.parse(`${gmt}Z`) + seconds * 1000).toISOString().slice(0, 19);
}

const ascending = (ids: Iterable<number>): number[] => [...new Set(ids)].toSorted((a, b) => a - b);

export function parseOrderCursor(stored: string): Result<OrderCursor> {
  const m = storedCursor.exec(stored);
  const after = m?.[1];
  if (!m || after === undefined || Number.isNaN(Date.parse(`${after}Z`)) || shiftSecond(after, 0) !== after) {
    return err(`the reconcile cursor ${JSON.stringify(stored.slice(0, 40))} is not a GMT time (YYYY-MM-DDTHH:MM:SS[;seen=<ids>[;beyond=<n>;total=<n>]])`);
  }
  const list = m[2] ?? '';
  const ids = list === '' ? [] : list.split(',').map((s) => (/^\d{1,15}$/.test(s) ? Number(s) : Number.NaN));
  if (ids.some((id) => !Number.isSafeInteger(id) || id <= 0)) return err(`the reconcile cursor's seen ids ${JSON.stringify(list.slice(0, 40))} are not order ids`);
  const beyond = count(m[3]);
  const total = count(m[4]);
  if (beyond === null || total === null) return err(`the reconcile cursor's counts ${JSON.stringify(stored.slice(after.length, after.length + 40))} are not numbers`);
  return ok({ after, seen: ascending(ids), beyond: beyond ?? 0, total: total ?? null });
}

export function formatOrderCursor(cursor: OrderCursor): string {
  const seen = cursor.seen.length === 0 && cursor.beyond === 0 ? '' : `;seen=${cursor.seen.join(',')}`;
  const beyond = cursor.beyond === 0 ? '' : `;beyond=${cursor.beyond}${cursor.total === null ? '' : `;total=${cursor.total}`}`;
  return `${cursor.after}${seen}${beyond}`;
}

const capOf = (limits: PagingLimits): number => limits.excludeCap ?? maxExcludedIds;

/**
 * The cursor once `ids` of the second after `after` are read too (they follow the seen ones in id
 * order); `total` is the store's count of that second's orders other than the seen ones before these.
 */
function withRead(cursor: OrderCursor, ids: readonly number[], cap: number, total: number | null): OrderCursor {
  const all = ascending([...cursor.seen, ...ids]);
  const seen = all.slice(0, cap);
  const beyond = cursor.beyond + all.length - seen.length;
  // the ids newly excluded were among what the store counted
  const left = total === null || beyond === 0 ? null : total - (seen.length - cursor.seen.length);
  return { after: cursor.after, seen, beyond, total: left };
}

const emptyAt = (after: string): OrderCursor => ({ after, seen: [], beyond: 0, total: null });

/**
 * A pass that resumes with seen ids was cut short inside their second: it first reads the rest of
 * that second without them, so even a second more crowded than a pass's pages is read through.
 */
export function startPaging(cursor: OrderCursor): OrderPaging {
  return { cursor, draining: cursor.seen.length > 0 || cursor.beyond > 0 };
}

export function nextOrdersQuery(paging: OrderPaging, limits: PagingLimits): ListOrdersQuery {
  const { after, seen, beyond } = paging.cursor;
  const { perPage } = limits;
  if (!paging.draining) return { modifiedAfter: after, modifiedBefore: null, orderBy: 'modified', exclude: [], offset: 0, perPage };
  // the crowded second alone, by id, without what was read
  return { modifiedAfter: after, modifiedBefore: shiftSecond(after, 2), orderBy: 'id', exclude: seen, offset: beyond, perPage };
}

/**
 * What one page means for the pass. `keys` are the page's items in the store's order (null: an
 * item without a readable id or date, which takes its place on the page but cannot move the pass);
 * `total` is the store's count of the query's matches (`X-WP-Total`), when it gave one.
 */
export function afterOrdersPage(paging: OrderPaging, page: { readonly keys: ReadonlyArray<OrderKey | null>; readonly total: number | null }, limits: PagingLimits): PageStep {
  const { cursor } = paging;
  const { after } = cursor;
  const cap = capOf(limits);
  const second = shiftSecond(after, 1);
  const seenIds = new Set(cursor.seen);
  const full = page.keys.length >= limits.perPage;
  const keyed = page.keys.filter((k): k is OrderKey => k !== null);

  if (paging.draining) {
    const fresh = keyed.filter((k) => k.modified === second && !seenIds.has(k.id));
    if (cursor.beyond > 0 && page.total !== null && page.total !== cursor.total) {
      // that second changed under the offset (or its count is unknown): read on from just after the seen ids
      return { paging: { cursor: { ...cursor, beyond: 0, total: null }, draining: true }, fresh, outcome: 'more' };
    }
    // that second is read: on with what comes after it
    if (!full) return { paging: { cursor: emptyAt(second), draining: false }, fresh, outcome: 'more' };
    if (fresh.length === 0) return { paging, fresh, outcome: 'stalled' };
    return { paging: { cursor: withRead(cursor, fresh.map((k) => k.id), cap, page.total), draining: true }, fresh, outcome: 'more' };
  }

  const fresh = keyed.filter((k) => !(k.modified === second && seenIds.has(k.id)));
  const newer = keyed.filter((k) => k.modified > after);
  if (newer.length === 0) return { paging, fresh, outcome: full ? 'stalled' : 'caught_up' };
  const last = newer.reduce((max, k) => (k.modified > max ? k.modified : max), second);
  const outcome: PageOutcome = full ? 'more' : 'caught_up';
  if (last > second) {
    // everything before the page's last second was on this page; that second may go on past it
    const atLast = withRead(emptyAt(shiftSecond(last, -1)), keyed.filter((k) => k.modified === last).map((k) => k.id), cap, null);
    return { paging: { cursor: atLast, draining: atLast.beyond > 0 }, fresh, outcome };
  }
  // the whole page is one second: read the rest of it by id if the page was full
  const read = withRead(cursor, keyed.filter((k) => k.modified === second).map((k) => k.id), cap, null);
  return { paging: { cursor: read, draining: full || read.beyond > 0 }, fresh, outcome };
}

/**
 * The cursor a pass stores. Caught up, it keeps the second but not the ids: the next pass reads
 * that second again, so an order changed again within the second it was read in is not missed
 * (processing is idempotent). Cut short, it keeps the ids so the next pass goes on from there.
 */
export function cursorToStore(paging: OrderPaging, outcome: PageOutcome | null): OrderCursor {
  if (outcome === 'caught_up') return emptyAt(paging.cursor.after);
  return paging.cursor;
}
