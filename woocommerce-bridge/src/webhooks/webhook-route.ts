import type { Clock, Logger } from '@clickthread/core';
import type { Store } from '@clickthread/core/storage';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SecretBox } from '../config/secret-box.ts';
import { readWooConnection, sourceMatchesStore, wooWebhookTopics, type WooConnection } from '../connections/woo-connection.ts';
import { createWooSecretsCache } from '../connections/woo-secrets-cache.ts';
import type { BridgeMetrics } from '../http/bridge-metrics.ts';
import type { OrderProcessor } from '../orders/process-order.ts';
import { adoptWooOrder, formatZodIssues, wooDeletedOrderSchema } from '../orders/woo-order.ts';
import { verifyWooSignature } from './verify-signature.ts';

/**
 * `POST /webhooks/woocommerce/:connectionId`. The raw body parser sits on this route only, so the
 * signature is checked on the exact bytes Woo signed (its JSON escapes slashes: re-serialized JSON
 * never verifies). Order of checks: ping (unsigned, must get exactly 200) → connection → signature
 * → source → JSON → shape. A rejected request stores nothing: a counter and a log line.
 */

export interface WebhookRouteDeps {
  readonly store: Store;
  readonly secretBox: SecretBox;
  readonly processor: OrderProcessor;
  readonly metrics: BridgeMetrics;
  readonly logger: Logger;
  readonly maxBytes: number;
  readonly clock: Clock;
}

/** The last-delivery time is written at most this often per connection: the hot path stays read-only. */
export const lastWebhookWriteIntervalMs = 60_000;

const pingBody = /^webhook_id=(\d{1,20})$/;
const connectionIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const orderTopics: ReadonlySet<string> = new Set(wooWebhookTopics);

