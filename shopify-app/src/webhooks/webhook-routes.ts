import express, { type Request, type Response, type Router } from 'express';
import type { Clock, Logger } from '@clickthread/core';
import type { AccessStore } from '@clickthread/core/access';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import { orderFactsFromPayload } from '../orders/order-facts.ts';
import { takeOrder, type IntakeOutcome, type WebhookReceipt } from '../orders/order-intake.ts';
import { refundFactsFromPayload, takeRefund } from '../orders/refund-intake.ts';
import { answerDataRequest, redactCustomer, redactShop, uninstallShop, type SessionRemover } from '../privacy/compliance.ts';
import { parseJsonLossless } from '../shared/parse-json.ts';
import type { ShopifyWebhookVerdict, ShopifyWebhookVerifier } from './verify-webhook.ts';

/**
 * Shopify webhook routes, one per subscription of shopify.app.toml. Each takes its body as bytes
 * (express.raw on that route only, nothing parses JSON before the HMAC check), verifies it
 * (verify-webhook.ts: base64 HMAC-SHA256 of the raw body, constant-time, plus the required headers,
 * with the official library's verdicts), and answers 401 on any signature failure, compliance
 * routes included.
 * Handling is a few store reads and one transaction: jobs are delivered later by the worker.
 */

export const webhookTopics = {
  ordersPaid: 'ORDERS_PAID',
  ordersCancelled: 'ORDERS_CANCELLED',
  refundsCreate: 'REFUNDS_CREATE',
  appUninstalled: 'APP_UNINSTALLED',
  customersDataRequest: 'CUSTOMERS_DATA_REQUEST',
  customersRedact: 'CUSTOMERS_REDACT',
  shopRedact: 'SHOP_REDACT',
} as const;

/** Paths under the app's origin, as declared in shopify.app.toml. */
export const webhookPaths = {
  ordersPaid: '/webhooks/orders/paid',
  ordersCancelled: '/webhooks/orders/cancelled',
  refundsCreate: '/webhooks/refunds/create',
  appUninstalled: '/webhooks/app/uninstalled',
  compliance: '/webhooks/compliance',
} as const;

export interface WebhookDeps {
  readonly verify: ShopifyWebhookVerifier;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sessions: SessionRemover;
  /** Deleted with a merchant on shop/redact (the agency API's tokens and audit log). */
  readonly access?: Pick<AccessStore, 'deleteMerchantAccess'>;
}

type ValidWebhook = Extract<ShopifyWebhookVerdict, { valid: true }>;

interface Delivery {
  readonly webhook: ValidWebhook;
  readonly body: unknown;
  readonly receipt: WebhookReceipt | undefined;
  readonly shop: StoreConnection | undefined;
}

type Handler = (delivery: Delivery, res: Response) => Promise<void>;

/** Shopify's duplicate deliveries share the event id (and a retry its webhook id). */
function dedupeKey(webhook: ValidWebhook): string {
  return webhook.eventId ? `${webhook.topic}:event:${webhook.eventId}` : `${webhook.topic}:webhook:${webhook.webhookId}`;
}

function answerIntake(res: Response, outcome: IntakeOutcome): void {
  res.status(200).json(outcome.kind === 'duplicate_webhook' ? { ok: true, duplicate: true } : { ok: true, jobs: outcome.inserted });
}

