import { err, ok, type Result } from '@clickthread/core';
import { z } from 'zod';
import { formatZodIssues, wooOrderSchema, type WooOrder } from '../orders/woo-order.ts';
import type { WooRestApi, WooRestResponse } from './woo-rest-api.ts';

/**
 * Typed calls to one store's REST API. Every call answers a Result: a store that is down, slow or
 * refuses the keys is an expected state of the world, not a bug. Failures carry the status and
 * Woo's message, never the request (it holds the credentials).
 */

export type WooApiFailureKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'server'
  | 'http'
  | 'timeout'
  | 'network'
  | 'invalid_response';

export interface WooApiFailure {
  readonly kind: WooApiFailureKind;
  readonly status: number | null;
  readonly message: string;
}

export const wooWebhookSchema = z.looseObject({
  id: z.number().int().positive(),
  name: z.string().default(''),
  status: z.string(),
  topic: z.string(),
  delivery_url: z.string(),
});
export type WooWebhook = z.output<typeof wooWebhookSchema>;

/** Where an order sits in a listing sorted by modification: its id and `date_modified_gmt` to the second. */
export interface OrderKey {
  readonly id: number;
  readonly modified: string;
}

/** `GET /orders` sorted ascending by modification (ties by id) or by id, always from its first match. */
export interface ListOrdersQuery {
  /** GMT second; only orders modified strictly after it (Woo's `modified_after` is not inclusive). */
  readonly modifiedAfter: string;
  /** GMT second; only orders modified strictly before it. */
  readonly modifiedBefore: string | null;
  readonly orderBy: 'modified' | 'id';
  /** Order ids left out by the store (`exclude`). */
  readonly exclude: readonly number[];
  /** Matches skipped from the start (`offset`); 0 for none. */
  readonly offset: number;
  readonly perPage: number;
}

export interface ListedOrder {
  /** Its place in the listing; null when even its id or dates cannot be read. */
  readonly key: OrderKey | null;
  /** The order, or why it does not have the documented shape (then it is skipped). */
  readonly order: Result<WooOrder, { readonly id: unknown; readonly issues: readonly string[] }>;
}

export interface OrdersPage {
  /** The page's items in the store's order. */
  readonly items: readonly ListedOrder[];
  /** All matches of the query (`X-WP-Total`), when the store says. */
  readonly total: number | null;
}

export interface WooClient {
  /** A cheap authenticated read that proves the keys work. */
  checkAccess(): Promise<Result<void, WooApiFailure>>;
  getOrder(orderId: string): Promise<Result<WooOrder, WooApiFailure>>;
  listOrders(query: ListOrdersQuery): Promise<Result<OrdersPage, WooApiFailure>>;
  /** The ids of a registered customer's earliest orders in these statuses, oldest first (at most `limit`). */
  earliestOrderIds(customerId: number, statuses: readonly string[], limit: number): Promise<Result<number[], WooApiFailure>>;
  listWebhooks(): Promise<Result<WooWebhook[], WooApiFailure>>;
  createWebhook(input: { name: string; topic: string; deliveryUrl: string; secret: string }): Promise<Result<WooWebhook, WooApiFailure>>;
  updateWebhook(id: number, patch: { status?: 'active' | 'paused' | 'disabled'; secret?: string; name?: string }): Promise<Result<WooWebhook, WooApiFailure>>;
  deleteWebhook(id: number): Promise<Result<void, WooApiFailure>>;
  addOrderNote(orderId: string, note: string): Promise<Result<void, WooApiFailure>>;
  setOrderMeta(orderId: string, entries: ReadonlyArray<{ key: string; value: string }>): Promise<Result<WooOrder, WooApiFailure>>;
}

interface AxiosLikeError {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly response?: { readonly status?: unknown; readonly data?: unknown };
}

const wpErrorCode = /^[a-z][a-z0-9_]{0,79}$/;
const maxRemoteText = 160;