type Rejection = 'unknown_connection' | 'signature' | 'source' | 'malformed' | 'too_large' | 'unsupported_encoding';

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function createWebhookRouter(deps: WebhookRouteDeps): Router {
  const { store, secretBox, processor, metrics, logger, clock } = deps;
  const router = express.Router();
  const log = logger.child({ route: 'woocommerce-webhook' });
  // connections whose last-delivery write is under way: a burst at the minute mark writes once per
  // process (only a saving: the write sets one key, so writers in several processes lose nothing)
  const recording = new Set<string>();
  // opening the sealed secrets was a tenth of the CPU of a webhook; the cache answers only for the
  // exact sealed text it opened, so a rotated secret is opened afresh
  const secretsCache = createWooSecretsCache(secretBox);

  /** Records the last verified delivery in the connection's settings (webhook health in the admin). */
  const recordDelivery = async (connection: WooConnection): Promise<void> => {
    const now = clock.now();
    const last = connection.settings.lastWebhookAt === null ? Number.NaN : Date.parse(connection.settings.lastWebhookAt);
    const age = now.getTime() - last;
    // a time in the future (the clock was set back) is rewritten rather than trusted
    if ((age >= 0 && age < lastWebhookWriteIntervalMs) || recording.has(connection.id)) return;
    recording.add(connection.id);
    try {
      const saved = await store.patchStoreSettings(connection.id, { lastWebhookAt: now.toISOString() }, now);
      if (!saved) log.warn({ connectionId: connection.id }, 'last webhook delivery not recorded: the connection is gone');
    } catch (error) {
      // webhook health is bookkeeping: the delivery itself is handled either way
      log.warn({ err: error, connectionId: connection.id }, 'last webhook delivery not recorded');
    } finally {
      recording.delete(connection.id);
    }
  };

  const reject = (req: Request, res: Response, status: number, reason: Rejection, detail?: string): void => {
    metrics.webhooks.inc({ outcome: `rejected_${reason}` });
    log.warn(
      {
        connectionId: req.params['connectionId'],
        reason,
        ...(detail === undefined ? {} : { detail }),
        ip: req.ip,
        topic: header(req, 'x-wc-webhook-topic'),
        deliveryId: header(req, 'x-wc-webhook-delivery-id'),
        webhookId: header(req, 'x-wc-webhook-id'),
      },
      'woocommerce webhook rejected',
    );
    res.status(status).json({ error: reason });
  };

  const loadConnection = async (id: string): Promise<WooConnection | undefined> => {
    if (!connectionIdPattern.test(id)) return undefined;
    const stored = await store.getStore(id);
    if (!stored || stored.status !== 'active') return undefined;
    const connection = readWooConnection(stored);
    if (!connection.ok) {
      log.error({ connectionId: id, reason: connection.reason }, 'stored connection is unreadable');
      return undefined;
    }
    return connection.value;
  };

  router.post(
    '/webhooks/woocommerce/:connectionId',
    express.raw({ type: () => true, limit: deps.maxBytes, inflate: true }),
    async (req: Request<{ connectionId: string }>, res: Response) => {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const connectionId = req.params.connectionId;
      const signature = header(req, 'x-wc-webhook-signature');
      const topic = header(req, 'x-wc-webhook-topic');

      // Woo pings a new or re-activated webhook with an unsigned form body; anything but 200 fails it.
      const ping = signature === undefined && topic === undefined ? pingBody.exec(body.toString('latin1').trim()) : null;
      if (ping) {
        metrics.webhooks.inc({ outcome: 'ping' });
        log.info({ connectionId, webhookId: ping[1] }, 'woocommerce webhook ping');
        res.status(200).type('text/plain').send('ok');
        return;
      }

      const connection = await loadConnection(connectionId);
      if (!connection) return reject(req, res, 404, 'unknown_connection');

      const secrets = secretsCache.open(connection.stored);
      if (!secrets.ok) {
        metrics.webhooks.inc({ outcome: 'failed' });
        log.error({ connectionId, reason: secrets.reason }, 'cannot open the connection secrets to verify a webhook');
        res.status(500).json({ error: 'connection_secrets_unreadable' });
        return;
      }
      if (!verifyWooSignature(body, signature, secrets.value.webhookSecret)) return reject(req, res, 401, 'signature');
      if (!sourceMatchesStore(header(req, 'x-wc-webhook-source'), connection.settings.storeUrl)) {
        return reject(req, res, 401, 'source', `X-WC-Webhook-Source is not ${connection.settings.storeUrl}`);
      }
      await recordDelivery(connection);
      if (topic === undefined) return reject(req, res, 400, 'malformed', 'X-WC-Webhook-Topic is missing');

      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        return reject(req, res, 400, 'malformed', 'body is not JSON');
      }

      if (!orderTopics.has(topic)) {
        metrics.webhooks.inc({ outcome: 'ignored' });
        log.info({ connectionId, topic }, 'woocommerce webhook topic not handled: ignored');
        res.status(200).json({ received: true, ignored: 'topic' });
        return;
      }

      if (topic === 'order.deleted') {
        const deleted = wooDeletedOrderSchema.safeParse(json);
        if (!deleted.success) return reject(req, res, 400, 'malformed', formatZodIssues(deleted.error).join('; '));
        await processor.forget(connection, String(deleted.data.id));
        metrics.webhooks.inc({ outcome: 'accepted' });
        log.info({ connectionId, orderId: deleted.data.id }, 'order deleted in WooCommerce');
        res.status(200).json({ received: true });
        return;
      }

      const order = adoptWooOrder(json);
      if (!order.success) return reject(req, res, 400, 'malformed', formatZodIssues(order.error).slice(0, 5).join('; '));

      const outcome = await processor.process({ connection, order: order.data, trigger: 'webhook' });
      metrics.webhooks.inc({ outcome: 'accepted' });
      res.status(200).json({ received: true, outcome: outcome.kind });
    },
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : undefined;
      if (type === 'entity.too.large') return reject(req, res, 413, 'too_large', `body over ${deps.maxBytes} bytes`);
      if (type === 'encoding.unsupported' || type === 'charset.unsupported') return reject(req, res, 415, 'unsupported_encoding');
      if (type === 'request.aborted' || type === 'request.size.invalid') return reject(req, res, 400, 'malformed', String(type));
      // the body parser marks every client fault with a 4xx status (e.g. a body that does not match
      // its Content-Encoding): the sender's problem, never a 500
      const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
      if (typeof status === 'number' && status >= 400 && status < 500) return reject(req, res, 400, 'malformed', type === undefined ? 'unreadable body' : String(type));
      metrics.webhooks.inc({ outcome: 'failed' });
      log.error({ err: error, connectionId: req.params['connectionId'] }, 'woocommerce webhook failed');
      if (res.headersSent) return next(error);
      // 500 counts as a failed delivery in Woo; reconciliation picks the order up later
      res.status(500).json({ error: 'internal_error' });
    },
  );

  return router;
}
