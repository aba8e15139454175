import { createHash, timingSafeEqual } from 'node:crypto';
import { captureParamsOf, checkTransactionId, datedReportedClick, decideCapture, type Clock, type Logger, type Offer } from '@clickthread/core';
import type { Store } from '@clickthread/core/storage';
import { captureScriptConfigFor, captureScriptFor } from '@clickthread/core/storefront';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { ConnectionService } from '../connections/connection-service.ts';
import { readWooConnection, type WooConnection } from '../connections/woo-connection.ts';
import type { BridgeMetrics } from '../http/bridge-metrics.ts';
import type { OrderProcessor } from '../orders/process-order.ts';
import type { WooOrder } from '../orders/woo-order.ts';
import { captureReportSchema, type ClickReport, type OrderReport } from './capture-payload.ts';

/**
 * The storefront side of the bridge:
 * - `GET /capture.js?m=<merchant>`: core's capture script with the merchant's config in front;
 * - `POST /capture`: the script's reports. A click stores visitor → ID for the merchant (not the
 *   domain, so an order on a sibling domain finds it); an order report links order → visitor once
 *   the order key is confirmed over the REST API, then runs the order through the conversion path.
 * The script posts `text/plain` JSON in `no-cors` mode (no preflight); the browser's `Origin` must
 * be one of the merchant's domains. Reports are rate-limited per IP.
 */

export interface CaptureRouteDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: BridgeMetrics;
  readonly connections: ConnectionService;
  readonly processor: OrderProcessor;
  readonly publicUrl: string;
  readonly rateLimitPerMinute: number;
}

const merchantIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const maxConnectionsTried = 10;

function originHost(req: Request): { host: string; hostname: string } | undefined {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return undefined;
  try {
    const url = new URL(origin);
    return { host: url.host.toLowerCase(), hostname: url.hostname.toLowerCase() };
  } catch {
    return undefined;
  }
}

/** Only once the origin is known to be one of the merchant's domains: a foreign origin never sees it echoed. */
function allowCors(req: Request, res: Response): void {
  if (req.headers.origin !== undefined) res.set('Access-Control-Allow-Origin', req.headers.origin);
}