/**
 * What of an error answer is repeated to the bridge's callers (the CLI, the API's connect): the
 * status, and only when the body is a WordPress REST error (`{code, message}` with a code of that
 * shape) its code and message — markup and control characters removed, bounded. Any other body,
 * whatever the server behind the URL is, is never echoed.
 */
function remoteErrorText(status: number, data: unknown): string {
  if (typeof data !== 'object' || data === null || !('code' in data) || typeof data.code !== 'string' || !wpErrorCode.test(data.code)) return `HTTP ${status}`;
  const raw = 'message' in data && typeof data.message === 'string' ? data.message : '';
  const text = raw
    .replace(/<[^>]*>/g, ' ')
    .replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const bounded = text.length > maxRemoteText ? `${text.slice(0, maxRemoteText - 1)}…` : text;
  return bounded === '' ? `HTTP ${status} (${data.code})` : `${bounded} (${data.code})`;
}

function failureOf(error: unknown): WooApiFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as AxiosLikeError;
  const status = typeof e.response?.status === 'number' ? e.response.status : null;
  if (status !== null) {
    const message = remoteErrorText(status, e.response?.data);
    if (status === 401) return { kind: 'unauthorized', status, message };
    if (status === 403) return { kind: 'forbidden', status, message };
    if (status === 404) return { kind: 'not_found', status, message };
    if (status === 429) return { kind: 'rate_limited', status, message };
    if (status >= 500) return { kind: 'server', status, message };
    return { kind: 'http', status, message };
  }
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message.slice(0, 300) : 'request failed';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(message)) return { kind: 'timeout', status: null, message };
  return { kind: 'network', status: null, message: code === '' ? message : `${code}: ${message}` };
}

async function call(request: () => Promise<WooRestResponse>): Promise<Result<WooRestResponse, WooApiFailure>> {
  try {
    const response = await request();
    // axios only resolves 2xx by default; a redirect (not followed) resolves as 3xx with some configs
    if (response.status < 200 || response.status >= 300) {
      return err({ kind: 'http', status: response.status, message: `unexpected HTTP ${response.status} (redirects are not followed)` });
    }
    return ok(response);
  } catch (error) {
    return err(failureOf(error));
  }
}

function invalid(what: string, issues: readonly string[]): WooApiFailure {
  return { kind: 'invalid_response', status: null, message: `${what}: ${issues.slice(0, 5).join('; ')}` };
}

