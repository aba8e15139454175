import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '@clickthread/core';
import { signWooBody } from '../webhooks/verify-signature.ts';
import { wooDate, wpJsonEncode, type WooMetaJson, type WooOrderJson } from './woo-order-builder.ts';
import { queryOrdersLikeWoo } from './woo-orders-query.ts';

/**
 * A WooCommerce REST API (wc/v3) on 127.0.0.1 that behaves as documented in PLATFORMS.md, for
 * tests: OAuth 1.0a over http (signature checked), order listing with Woo's filters, ordering and
 * paging (woo-orders-query.ts), order notes,
 * webhooks whose creation or re-activation pings the delivery URL with `webhook_id=N`, and order
 * changes that fire signed `order.*` deliveries (built at delivery time, like Action Scheduler;
 * more than 5 consecutive failures disable the webhook). Delivery can be `sync` (inside the
 * change), `queue` (until flush(), coalescing per webhook and order) or `drop` (lost, as when
 * WP-Cron never runs).
 */

export interface FakeWebhook {
  id: number;
  name: string;
  status: 'active' | 'paused' | 'disabled';
  topic: string;
  delivery_url: string;
  secret: string;
  failure_count: number;
}

export interface DeliveryRecord {
  readonly webhookId: number;
  readonly topic: string;
  readonly orderId: number;
  /** HTTP status of the bridge's answer; null when dropped or the request failed. */
  readonly status: number | null;
  readonly dropped: boolean;
}

export interface PingRecord {
  readonly webhookId: number;
  readonly url: string;
  readonly status: number | null;
}

export interface FakeNote {
  readonly id: number;
  readonly note: string;
  readonly customer_note: boolean;
}

export interface FakeWoo {
  /** The store's home URL with a trailing slash (what X-WC-Webhook-Source sends). */
  readonly url: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  deliveryMode: 'sync' | 'queue' | 'drop';
  readonly deliveries: readonly DeliveryRecord[];
  readonly pings: readonly PingRecord[];
  /** REST requests as "METHOD /path" (query left out), for asserting what the bridge called. */
  readonly requests: readonly string[];
  /** The query of every `GET /orders` (OAuth parameters left out), in order. */
  readonly orderListings: ReadonlyArray<Readonly<Record<string, string>>>;
  /**
   * Runs before each `GET /orders` is answered (with its 1-based number): changes made here happen
   * between two pages of a reader, as concurrent edits and write-backs do on a live store.
   */
  beforeOrderListing: ((listing: number) => void | Promise<void>) | null;
  /**
   * Answers a REST request ("METHOD /route", as in `requests`) with this HTTP status instead of
   * serving it, when it returns one: a store that is down (503), throttling (429) or half-broken.
   */
  outage: ((request: string) => number | null) | null;
  /** Adds an order as checkout or REST would: fires order.created (and order.updated for REST-made orders, as 9.9.5 does). */
  addOrder(order: WooOrderJson): Promise<void>;
  /** Changes an order (status moves keep date_paid/date_completed as Woo does) and fires order.updated. */
  updateOrder(id: number, patch: Partial<WooOrderJson>): Promise<void>;
  /** A refund: adds to refunds[], sets `refunded` when everything is refunded, fires order.updated. */
  refundOrder(id: number, amount: string, reason?: string): Promise<number>;
  order(id: number): WooOrderJson | undefined;
  notes(orderId: number): readonly FakeNote[];
  webhooks(): readonly FakeWebhook[];
  setWebhookStatus(id: number, status: FakeWebhook['status']): void;
  deleteWebhook(id: number): void;
  /** Delivers queued deliveries (each with the order's state now). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const paidStatuses = new Set(['processing', 'completed']);

function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 5849 signature base string check, as WooCommerce does for http requests. */
function oauthValid(method: string, baseUrl: string, query: URLSearchParams, key: string, secret: string): boolean {
  if (query.get('oauth_consumer_key') !== key) return false;
  const signature = query.get('oauth_signature');
  const signatureMethod = query.get('oauth_signature_method');
  if (signature === null || (signatureMethod !== 'HMAC-SHA256' && signatureMethod !== 'HMAC-SHA1')) return false;
  // PHP's $_GET keeps the last of repeated keys; the JS client sends its query twice (URL and params)
  const pairs = [...new Map(query.entries())]
    .filter(([k]) => k !== 'oauth_signature')
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .toSorted(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1));
  const params = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const base = `${method.toUpperCase()}&${percentEncode(baseUrl)}&${percentEncode(params)}`;
  const expected = createHmac(signatureMethod === 'HMAC-SHA1' ? 'sha1' : 'sha256', `${percentEncode(secret)}&`)
    .update(base)
    .digest('base64');
  return expected === signature;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

function notFound(res: ServerResponse, code: string): void {
  send(res, 404, { code, message: 'Invalid ID.', data: { status: 404 } });
}

function page<T>(items: T[], query: URLSearchParams, res: ServerResponse): void {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? '10')));
  const pageNo = Math.max(1, Number(query.get('page') ?? '1'));
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  send(res, 200, items.slice((pageNo - 1) * perPage, pageNo * perPage), { 'x-wp-total': String(items.length), 'x-wp-totalpages': String(totalPages) });
}

