import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bearerTokenOf, type Authenticate } from '@clickthread/admin';
import type { Logger } from '@clickthread/core';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import type { ShopifyApp } from '@shopify/shopify-app-express';
import { shopifyStoreId } from '../auth/installation.ts';

/**
 * The embedded admin calls /api/v1 with App Bridge's session token (an HS256 JWT signed with the
 * client secret, `dest` = the shop, `aud` = the client id). Two parts:
 *
 * - `middleware`, in front of the API router: a request whose bearer token is a valid session token
 *   goes through the framework's validateAuthenticatedSession, which makes sure the shop has an
 *   offline session (token exchange on first use, which runs afterAuth and installs the shop: with
 *   Shopify-managed installation nothing else ever does). Any other bearer (API tokens, the operator
 *   token) passes untouched, so the API's own authenticator decides.
 * - `authenticate`, the API's app authenticator: the merchant of the shop the verified token names.
 *
 * The middleware records what it verified per request; the authenticator trusts nothing else.
 */

export interface SessionTokenAuth {
  readonly middleware: RequestHandler;
  readonly authenticate: Authenticate;
}

export interface SessionTokenAuthDeps {
  readonly shopify: ShopifyApp;
  readonly store: Store;
  readonly logger: Logger;
  /** Records a shop that has a valid offline session but no store record (as /api/status does). */
  readonly installShop: (shop: string) => Promise<StoreConnection>;
}

interface VerifiedSession {
  readonly shop: string;
  readonly user: string;
}

export function createSessionTokenAuth(deps: SessionTokenAuthDeps): SessionTokenAuth {
  const { shopify, store } = deps;
  const log = deps.logger.child({ component: 'shopify-session-auth' });
  const verified = new WeakMap<Request, VerifiedSession>();
  const validateSession = shopify.validateAuthenticatedSession();

  const middleware: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const token = bearerTokenOf(req);
    // API tokens are ct_…; they never go near the JWT check or token exchange
    if (token === undefined || token.startsWith('ct_')) {
      next();
      return;
    }
    shopify.api.session.decodeSessionToken(token).then(
      (payload) => {
        let shop: string | null = null;
        try {
          shop = shopify.api.utils.sanitizeShop(new URL(payload.dest).hostname);
        } catch {
          shop = null;
        }
        if (shop === null) {
          log.warn({ dest: payload.dest }, 'session token names no shop: refused');
          next();
          return;
        }
        const session: VerifiedSession = { shop, user: String(payload.sub ?? '') };
        // the framework answers itself when the shop's session cannot be made (401 with App Bridge's retry header)
        validateSession(req, res, (error?: unknown) => {
          if (error !== undefined) {
            next(error);
            return;
          }
          verified.set(req, session);
          next();
        });
      },
      // not a session token of this app (another app's, expired, or the operator token): the API decides
      () => next(),
    );
  };

  const authenticate: Authenticate = async (req) => {
    const session = verified.get(req);
    if (!session) return undefined;
    const shop = (await store.getStore(shopifyStoreId(session.shop))) ?? (await deps.installShop(session.shop));
    if (shop.platform !== 'shopify' || shop.status !== 'active') return undefined;
    return {
      scope: { kind: 'merchant', merchantId: shop.merchantId },
      actor: `shopify:${session.shop}${session.user === '' ? '' : `/${session.user}`}`,
      rateKey: `shop:${session.shop}`,
    };
  };

  return { middleware, authenticate };
}