export function createWebhookRouter(deps: WebhookDeps): Router {
  const { store, clock } = deps;
  const logger = deps.logger.child({ component: 'shopify-webhooks' });
  const intakeDeps = { store, clock, logger };
  const privacyDeps = { store, clock, logger, sessions: deps.sessions, access: deps.access };
  const router = express.Router();

  const route = (path: string, topics: readonly string[], handler: Handler): void => {
    // the raw body of this route only; any content type, because the HMAC covers the bytes as sent
    router.post(path, express.raw({ type: () => true, limit: '2mb' }), async (req: Request, res: Response) => {
      const started = performance.now();
      const rawBody: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const webhook = deps.verify(rawBody, req.headers);
      if (!webhook.valid) {
        const status = webhook.reason === 'missing_headers' ? 400 : 401;
        logger.warn({ path, reason: webhook.reason }, 'webhook refused');
        res.status(status).json({ error: `webhook refused: ${webhook.reason}` });
        return;
      }
      if (!topics.includes(webhook.topic)) {
        logger.error({ path, topic: webhook.topic }, 'webhook topic not served by this route (check shopify.app.toml)');
        res.status(400).json({ error: `topic ${webhook.topic} is not handled at ${path}` });
        return;
      }
      const body = parseJsonLossless(rawBody.toString('utf8'));
      if (!body.ok) {
        logger.error({ path, topic: webhook.topic, reason: body.reason }, 'webhook body not readable');
        res.status(400).json({ error: body.reason });
        return;
      }
      const shop = await store.findStoreByDomain(webhook.domain.toLowerCase());
      const receipt = shop ? { storeId: shop.id, webhookId: dedupeKey(webhook) } : undefined;
      await handler({ webhook, body: body.value, receipt, shop }, res);
      logger.debug({ topic: webhook.topic, shop: webhook.domain, ms: Math.round(performance.now() - started) }, 'webhook answered');
    });
  };

  const activeShop = (d: Delivery, res: Response): d is Delivery & { shop: StoreConnection; receipt: WebhookReceipt } => {
    if (d.shop && d.receipt && d.shop.platform === 'shopify' && d.shop.status === 'active') return true;
    logger.info({ topic: d.webhook.topic, shop: d.webhook.domain, status: d.shop?.status ?? 'unknown' }, 'webhook for a shop that is not active: ignored');
    res.status(200).json({ ok: true, ignored: 'shop not active' });
    return false;
  };

  const orderHandler: Handler = async (d, res) => {
    if (!activeShop(d, res)) return;
    const facts = orderFactsFromPayload(d.body);
    if (!facts.ok) {
      // Shopify would retry the same body forever: record it as unattributed, with the reason, and answer 200
      logger.error({ shop: d.shop.domain, topic: d.webhook.topic, reason: facts.reason }, 'order payload not understood');
      const rawId = typeof d.body === 'object' && d.body !== null && 'id' in d.body ? d.body.id : undefined;
      const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId).slice(0, 64) : `unknown:${d.webhook.webhookId}`;
      await store.enqueue({
        jobs: [],
        webhook: d.receipt,
        unattributed: { storeId: d.shop.id, orderId: id, orderNumber: id, reason: facts.reason, at: clock.now() },
        now: clock.now(),
      });
      res.status(200).json({ ok: true, unreadable: true });
      return;
    }
    const via = d.webhook.topic === webhookTopics.ordersPaid ? 'orders/paid' : 'orders/cancelled';
    answerIntake(res, await takeOrder(intakeDeps, { shop: d.shop, facts: facts.value, webhook: d.receipt, via }));
  };

  route(webhookPaths.ordersPaid, [webhookTopics.ordersPaid], orderHandler);
  route(webhookPaths.ordersCancelled, [webhookTopics.ordersCancelled], orderHandler);

  route(webhookPaths.refundsCreate, [webhookTopics.refundsCreate], async (d, res) => {
    if (!activeShop(d, res)) return;
    const facts = refundFactsFromPayload(d.body);
    if (!facts.ok) {
      logger.error({ shop: d.shop.domain, reason: facts.reason }, 'refund payload not understood');
      await store.enqueue({ jobs: [], webhook: d.receipt, now: clock.now() });
      res.status(200).json({ ok: true, unreadable: true });
      return;
    }
    answerIntake(res, await takeRefund(intakeDeps, { shop: d.shop, facts: facts.value, webhook: d.receipt }));
  });

  route(webhookPaths.appUninstalled, [webhookTopics.appUninstalled], async (d, res) => {
    if (!d.shop) {
      await deps.sessions.removeSessions(d.webhook.domain);
      res.status(200).json({ ok: true, ignored: 'unknown shop' });
      return;
    }
    const result = await uninstallShop(privacyDeps, d.shop);
    res.status(200).json({ ok: true, ...result });
  });

  route(
    webhookPaths.compliance,
    [webhookTopics.customersDataRequest, webhookTopics.customersRedact, webhookTopics.shopRedact],
    async (d, res) => {
      if (!d.shop) {
        // nothing was ever stored for a shop Clickthread does not know
        res.status(200).json({ ok: true, nothing: 'unknown shop' });
        return;
      }
      switch (d.webhook.topic) {
        case webhookTopics.customersDataRequest: {
          const summary = await answerDataRequest(privacyDeps, d.shop, d.body);
          if (!summary.ok) {
            logger.error({ shop: d.shop.domain, reason: summary.reason }, 'customers/data_request not understood');
            res.status(400).json({ error: summary.reason });
            return;
          }
          res.status(200).json({ ok: true, data: summary.value });
          return;
        }
        case webhookTopics.customersRedact: {
          const done = await redactCustomer(privacyDeps, d.shop, d.body);
          if (!done.ok) {
            logger.error({ shop: d.shop.domain, reason: done.reason }, 'customers/redact not understood');
            res.status(400).json({ error: done.reason });
            return;
          }
          res.status(200).json({ ok: true, ...done.value });
          return;
        }
        default: {
          const done = await redactShop(privacyDeps, d.shop);
          res.status(200).json({ ok: true, ...done });
        }
      }
    },
  );

  return router;
}