function cents(amount: string): number {
  return Math.round(Number(amount) * 100);
}

export async function startFakeWoo(options: { clock: Clock; consumerKey?: string; consumerSecret?: string; host?: string }): Promise<FakeWoo> {
  const { clock } = options;
  const consumerKey = options.consumerKey ?? 'ck_fake0000000000000000000000000000000000';
  const consumerSecret = options.consumerSecret ?? 'cs_fake0000000000000000000000000000000000';
  const host = options.host ?? '127.0.0.1';
  const orders = new Map<number, WooOrderJson>();
  const notes = new Map<number, FakeNote[]>();
  const hooks = new Map<number, FakeWebhook>();
  const deliveries: DeliveryRecord[] = [];
  const pings: PingRecord[] = [];
  const requests: string[] = [];
  const orderListings: Array<Record<string, string>> = [];
  const queue = new Map<string, { hookId: number; topic: string; orderId: number }>();
  const sockets = new Set<Socket>();
  let nextHookId = 1;
  let nextNoteId = 1;
  let nextRefundId = 1000;
  let nextMetaId = 500;
  let homeUrl = '';

  const ping = async (hook: FakeWebhook): Promise<void> => {
    let status: number | null = null;
    try {
      const res = await fetch(hook.delivery_url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'WooCommerce/9.9.5 Hookshot (WordPress/6.8.3)' },
        body: `webhook_id=${hook.id}`,
        redirect: 'manual',
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = null;
    }
    pings.push({ webhookId: hook.id, url: hook.delivery_url, status });
  };

  const deliver = async (hookId: number, topic: string, orderId: number): Promise<void> => {
    const hook = hooks.get(hookId);
    if (!hook || hook.status !== 'active') return;
    const order = orders.get(orderId);
    const payload = topic === 'order.deleted' || !order ? { id: orderId } : order;
    const body = wpJsonEncode(payload);
    let status: number | null = null;
    try {
      const res = await fetch(hook.delivery_url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'WooCommerce/9.9.5 Hookshot (WordPress/6.8.3)',
          'x-wc-webhook-source': homeUrl,
          'x-wc-webhook-topic': topic,
          'x-wc-webhook-resource': 'order',
          'x-wc-webhook-event': topic.split('.')[1] ?? '',
          'x-wc-webhook-signature': signWooBody(body, hook.secret),
          'x-wc-webhook-id': String(hook.id),
          'x-wc-webhook-delivery-id': `${hook.id}-${Math.floor(clock.now().getTime() / 1000)}`,
        },
        body,
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = null;
    }
    deliveries.push({ webhookId: hook.id, topic, orderId, status, dropped: false });
    // Woo: success is 200 <= code < 303; more than 5 consecutive failures disable the hook
    if (status !== null && status >= 200 && status < 303) hook.failure_count = 0;
    else if (++hook.failure_count > 5) hook.status = 'disabled';
  };

  const fire = async (topic: string, orderId: number): Promise<void> => {
    for (const hook of [...hooks.values()].filter((h) => h.topic === topic && h.status === 'active')) {
      if (fake.deliveryMode === 'drop') deliveries.push({ webhookId: hook.id, topic, orderId, status: null, dropped: true });
      else if (fake.deliveryMode === 'queue') queue.set(`${hook.id}:${orderId}:${topic}`, { hookId: hook.id, topic, orderId });
      else await deliver(hook.id, topic, orderId);
    }
  };

  const touch = (order: WooOrderJson): void => {
    const now = wooDate(clock.now());
    order.date_modified = now;
    order.date_modified_gmt = now;
  };

  const setStatus = (order: WooOrderJson, status: string): void => {
    const now = wooDate(clock.now());
    order.status = status;
    if (paidStatuses.has(status) && order.date_paid === null) {
      order.date_paid = now;
      order.date_paid_gmt = now;
    }
    if (status === 'completed' && order.date_completed === null) {
      order.date_completed = now;
      order.date_completed_gmt = now;
    }
  };

  const applyMeta = (order: WooOrderJson, entries: readonly WooMetaJson[]): void => {
    for (const entry of entries) {
      const existing = order.meta_data.find((m) => (entry.id !== undefined ? m.id === entry.id : m.key === entry.key));
      if (existing) existing.value = entry.value;
      else order.meta_data.push({ id: nextMetaId++, key: entry.key, value: entry.value });
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', homeUrl);
      const method = req.method ?? 'GET';
      const prefix = '/wp-json/wc/v3/';
      if (!url.pathname.startsWith(prefix)) return send(res, 404, { code: 'rest_no_route', message: 'No route was found.' });
      const route = url.pathname.slice(prefix.length);
      requests.push(`${method} /${route}`);
      const down = fake.outage?.(`${method} /${route}`) ?? null;
      if (down !== null) return send(res, down, { code: 'fake_outage', message: `the store answered ${down}`, data: { status: down } });
      const baseUrl = `${homeUrl.replace(/\/$/, '')}${url.pathname}`;
      if (!oauthValid(method, baseUrl, url.searchParams, consumerKey, consumerSecret)) {
        return send(res, 401, { code: 'woocommerce_rest_authentication_error', message: 'Invalid signature - provided signature does not match.', data: { status: 401 } });
      }
      const raw = await readBody(req);
      const body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      const q = url.searchParams;
      let m: RegExpExecArray | null;

      if (method === 'GET' && route === 'orders') {
        const listing = orderListings.push(Object.fromEntries([...q].filter(([k]) => !k.startsWith('oauth_'))));
        // whatever changes the store between two list requests (merchants, the bridge's own write-back)
        await fake.beforeOrderListing?.(listing);
        const answer = queryOrdersLikeWoo(orders.values(), q);
        if (!answer.ok) return send(res, answer.status, { code: answer.code, message: answer.message, data: { status: answer.status } });
        return send(res, 200, answer.items, { 'x-wp-total': String(answer.total), 'x-wp-totalpages': String(answer.totalPages) });
      }
      if ((m = /^orders\/(\d+)$/.exec(route))) {
        const order = orders.get(Number(m[1]));
        if (!order) return notFound(res, 'woocommerce_rest_shop_order_invalid_id');
        if (method === 'GET') return send(res, 200, order);
        if (method === 'PUT' || method === 'POST') {
          if (Array.isArray(body['meta_data'])) applyMeta(order, body['meta_data'] as WooMetaJson[]);
          if (typeof body['status'] === 'string') setStatus(order, body['status']);
          touch(order);
          await fire('order.updated', order.id);
          return send(res, 200, order);
        }
      }
      if ((m = /^orders\/(\d+)\/notes$/.exec(route)) && method === 'POST') {
        const orderId = Number(m[1]);
        if (!orders.has(orderId)) return notFound(res, 'woocommerce_rest_order_invalid_id');
        const note: FakeNote = { id: nextNoteId++, note: String(body['note'] ?? ''), customer_note: body['customer_note'] === true };
        notes.set(orderId, [...(notes.get(orderId) ?? []), note]);
        // a note is a comment on the order: the order itself is not saved, no order.updated
        return send(res, 201, { ...note, date_created: wooDate(clock.now()), author: 'WooCommerce' });
      }
      if (route === 'webhooks' && method === 'GET') {
        return page([...hooks.values()].map(({ secret: _s, failure_count: _f, ...h }) => h), q, res);
      }
      if (route === 'webhooks' && method === 'POST') {
        const topic = String(body['topic'] ?? '');
        if (!/^order\.(created|updated|deleted|restored)$/.test(topic)) return send(res, 400, { code: 'rest_invalid_param', message: 'Invalid parameter(s): topic' });
        const hook: FakeWebhook = {
          id: nextHookId++,
          name: String(body['name'] ?? ''),
          status: body['status'] === 'paused' || body['status'] === 'disabled' ? body['status'] : 'active',
          topic,
          delivery_url: String(body['delivery_url'] ?? ''),
          secret: String(body['secret'] ?? ''),
          failure_count: 0,
        };
        hooks.set(hook.id, hook);
        // creation pings the delivery URL; the hook stays active whatever the answer (9.9.5)
        if (hook.status === 'active') await ping(hook);
        const { secret: _s, failure_count: _f, ...shown } = hook;
        return send(res, 201, shown);
      }
      if ((m = /^webhooks\/(\d+)$/.exec(route))) {
        const hook = hooks.get(Number(m[1]));
        if (!hook) return notFound(res, 'woocommerce_rest_webhook_invalid_id');
        if (method === 'DELETE') {
          hooks.delete(hook.id);
          return send(res, 200, { id: hook.id, topic: hook.topic, status: hook.status, name: hook.name, delivery_url: hook.delivery_url });
        }
        if (method === 'PUT' || method === 'POST') {
          const wasActive = hook.status === 'active';
          if (body['status'] === 'active' || body['status'] === 'paused' || body['status'] === 'disabled') hook.status = body['status'];
          if (typeof body['secret'] === 'string') hook.secret = body['secret'];
          if (typeof body['name'] === 'string') hook.name = body['name'];
          if (hook.status === 'active' && !wasActive) {
            hook.failure_count = 0;
            await ping(hook);
          }
          const { secret: _s, failure_count: _f, ...shown } = hook;
          return send(res, 200, shown);
        }
      }
      return send(res, 404, { code: 'rest_no_route', message: 'No route was found matching the URL and request method.' });
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { code: 'internal_error', message: String(error) });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  homeUrl = `http://${host}:${port}/`;

  const fake: FakeWoo = {
    url: homeUrl,
    consumerKey,
    consumerSecret,
    deliveryMode: 'sync',
    deliveries,
    pings,
    requests,
    orderListings,
    beforeOrderListing: null,
    outage: null,
    async addOrder(order) {
      orders.set(order.id, structuredClone(order));
      await fire('order.created', order.id);
      if (order.created_via === 'rest-api') await fire('order.updated', order.id);
    },
    async updateOrder(id, patch) {
      const order = orders.get(id);
      if (!order) throw new Error(`fake woo: no order ${id}`);
      const { status, ...rest } = patch;
      Object.assign(order, structuredClone(rest));
      if (status !== undefined) setStatus(order, status);
      touch(order);
      await fire('order.updated', id);
    },
    async refundOrder(id, amount, reason = '') {
      const order = orders.get(id);
      if (!order) throw new Error(`fake woo: no order ${id}`);
      const refundId = nextRefundId++;
      order.refunds = [{ id: refundId, reason, total: `-${amount}` }, ...order.refunds];
      const refunded = order.refunds.reduce((sum, r) => sum + -cents(r.total), 0);
      if (refunded >= cents(order.total)) order.status = 'refunded';
      touch(order);
      await fire('order.updated', id);
      return refundId;
    },
    order: (id) => orders.get(id),
    notes: (orderId) => notes.get(orderId) ?? [],
    webhooks: () => [...hooks.values()],
    setWebhookStatus(id, status) {
      const hook = hooks.get(id);
      if (hook) hook.status = status;
    },
    deleteWebhook(id) {
      hooks.delete(id);
    },
    async flush() {
      const due = [...queue.values()];
      queue.clear();
      for (const d of due) await deliver(d.hookId, d.topic, d.orderId);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