const hostnameOf = (domain: string): string => domain.replace(/:\d+$/, '').toLowerCase();
const hostnamePattern = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function sameSecret(a: string, b: string): boolean {
  // hashing first gives equal lengths, so the comparison time says nothing about the key
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function createCaptureRouter(deps: CaptureRouteDeps): Router {
  const { store, clock, metrics, connections, processor } = deps;
  const log = deps.logger.child({ route: 'capture' });
  const router = express.Router();
  const endpoint = `${deps.publicUrl}/capture`;

  router.get('/capture.js', async (req: Request, res: Response) => {
    const merchantId = typeof req.query['m'] === 'string' ? req.query['m'] : '';
    res.type('application/javascript; charset=utf-8').set('X-Content-Type-Options', 'nosniff').set('Cross-Origin-Resource-Policy', 'cross-origin');
    if (!merchantIdPattern.test(merchantId)) {
      res.status(400).send('/* clickthread: ?m=<merchant id> is required */\n');
      return;
    }
    const merchant = await store.getMerchant(merchantId);
    if (!merchant) {
      res.status(404).set('Cache-Control', 'no-store').send('/* clickthread: unknown merchant */\n');
      return;
    }
    const [offers, domains] = await Promise.all([store.listOffers(merchantId), store.listDomains(merchantId)]);
    // host names only (the script config refuses ports and IPv6 literals): one odd domain must not cost the script
    const siblingDomains = [...new Set(domains.map(hostnameOf))].filter((d) => hostnamePattern.test(d));
    const config = captureScriptConfigFor(offers, { platform: 'woocommerce', endpoint, merchant: merchantId, siblingDomains, consent: 'none' });
    // Short public caching: offers change rarely, and a stale config only delays a new parameter name.
    res.set('Cache-Control', 'public, max-age=300, stale-while-revalidate=3600');
    if (!config.ok) {
      log.warn({ merchantId, problems: config.reason }, 'capture.js served without a script: config invalid');
      res.status(200).send(`/* clickthread: nothing to capture (${config.reason.join('; ').replace(/\*\//g, '* /')}) */\n`);
      return;
    }
    res.status(200).send(captureScriptFor(config.value));
  });

  const limiter = rateLimit({
    windowMs: 60_000,
    limit: deps.rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res) => {
      metrics.captures.inc({ type: 'any', outcome: 'rate_limited' });
      log.warn({ ip: req.ip }, 'capture reports rate-limited');
      res.status(429).json({ error: 'rate_limited' });
    },
  });

  router.options('/capture', async (req: Request, res: Response) => {
    const origin = originHost(req);
    const merchant = origin ? ((await store.findMerchantByDomain(origin.host)) ?? (await store.findMerchantByDomain(origin.hostname))) : undefined;
    res.vary('Origin');
    if (!merchant) {
      res.status(403).end();
      return;
    }
    allowCors(req, res);
    res.set('Access-Control-Allow-Methods', 'POST').set('Access-Control-Allow-Headers', 'Content-Type').set('Access-Control-Max-Age', '600').status(204).end();
  });

  const refuse = (res: Response, status: number, type: string, error: string, detail: Record<string, unknown> = {}): void => {
    metrics.captures.inc({ type, outcome: error });
    log.info({ ...detail, error }, 'capture report refused');
    res.status(status).json({ error });
  };

  /**
   * The merchant's Woo connection whose storefront a report came from (Capture.storeId); none for
   * a domain of the merchant's that is no connected store (a landing site): the capture is the
   * merchant's alone.
   */
  async function connectionServing(merchantId: string, domain: string): Promise<string | undefined> {
    const connected = (await store.listStores(merchantId)).filter((r) => r.platform === 'woocommerce');
    const exact = connected.find((r) => r.domain.toLowerCase() === domain.toLowerCase());
    return (exact ?? connected.find((r) => hostnameOf(r.domain) === hostnameOf(domain)))?.id;
  }

  async function recordClick(report: ClickReport, offers: readonly Offer[], res: Response): Promise<void> {
    const offer = offers.find((o) => captureParamsOf(o).includes(report.p));
    if (!offer) return refuse(res, 422, 'click', 'parameter_not_captured', { merchantId: report.merchant, param: report.p });
    const now = clock.now();
    // a browser clock running ahead dates the click now; a report sent long after its click (a
    // replay) is dated no earlier than a day ago — the rule the Shopify app proxy applies too
    const dated = datedReportedClick(new Date(report.t), now, offer.attribution.windowDays);
    if (!dated.ok) return refuse(res, 422, 'click', dated.reason === 'expired' ? 'click_expired' : 'invalid_time', { merchantId: report.merchant });
    const effectiveAt = dated.value;
    const keep = new Set(offers.flatMap((o) => o.extraParams));
    const extras = Object.fromEntries(Object.entries(report.x).filter(([k, v]) => keep.has(k) && checkTransactionId(v).ok));
    const existing = await store.getCapture(report.merchant, 'visitor', report.vid);
    const decision = decideCapture(
      existing ? { value: existing.transactionId, capturedAt: existing.capturedAt } : undefined,
      { value: report.id, capturedAt: effectiveAt },
      offer.attribution,
      now,
    );
    if (decision === 'replace') {
      const storeId = await connectionServing(report.merchant, report.domain);
      await store.putCapture(
        {
          merchantId: report.merchant,
          kind: 'visitor',
          key: report.vid,
          transactionId: report.id,
          param: report.p,
          extras,
          capturedAt: effectiveAt,
          domain: report.domain,
          ...(storeId === undefined ? {} : { storeId }),
        },
        { replace: true },
      );
    }
    metrics.captures.inc({ type: 'click', outcome: decision === 'replace' ? 'stored' : 'kept_existing' });
    log.info({ merchantId: report.merchant, param: report.p, domain: report.domain, decision }, 'click captured');
    res.status(204).end();
  }

  async function linkOrder(report: OrderReport, res: Response): Promise<void> {
    const rows = (await store.listStores(report.merchant)).filter((r) => r.platform === 'woocommerce' && r.status === 'active');
    const candidates = rows
      .map((r) => readWooConnection(r))
      .flatMap((r) => (r.ok ? [r.value] : []))
      .toSorted((a, b) => Number(hostnameOf(b.domain) === hostnameOf(report.domain)) - Number(hostnameOf(a.domain) === hostnameOf(report.domain)))
      .slice(0, maxConnectionsTried);
    let found: { connection: WooConnection; order: WooOrder } | undefined;
    let unreachable = 0;
    for (const connection of candidates) {
      const client = connections.clientFor(connection);
      if (!client.ok) {
        unreachable += 1;
        continue;
      }
      const order = await client.value.getOrder(report.orderId);
      if (!order.ok) {
        if (order.reason.kind !== 'not_found') {
          unreachable += 1;
          log.warn({ connectionId: connection.id, orderId: report.orderId, kind: order.reason.kind, status: order.reason.status }, 'order key check: order not read');
        }
        continue;
      }
      if (sameSecret(order.value.order_key, report.orderKey)) {
        found = { connection, order: order.value };
        break;
      }
    }
    if (!found) {
      // a wrong key and a missing order answer the same, so order keys cannot be probed
      if (unreachable > 0) return refuse(res, 503, 'order', 'store_unreachable', { merchantId: report.merchant, orderId: report.orderId });
      return refuse(res, 404, 'order', 'order_not_found', { merchantId: report.merchant, orderId: report.orderId });
    }
    const linked = await store.linkOrder({ storeId: found.connection.id, orderId: report.orderId, visitorToken: report.vid, linkedAt: clock.now() });
    metrics.captures.inc({ type: 'order', outcome: linked ? 'linked' : 'already_linked' });
    log.info({ connectionId: found.connection.id, orderId: report.orderId, linked }, 'order linked to visitor');
    const fresh = await connections.getConnection(found.connection.id);
    await processor.process({ connection: fresh.ok ? fresh.value : found.connection, order: found.order, trigger: 'link' });
    res.status(204).end();
  }

  router.post(
    '/capture',
    limiter,
    express.json({ limit: '4kb', type: ['application/json', 'text/plain'] }),
    async (req: Request, res: Response) => {
      // the answer depends on the Origin: caches must not hand one origin's answer to another
      res.vary('Origin');
      const parsed = captureReportSchema.safeParse(req.body);
      if (!parsed.success) {
        return refuse(res, 400, 'any', 'invalid_report', { problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`) });
      }
      const report = parsed.data;
      const merchant = await store.getMerchant(report.merchant);
      if (!merchant) return refuse(res, 404, report.type, 'unknown_merchant', { merchantId: report.merchant });
      const domains = new Set((await store.listDomains(report.merchant)).map((d) => d.toLowerCase()));
      const isOwn = (host: string, hostname: string) => domains.has(host) || domains.has(hostname);
      const origin = originHost(req);
      if (!origin || !isOwn(origin.host, origin.hostname)) {
        return refuse(res, 403, report.type, 'origin_not_allowed', { merchantId: report.merchant, origin: req.headers.origin ?? null });
      }
      allowCors(req, res);
      if (!isOwn(report.domain, hostnameOf(report.domain))) {
        return refuse(res, 403, report.type, 'domain_not_allowed', { merchantId: report.merchant, domain: report.domain });
      }
      if (report.type === 'click') return recordClick(report, (await store.listOffers(report.merchant)).filter((o) => o.enabled), res);
      return linkOrder(report, res);
    },
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : undefined;
      if (type === 'entity.too.large') return refuse(res, 413, 'any', 'too_large');
      if (type === 'entity.parse.failed') return refuse(res, 400, 'any', 'malformed_json');
      if (type !== undefined) return refuse(res, 400, 'any', 'unreadable_body', { parserError: String(type) });
      log.error({ err: error }, 'capture report failed');
      if (res.headersSent) return next(error);
      res.status(500).json({ error: 'internal_error' });
    },
  );

  return router;
}