function headerNumber(headers: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const raw = headers[name];
  const value = typeof raw === 'string' ? Number(raw) : typeof raw === 'number' ? raw : Number.NaN;
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

const wooSecond = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

/** An item's place in a listing by modification, read leniently: an order the schema refuses still takes its place. */
function listingKey(item: unknown): OrderKey | null {
  if (typeof item !== 'object' || item === null) return null;
  const id = 'id' in item ? item.id : undefined;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return null;
  // date_modified_gmt may be null in the REST shape; the creation date stands in for it
  const modified = 'date_modified_gmt' in item && typeof item.date_modified_gmt === 'string' ? item.date_modified_gmt : 'date_created_gmt' in item ? item.date_created_gmt : null;
  return typeof modified === 'string' && wooSecond.test(modified) ? { id, modified: modified.slice(0, 19) } : null;
}

function parseOrder(data: unknown): Result<WooOrder, WooApiFailure> {
  const parsed = wooOrderSchema.safeParse(data);
  return parsed.success ? ok(parsed.data) : err(invalid('the order does not have the REST v3 shape', formatZodIssues(parsed.error)));
}

function parseWebhook(data: unknown): Result<WooWebhook, WooApiFailure> {
  const parsed = wooWebhookSchema.safeParse(data);
  return parsed.success ? ok(parsed.data) : err(invalid('the webhook does not have the REST v3 shape', formatZodIssues(parsed.error)));
}

/** The REST v3 parameters of a listing (no `page`: a keyset reader always reads from the first match). */
export function ordersQueryParams(query: ListOrdersQuery): Record<string, string | number> {
  const params: Record<string, string | number> = {
    modified_after: query.modifiedAfter,
    dates_are_gmt: 'true',
    orderby: query.orderBy,
    order: 'asc',
    per_page: query.perPage,
  };
  if (query.modifiedBefore !== null) params['modified_before'] = query.modifiedBefore;
  if (query.exclude.length > 0) params['exclude'] = query.exclude.join(',');
  if (query.offset > 0) params['offset'] = query.offset;
  return params;
}

export function createWooClient(api: WooRestApi): WooClient {
  return {
    async checkAccess() {
      const r = await call(() => api.get('orders', { per_page: 1 }));
      return r.ok ? ok(undefined) : r;
    },
    async getOrder(orderId) {
      const r = await call(() => api.get(`orders/${encodeURIComponent(orderId)}`));
      return r.ok ? parseOrder(r.value.data) : r;
    },
    async listOrders(query) {
      const r = await call(() => api.get('orders', ordersQueryParams(query)));
      if (!r.ok) return r;
      if (!Array.isArray(r.value.data)) return err(invalid('the order list', ['is not an array']));
      const items: ListedOrder[] = r.value.data.map((item: unknown) => {
        const parsed = wooOrderSchema.safeParse(item);
        if (parsed.success) return { key: listingKey(parsed.data), order: ok(parsed.data) };
        const id = typeof item === 'object' && item !== null && 'id' in item ? item.id : undefined;
        return { key: listingKey(item), order: err({ id, issues: formatZodIssues(parsed.error) }) };
      });
      return ok({ items, total: headerNumber(r.value.headers, 'x-wp-total') ?? null });
    },
    async earliestOrderIds(customerId, statuses, limit) {
      const r = await call(() => api.get('orders', { customer: customerId, status: statuses.join(','), orderby: 'date', order: 'asc', per_page: limit, _fields: 'id' }));
      if (!r.ok) return r;
      const data: unknown = r.value.data;
      if (!Array.isArray(data)) return err(invalid('the order list', ['is not an array']));
      const ids = data.map((item: unknown) => (typeof item === 'object' && item !== null && 'id' in item ? item.id : undefined));
      if (!ids.every((id): id is number => Number.isSafeInteger(id))) return err(invalid('the order list', ['holds an order without an integer id']));
      return ok(ids);
    },
    async listWebhooks() {
      const all: WooWebhook[] = [];
      for (let page = 1; page <= 50; page += 1) {
        const r = await call(() => api.get('webhooks', { per_page: 100, page }));
        if (!r.ok) return r;
        if (!Array.isArray(r.value.data)) return err(invalid('the webhook list', ['is not an array']));
        for (const item of r.value.data) {
          const parsed = parseWebhook(item);
          if (!parsed.ok) return parsed;
          all.push(parsed.value);
        }
        const totalPages = headerNumber(r.value.headers, 'x-wp-totalpages') ?? page;
        if (page >= totalPages || r.value.data.length < 100) break;
      }
      return ok(all);
    },
    async createWebhook({ name, topic, deliveryUrl, secret }) {
      const r = await call(() => api.post('webhooks', { name, topic, delivery_url: deliveryUrl, secret, status: 'active' }));
      return r.ok ? parseWebhook(r.value.data) : r;
    },
    async updateWebhook(id, patch) {
      const r = await call(() => api.put(`webhooks/${id}`, patch));
      return r.ok ? parseWebhook(r.value.data) : r;
    },
    async deleteWebhook(id) {
      const r = await call(() => api.delete(`webhooks/${id}`, { force: 'true' }));
      return r.ok ? ok(undefined) : r;
    },
    async addOrderNote(orderId, note) {
      const r = await call(() => api.post(`orders/${encodeURIComponent(orderId)}/notes`, { note, customer_note: false }));
      return r.ok ? ok(undefined) : r;
    },
    async setOrderMeta(orderId, entries) {
      const r = await call(() => api.put(`orders/${encodeURIComponent(orderId)}`, { meta_data: entries.map((e) => ({ key: e.key, value: e.value })) }));
      return r.ok ? parseOrder(r.value.data) : r;
    },
  };
}
