// @clickthread/shopify-app: the Shopify app's composition root and what other packages (the
// combined `pnpm start`, the admin, end-to-end tests) use of it.
export { createShopifyApp, type CreateShopifyAppOptions, type ShopifyAdminOptions, type ShopifyAppHandle } from './app/create-shopify-app.ts';
export { createSessionTokenAuth, type SessionTokenAuth, type SessionTokenAuthDeps } from './admin/session-token-auth.ts';
export { loadShopifyConfig, type ShopifyConfig } from './config/shopify-config.ts';
export { createAdminGraphql, type AdminGraphql, type GraphqlFetch, type OfflineAccess } from './admin-api/admin-graphql.ts';
export { installShop, shopifyStoreId, merchantIdForShop } from './auth/installation.ts';
export { createSessionStorage, type ClosableSessionStorage } from './auth/session-storage.ts';
export { webhookPaths, webhookTopics } from './webhooks/webhook-routes.ts';
export { createShopifyWebhookVerifier, topicForStorage, type ShopifyWebhookVerdict, type ShopifyWebhookVerifier } from './webhooks/verify-webhook.ts';
export { parseJsonLossless } from './shared/parse-json.ts';
export { verifyAppProxySignature, signAppProxyQuery, appProxyMessage, type AppProxyRequest, type AppProxyRejection } from './proxy/app-proxy-signature.ts';
export { orderFactsFromPayload, type ShopifyOrderFacts } from './orders/order-facts.ts';
export { resolveIdChain, parseCaptureAttribute, captureAttributeName, type IdChainResult } from './orders/resolve-id-chain.ts';
export { takeOrder, type IntakeOutcome } from './orders/order-intake.ts';
export { createReconciler, reconcileCursorSetting, type Reconciler, type ShopReconcileReport } from './reconcile/reconciler.ts';
export { eventTag, orderTagChange, orderTagsMutation, createOrderTagger, orderGid, type SettledPostback, type OrderTagChange, type EventOutcome } from './write-back/order-tags.ts';
