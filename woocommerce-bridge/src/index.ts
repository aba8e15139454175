// @clickthread/woocommerce-bridge: the WooCommerce webhook bridge.
export { createBridge, type Bridge, type BridgeAdminOptions, type CreateBridgeOptions } from './create-bridge.ts';
export { createBridgeConnectionsAdapter, captureSnippet, type BridgeConnectionsAdapterDeps } from './admin/connections-adapter.ts';
export { startBridge, openBridgeStore, type RunningBridge, type StartBridgeOptions } from './start-bridge.ts';
export { loadBridgeConfig, noAdminTokenNotice, type BridgeConfig, type LoadConfigOptions } from './config/bridge-config.ts';
export { createSecretBox, parseSecretKey, type SecretBox } from './config/secret-box.ts';
export {
  createConnectionService,
  randomAlphanumeric,
  type ConnectionService,
  type ConnectStoreInput,
  type ConnectStoreResult,
  type ConnectionSummary,
} from './connections/connection-service.ts';
export { wooWebhookTopics, normalizeStoreUrl, sealWooSecrets, type WooConnection, type WooSettings, type WooWebhookTopic } from './connections/woo-connection.ts';
export { createBridgeMetrics, counterValue, type BridgeMetrics } from './http/bridge-metrics.ts';
export { mapWooOrder, isPaid, type WooOrderContext } from './orders/map-order.ts';
export { resolveIdChain, sessionEntryMetaKey, type IdChain, type IdChainInput } from './orders/resolve-id.ts';
export { wooOrderSchema, type WooOrder } from './orders/woo-order.ts';
export type { OrderProcessor, ProcessOutcome, ProcessTrigger } from './orders/process-order.ts';
export type { Reconciler, ReconcileReport, ReconcileProgress } from './reconcile/reconciler.ts';
export { createWooClient, type WooClient, type WooApiFailure, type WooWebhook } from './rest/woo-client.ts';
export { guardedLookup, blockedAddressCode, type StoreNetworkPolicy } from './rest/store-address-guard.ts';
export { defaultWooRestApiFactory, type WooRestApi, type WooRestApiFactory, type WooRestApiOptions, type WooRestResponse } from './rest/woo-rest-api.ts';
export { signWooBody, verifyWooSignature } from './webhooks/verify-signature.ts';
export { lastWebhookWriteIntervalMs } from './webhooks/webhook-route.ts';
export { noteFor, isTestFire, createWriteBack, transactionIdMetaKey, type WriteBack, type WriteBackDeps } from './write-back/write-back.ts';
