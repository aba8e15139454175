import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { captureParamsOf, checkTransactionId, datedReportedClick, decideCapture, InvariantError, type Clock, type Logger, type Offer } from '@clickthread/core';
import type { Capture, CaptureKind, Store } from '@clickthread/core/storage';
import { z } from 'zod';
import { verifyAppProxySignature, type AppProxyRequest } from './app-proxy-signature.ts';

/**
 * The app proxy route the capture script posts to (`/apps/clickthread/capture` on the shop's own
 * origin, forwarded by Shopify with a signed query): cart token → ID, so an order whose cart
 * attribute was lost (accelerated checkout, a theme that rewrites the cart) still finds its click;
 * visitor token → ID for Markets domains; logged-in customer → ID.
 */

const token = z
  .string()
  .min(1)
  .max(256)
  .refine((v) => checkTransactionId(v).ok, 'contains characters a token cannot have');

const captureBodySchema = z
  .strictObject({
    cartToken: token.optional(),
    id: z.string().max(256),
    p: z.string().regex(/^[A-Za-z0-9_.\-[\]]{1,64}$/, 'must be a URL parameter name'),
    t: z.string().max(40).refine((t) => !Number.isNaN(new Date(t).getTime()), 'must be an ISO 8601 time'),
    vid: token.optional(),
    x: z.record(z.string().regex(/^[A-Za-z0-9_.\-[\]]{1,64}$/), z.string().max(256)).default({}),
  })
  .refine((b) => b.cartToken !== undefined || b.vid !== undefined, 'needs cartToken or vid');

export type CaptureBody = z.output<typeof captureBodySchema>;

const hostPattern = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** The merchant's capture rules: the longest window, first click only when every offer says so (as the script does). */
function captureRules(offers: readonly Offer[]): { model: 'last_click' | 'first_click'; windowDays: number } {
  const enabled = offers.filter((o) => o.enabled);
  if (enabled.length === 0) return { model: 'last_click', windowDays: 30 };
  return {
    model: enabled.every((o) => o.attribution.model === 'first_click') ? 'first_click' : 'last_click',
    windowDays: Math.max(...enabled.map((o) => o.attribution.windowDays)),
  };
}

/**
 * The shopper behind a proxied request: Express's req.ip, the address the last trusted hop saw
 * (CLICKTHREAD_TRUST_PROXY). Shopify's proxy appends the shopper's address to X-Forwarded-For, so
 * with every hop in front of the app trusted (Shopify's proxy, and a load balancer if there is one)
 * that is the shopper, an address the shopper cannot choose.
 */
function shopperKey(req: Request, proxied: AppProxyRequest): string {
  return `${proxied.shop}|${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`;
}

interface ProxyLocals {
  proxied?: AppProxyRequest;
}

export function createCaptureRouter(deps: { store: Store; clock: Clock; logger: Logger; apiSecret: string; perShopperPerMinute: number }): Router {
  const { store, clock, logger, apiSecret } = deps;
  const router = express.Router();

  const verify = (req: Request, res: Response, next: NextFunction): void => {
    const rawQuery = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    const signed = verifyAppProxySignature(rawQuery, apiSecret, clock.now());
    if (!signed.ok) {
      logger.warn({ reason: signed.reason, path: req.path }, 'app proxy request refused');
      res.status(401).json({ error: `app proxy signature refused: ${signed.reason}` });
      return;
    }
    (res.locals as ProxyLocals).proxied = signed.value;
    next();
  };

  // Anyone can make Shopify sign a request to the shop's /apps/clickthread/capture: the signature says
  // where it came through, not who wrote the body. A budget per shopper keeps one from filling the maps.
  const limit = rateLimit({
    windowMs: 60_000,
    limit: deps.perShopperPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req: Request, res: Response) => {
      const proxied = (res.locals as ProxyLocals).proxied;
      return proxied ? shopperKey(req, proxied) : 'unverified';
    },
    handler: (_req: Request, res: Response) => {
      res.status(429).json({ error: 'too many captures from this shopper; try again in a minute' });
    },
  });

  router.post('/capture', verify, limit, express.text({ type: () => true, limit: '8kb' }), async (req: Request, res: Response) => {
    const now = clock.now();
    const proxied = (res.locals as ProxyLocals).proxied;
    if (!proxied) throw new InvariantError('capture handler reached without a verified app proxy request');
    const shop = await store.findStoreByDomain(proxied.shop);
    if (!shop || shop.platform !== 'shopify' || shop.status !== 'active') {
      res.status(404).json({ error: 'this shop has no active Clickthread installation' });
      return;
    }

    let json: unknown;
    try {
      json = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      res.status(400).json({ error: 'body must be JSON' });
      return;
    }
    const parsed = captureBodySchema.safeParse(json);
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
      return;
    }
    const body = parsed.data;
    const id = checkTransactionId(body.id);
    if (!id.ok) {
      res.status(400).json({ error: `id: ${id.reason}` });
      return;
    }
    const reportedAt = new Date(body.t);
    if (reportedAt.getTime() > now.getTime() + 5 * 60_000) {
      res.status(400).json({ error: 't: is in the future' });
      return;
    }

    const offers = await store.listOffers(shop.merchantId);
    if (!offers.some((o) => captureParamsOf(o).includes(body.p))) {
      // the script only reads the parameters it was configured with; anything else is not ours to keep
      res.status(422).json({ error: `p: "${body.p}" is not a parameter of this shop's offers` });
      return;
    }
    const rules = captureRules(offers);
    // dated as the bridge dates its reports: a replayed or hand-made old report is no older than a day
    const dated = datedReportedClick(reportedAt, now, rules.windowDays);
    if (!dated.ok) {
      res.status(422).json({ error: dated.reason === 'expired' ? 't: the click is older than the offers\' attribution window' : 't: must be an ISO 8601 time' });
      return;
    }
    const capturedAt = dated.value;
    const forwardedHost = String(req.headers['x-forwarded-host'] ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
    const domain = hostPattern.test(forwardedHost) ? forwardedHost : null;
    const extras = Object.fromEntries(Object.entries(body.x).filter(([, v]) => checkTransactionId(v).ok));

    const keys: Array<[CaptureKind, string]> = [];
    if (body.cartToken) keys.push(['cart_token', body.cartToken]);
    if (body.vid) keys.push(['visitor', body.vid]);
    if (proxied.loggedInCustomerId) keys.push(['customer', proxied.loggedInCustomerId]);
    const stored: string[] = [];
    for (const [kind, key] of keys) {
      // every key this route stores came through this shop's storefront: shop/redact takes them along
      const capture: Capture = { merchantId: shop.merchantId, kind, key, transactionId: id.value, param: body.p, extras, capturedAt, domain, storeId: shop.id };
      const existing = await store.getCapture(shop.merchantId, kind, key);
      const decision = decideCapture(
        existing ? { value: existing.transactionId, capturedAt: existing.capturedAt } : undefined,
        { value: id.value, capturedAt },
        rules,
        now,
      );
      if (decision === 'replace' && (await store.putCapture(capture, { replace: true }))) stored.push(kind);
    }
    logger.info({ shop: shop.domain, stored, param: body.p }, 'storefront capture');
    res.status(200).json({ ok: true, stored });
  });
  return router;
}
