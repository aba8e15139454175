import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Clock, Logger } from '@clickthread/core';
import type { AccessStore } from '@clickthread/core/access';
import type { SsrfPolicy, Transport } from '@clickthread/core/delivery';
import type { Store } from '@clickthread/core/storage';
import type { ApiDeps, ConnectionsAdapter } from './api-deps.ts';
import { errorBody } from './api-reply.ts';
import type { ApiRoute } from './api-route.ts';
import { createTokenAuthenticator, type Authenticate } from './authenticate.ts';
import type { Principal } from './principal.ts';
import { offerRoutes } from './routes/offer-routes.ts';
import { overviewRoutes } from './routes/overview-routes.ts';
import { postbackRoutes } from './routes/postback-routes.ts';
import { previewRoutes } from './routes/preview-routes.ts';
import { storeRoutes } from './routes/store-routes.ts';
import { tenantRoutes } from './routes/tenant-routes.ts';
import { testFireRoutes } from './routes/test-fire-routes.ts';

/**
 * The agency API, mounted at /api/v1 by both apps. Every request is authenticated (API token,
 * operator token, or the app's own authenticator such as Shopify session tokens), rate limited
 * per token, validated with zod, and answered in JSON; another tenant's resource is a 404.
 */

export interface RateLimitOptions {
  readonly windowMs: number;
  readonly limit: number;
}

export interface ApiRouterOptions {
  readonly store: Store;
  readonly access: AccessStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The delivery engine's transport for direct test-fires (its SSRF guard applies); without it they answer 501. */
  readonly transport?: Transport | undefined;
  /** The policy the transport was built with (default: private targets refused). */
  readonly ssrf?: SsrfPolicy | undefined;
  readonly testFireTimeoutMs?: number | undefined;
  /** The app's own authentication, tried before API tokens (the Shopify app's session tokens). */
  readonly authenticate?: Authenticate | undefined;
  /** The operator token from configuration; sees every merchant. */
  readonly operatorToken?: string | undefined;
  readonly connections?: ConnectionsAdapter | undefined;
  /** Wakes the delivery worker after a replay or a queued test-fire. */
  readonly wakeWorker?: (() => void) | undefined;
  /** Requests per token per window (default 600 a minute). */
  readonly rateLimit?: RateLimitOptions | undefined;
  /** Refused (401) requests per client IP per window (default 100 per 15 minutes). */
  readonly failedAuthLimit?: RateLimitOptions | undefined;
  /** Largest JSON body (default 2 MB: an import of a few hundred offers). */
  readonly bodyLimit?: string | undefined;
}

/** Every route of the API, in registration order; the OpenAPI document is generated from this list. */
export function apiRoutes(): ApiRoute[] {
  return [...tenantRoutes(), ...storeRoutes(), ...previewRoutes(), ...offerRoutes(), ...testFireRoutes(), ...postbackRoutes(), ...overviewRoutes()];
}

function register(router: Router, route: ApiRoute, handler: (req: Request, res: Response) => Promise<void>): void {
  switch (route.method) {
    case 'get':
      router.get(route.path, handler);
      return;
    case 'post':
      router.post(route.path, handler);
      return;
    case 'put':
      router.put(route.path, handler);
      return;
    case 'delete':
      router.delete(route.path, handler);
      return;
  }
}

interface BodyParserError {
  readonly type: string;
  readonly status: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string' && 'status' in error && typeof error.status === 'number';
}

export function createApiRouter(options: ApiRouterOptions): Router {
  const deps: ApiDeps = {
    store: options.store,
    access: options.access,
    clock: options.clock,
    logger: options.logger.child({ component: 'admin-api' }),
    transport: options.transport,
    ssrf: options.ssrf ?? { allowPrivate: false },
    testFireTimeoutMs: options.testFireTimeoutMs ?? 10_000,
    connections: options.connections ?? {},
    wakeWorker: options.wakeWorker,
  };
  const log = deps.logger;
  const tokens = createTokenAuthenticator({ store: options.store, access: options.access, clock: options.clock, logger: log, operatorToken: options.operatorToken });
  const authenticators: Authenticate[] = options.authenticate ? [options.authenticate, tokens] : [tokens];
  const principals = new WeakMap<Request, Principal>();
  const router = express.Router();

  // refused requests count per IP: tokens are unguessable, but nobody gets to hammer the lookup
  const failed = options.failedAuthLimit ?? { windowMs: 15 * 60_000, limit: 100 };
  router.use(
    rateLimit({
      windowMs: failed.windowMs,
      limit: failed.limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      skipSuccessfulRequests: true,
      requestWasSuccessful: (_req, res) => res.statusCode !== 401,
      handler: (_req, res) => {
        res.status(429).json(errorBody('rate_limited', 'too many refused requests from this address; try again later'));
      },
    }),
  );

  router.use(express.json({ limit: options.bodyLimit ?? '2mb' }));

  router.use(async (req, res, next) => {
    for (const authenticate of authenticators) {
      const principal = await authenticate(req);
      if (!principal) continue;
      // a session for a merchant that no longer exists is no session
      if (principal.scope.kind === 'merchant' && !(await options.store.getMerchant(principal.scope.merchantId))) break;
      principals.set(req, principal);
      next();
      return;
    }
    const presented = req.get('authorization') !== undefined;
    res
      .status(401)
      .set('www-authenticate', 'Bearer')
      .json(errorBody('unauthorized', presented ? 'the token is invalid, revoked, or its merchant or agency was deleted' : 'send Authorization: Bearer <token>'));
  });

  const perToken = options.rateLimit ?? { windowMs: 60_000, limit: 600 };
  router.use(
    rateLimit({
      windowMs: perToken.windowMs,
      limit: perToken.limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => principals.get(req)?.rateKey ?? 'unknown',
      handler: (_req, res) => {
        res.status(429).json(errorBody('rate_limited', 'too many requests for this token; slow down'));
      },
    }),
  );

  for (const route of apiRoutes()) {
    register(router, route, async (req, res) => {
      const principal = principals.get(req);
      if (!principal) {
        res.status(401).json(errorBody('unauthorized', 'send Authorization: Bearer <token>'));
        return;
      }
      const reply = await route.run(principal, req, deps);
      res.status(reply.status);
      if (reply.body === undefined) res.end();
      else res.json(reply.body);
    });
  }

  router.use((req, res) => {
    res.status(404).json(errorBody('not_found', `no route ${req.method} ${req.baseUrl}${req.path}`));
  });

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (isBodyParserError(error)) {
      if (error.type === 'entity.parse.failed') {
        res.status(400).json(errorBody('invalid_json', 'the body is not valid JSON', [{ path: 'body', message: 'is not valid JSON' }]));
        return;
      }
      if (error.type === 'entity.too.large') {
        res.status(413).json(errorBody('too_large', `the body is larger than ${options.bodyLimit ?? '2mb'}`));
        return;
      }
      if (error.status >= 400 && error.status < 500) {
        res.status(error.status).json(errorBody('bad_request', 'the body could not be read'));
        return;
      }
    }
    log.error({ err: error, method: req.method, path: `${req.baseUrl}${req.path}` }, 'admin API request failed');
    res.status(500).json(errorBody('internal', 'something went wrong on our side; it was logged'));
  });

  return router;
}
