import type { Clock, Logger, Result } from '@clickthread/core';
import type { AccessStore } from '@clickthread/core/access';
import type { SsrfPolicy, Transport } from '@clickthread/core/delivery';
import type { Store, StoreConnection } from '@clickthread/core/storage';

/** A WooCommerce store to connect, as the API accepts it (validated before the bridge sees it). */
export interface ConnectStoreRequest {
  readonly url: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly idMetaKeys?: readonly string[];
  readonly testSources?: readonly string[];
}

/** Webhook health and what else an app knows about one of its connections, for the Connections screen. */
export interface ConnectionHealth {
  /** When the platform last delivered a webhook (ISO 8601), if known. */
  readonly lastDeliveryAt?: string | null;
  /** The app's webhooks on the platform and their state. */
  readonly webhooks?: ReadonlyArray<{ readonly topic: string; readonly id: string; readonly status: string }>;
  /** How far the reconciliation lags behind now, in seconds (null: never ran). */
  readonly reconcileLagSeconds?: number | null;
  readonly lastReconcileAt?: string | null;
  readonly pendingOrders?: number;
  /** Problems the merchant should act on ("webhook order.updated is disabled"). */
  readonly warnings?: readonly string[];
}

/**
 * What an app plugs in for its connections. The bridge connects WooCommerce stores (checking the
 * keys and creating webhooks), describes their webhook health, and gives the snippet to paste; the
 * Shopify app needs none of it (its stores come from OAuth installs).
 */
export interface ConnectionsAdapter {
  connect?(merchantId: string, input: ConnectStoreRequest): Promise<Result<{ readonly storeId: string; readonly created: boolean }>>;
  /** Removes a connection (the bridge deletes its webhooks first); default: the Store forgets it. */
  remove?(store: StoreConnection, options: { readonly force: boolean }): Promise<Result<{ readonly warnings: readonly string[] }>>;
  describe?(store: StoreConnection): Promise<ConnectionHealth>;
  /** The HTML to paste into the shop's theme, when the platform needs one. */
  snippet?(store: StoreConnection): string | undefined;
}

export interface ApiDeps {
  readonly store: Store;
  readonly access: AccessStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Sends test-fires (the delivery engine's transport, with its SSRF guard); test-fire answers 501 without it. */
  readonly transport: Transport | undefined;
  readonly testFireTimeoutMs: number;
  /** The policy the transport enforces (named in a test-fire's redirect note). */
  readonly ssrf: SsrfPolicy;
  /** Ends the worker's pause after a replay or a queued test-fire, so it goes out at once. */
  readonly wakeWorker: (() => void) | undefined;
  readonly connections: ConnectionsAdapter;
}
