import { randomBytes, randomInt } from 'node:crypto';
import { err, ok, type Clock, type Logger, type Result } from '@clickthread/core';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import type { SecretBox } from '../config/secret-box.ts';
import { createWooClient, type WooApiFailure, type WooClient } from '../rest/woo-client.ts';
import { checkStoreUrlNow, resolveStoreHost, storeHostname, type StoreNetworkPolicy } from '../rest/store-address-guard.ts';
import type { WooRestApiFactory } from '../rest/woo-rest-api.ts';
import { ensureWebhooks, type WebhookSyncSummary } from './ensure-webhooks.ts';
import {
  normalizeStoreUrl,
  openWooSecrets,
  readWooConnection,
  sealWooSecrets,
  wooSettingsSchema,
  type WooConnection,
  type WooSettings,
} from './woo-connection.ts';

/**
 * Connecting, listing and removing WooCommerce stores. Used by the bridge's CLI and API; the
 * consumer secret is sealed before it is stored and never appears in a result or a log line.
 */

export interface ConnectStoreInput {
  readonly url: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly merchantId: string;
  /** Order meta keys that hold a transaction ID (checked first in the chain); kept when omitted. */
  readonly idMetaKeys?: readonly string[];
  /** `created_via` values treated as test orders; kept when omitted (default ["admin"]). */
  readonly testSources?: readonly string[];
}

export interface ConnectStoreResult {
  readonly connection: WooConnection;
  /** False when the store was connected before (same domain, same merchant): nothing duplicated. */
  readonly created: boolean;
  readonly deliveryUrl: string;
  readonly webhooks: WebhookSyncSummary;
}

export interface ConnectionSummary {
  readonly id: string;
  readonly merchantId: string;
  readonly domain: string;
  readonly storeUrl: string;
  readonly status: StoreConnection['status'];
  readonly webhookIds: Readonly<Record<string, number>>;
  readonly reconcileCursor: string | null;
  readonly pendingOrders: number;
  readonly lastReconcile: WooSettings['lastReconcile'];
}

export interface ConnectionServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly secretBox: SecretBox;
  readonly wooApiFactory: WooRestApiFactory;
  /** The bridge's public URL without a trailing slash. */
  readonly publicUrl: string;
  readonly allowHttpStores: boolean;
  /** Which addresses a store URL may resolve to (core's SSRF guard; loopback/private only for local stores and tests). */
  readonly storeNetwork: StoreNetworkPolicy;
  readonly restTimeoutMs: number;
  /** Id and secret generators; tests may fix them. */
  readonly newConnectionId?: () => string;
  readonly newWebhookSecret?: () => string;
}

export interface ConnectionService {
  connectStore(input: ConnectStoreInput): Promise<Result<ConnectStoreResult>>;
  listConnections(merchantId?: string): Promise<ConnectionSummary[]>;
  /** Deletes the bridge's webhooks in Woo, then the connection; `force` removes it even when Woo cannot be reached. */
  removeConnection(id: string, options?: { force?: boolean }): Promise<Result<{ webhooksDeleted: number; warnings: string[] }>>;
  getConnection(id: string): Promise<Result<WooConnection>>;
  /** The REST client for a stored connection. */
  clientFor(connection: WooConnection): Result<WooClient>;
  deliveryUrlOf(connectionId: string): string;
}

const alphanumeric = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Woo mangles secrets with `&`, quotes or `;` (wp_specialchars_decode): only letters and digits. */
export function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphanumeric[randomInt(alphanumeric.length)];
  return out;
}

function summarize(c: WooConnection, pendingOrders: number): ConnectionSummary {
  return {
    id: c.id,
    merchantId: c.merchantId,
    domain: c.domain,
    storeUrl: c.settings.storeUrl,
    status: c.status,
    webhookIds: c.settings.webhookIds,
    reconcileCursor: c.settings.reconcileCursor,
    pendingOrders,
    lastReconcile: c.settings.lastReconcile,
  };
}

/**
 * Reconciliation of a new connection starts a little before the connect: an order paid while the
 * webhooks were being created is still seen.
 */
const initialCursorLookbackMs = 10 * 60_000;

const defaultConnectionId = (): string => `wc_${randomBytes(10).toString('hex')}`;

/** Woo's GMT date format for `modified_after` with `dates_are_gmt`. */
export function toWooGmt(date: Date): string {
  return date.toISOString().slice(0, 19);
}

export function describeFailure(failure: WooApiFailure): string {
  switch (failure.kind) {
    case 'unauthorized':
      return `WooCommerce refused the consumer key/secret (${failure.message})`;
    case 'forbidden':
      return `the consumer key lacks permission; it needs Read/Write access (${failure.message})`;
    case 'not_found':
      return `the WooCommerce REST API was not found at this URL: is WooCommerce active and are permalinks enabled? (${failure.message})`;
    default:
      return `WooCommerce ${failure.status === null ? 'could not be reached' : `answered HTTP ${failure.status}`}: ${failure.message}`;
  }
}

export function createConnectionService(deps: ConnectionServiceDeps): ConnectionService {
  const { store, clock, logger, secretBox } = deps;
  const log = logger.child({ component: 'woo-connections' });
  const newConnectionId = deps.newConnectionId ?? defaultConnectionId;
  const newWebhookSecret = deps.newWebhookSecret ?? (() => randomAlphanumeric(40));
  const deliveryUrlOf = (connectionId: string): string => `${deps.publicUrl}/webhooks/woocommerce/${connectionId}`;

  const clientWith = (url: string, consumerKey: string, consumerSecret: string): WooClient =>
    createWooClient(deps.wooApiFactory({ url, consumerKey, consumerSecret, timeoutMs: deps.restTimeoutMs, network: deps.storeNetwork }));

  const clientFor = (connection: WooConnection): Result<WooClient> => {
    const secrets = openWooSecrets(secretBox, connection.stored);
    if (!secrets.ok) return secrets;
    return ok(clientWith(connection.settings.storeUrl, secrets.value.consumerKey, secrets.value.consumerSecret));
  };


  return {
    deliveryUrlOf,
    clientFor,

    async getConnection(id) {
      const stored = await store.getStore(id);
      if (!stored) return err(`no connection with id ${id}`);
      return readWooConnection(stored);
    },

    async connectStore(input) {
      const url = normalizeStoreUrl(input.url, { allowHttp: deps.allowHttpStores });
      if (!url.ok) return url;
      // said before anything is stored or sent; the client checks again at every connection
      const target = checkStoreUrlNow(url.value.url, deps.storeNetwork.ssrf);
      const addresses = target.ok ? await resolveStoreHost(storeHostname(target.value), deps.storeNetwork) : target;
      if (!addresses.ok) return err(`the store URL is refused: ${addresses.reason}`);
      if (input.consumerKey.trim() === '' || input.consumerSecret.trim() === '') return err('the consumer key and secret are required');
      const merchant = await store.getMerchant(input.merchantId);
      if (!merchant) return err(`no merchant with id ${input.merchantId}`);

      const existingRow = await store.findStoreByDomain(url.value.domain);
      let existing: WooConnection | undefined;
      if (existingRow) {
        if (existingRow.platform !== 'woocommerce') return err(`${url.value.domain} is already connected as a ${existingRow.platform} store`);
        if (existingRow.merchantId !== input.merchantId) return err(`${url.value.domain} is already connected to another merchant`);
        const read = readWooConnection(existingRow);
        if (read.ok) existing = read.value;
      }

      const client = clientWith(url.value.url, input.consumerKey.trim(), input.consumerSecret.trim());
      const access = await client.checkAccess();
      if (!access.ok) return err(describeFailure(access.reason));

      const hostname = new URL(url.value.url).hostname;
      const domainAdded = await store.addDomain(input.merchantId, hostname);
      if (!domainAdded.ok) return err(domainAdded.reason);

      const id = existingRow?.id ?? newConnectionId();
      const oldSecrets = existingRow ? openWooSecrets(secretBox, existingRow) : undefined;
      const webhookSecret = oldSecrets?.ok ? oldSecrets.value.webhookSecret : newWebhookSecret();
      // what connect decides; every other key (the cursor, the last runs) is a running bridge's, and stays
      const connectKeys = {
        storeUrl: url.value.url,
        ...(input.idMetaKeys === undefined ? {} : { idMetaKeys: [...input.idMetaKeys] }),
        ...(input.testSources === undefined ? {} : { testSources: [...input.testSources] }),
      };
      const secrets = sealWooSecrets(secretBox, id, { consumerKey: input.consumerKey.trim(), consumerSecret: input.consumerSecret.trim(), webhookSecret });
      const row = (settings: Readonly<Record<string, unknown>>) => ({ id, merchantId: input.merchantId, platform: 'woocommerce' as const, domain: url.value.domain, status: 'active' as const, settings, secrets });

      // Stored before the webhooks exist: Woo may deliver the moment a hook is created.
      if (existing) {
        // upsertStore writes the whole row (status and secrets have no other way in): the settings
        // are read again right before it and connect's own keys patched in after, so what a running
        // bridge wrote meanwhile is kept
        const fresh = await store.getStore(id);
        await store.upsertStore({ ...row(fresh?.settings ?? existing.stored.settings), now: clock.now() });
        await store.patchStoreSettings(id, connectKeys, clock.now());
      } else {
        // a new connection, or one whose settings could not be read: they start again
        const now = clock.now();
        const settings: WooSettings = wooSettingsSchema.parse({ ...connectKeys, reconcileCursor: toWooGmt(new Date(now.getTime() - initialCursorLookbackMs)) });
        await store.upsertStore({ ...row(settings), now });
      }
      const deliveryUrl = deliveryUrlOf(id);
      const synced = await ensureWebhooks(client, {
        deliveryUrl,
        secret: webhookSecret,
        // a new secret (first connect, or the old one unreadable) must reach hooks that already exist
        pushSecret: !oldSecrets?.ok,
        name: 'Clickthread',
      });
      if (!synced.ok) {
        log.warn({ connectionId: id, topic: synced.reason.topic, kind: synced.reason.kind, status: synced.reason.status }, 'webhook setup failed');
        return err(`the store is saved as ${id} but its webhooks could not be set up (${synced.reason.topic ?? 'listing'}): ${describeFailure(synced.reason)}; run connect again`);
      }
      const saved = await store.patchStoreSettings(id, { webhookIds: synced.value.ids }, clock.now());
      if (!saved) return err(`the connection ${id} was removed while it was being connected`);
      const connection = readWooConnection(saved);
      if (!connection.ok) return connection;
      log.info(
        { connectionId: id, merchantId: input.merchantId, domain: url.value.domain, created: !existingRow, webhooks: synced.value },
        existingRow ? 'woocommerce store reconnected' : 'woocommerce store connected',
      );
      return ok({ connection: connection.value, created: !existingRow, deliveryUrl, webhooks: synced.value });
    },

    async listConnections(merchantId) {
      const rows = await store.listStores(merchantId);
      const out: ConnectionSummary[] = [];
      for (const row of rows) {
        if (row.platform !== 'woocommerce') continue;
        const c = readWooConnection(row);
        if (c.ok) out.push(summarize(c.value, await store.countPendingOrders(c.value.id)));
        else log.warn({ connectionId: row.id, reason: c.reason }, 'stored connection is unreadable');
      }
      return out;
    },

    async removeConnection(id, options = {}) {
      const stored = await store.getStore(id);
      if (!stored) return err(`no connection with id ${id}`);
      const connection = readWooConnection(stored);
      if (!connection.ok) return connection;
      const warnings: string[] = [];
      let webhooksDeleted = 0;
      const client = clientFor(connection.value);
      if (client.ok) {
        const listed = await client.value.listWebhooks();
        if (listed.ok) {
          const url = deliveryUrlOf(id);
          for (const hook of listed.value.filter((h) => h.delivery_url.replace(/\/+$/, '') === url)) {
            const removed = await client.value.deleteWebhook(hook.id);
            if (removed.ok) webhooksDeleted += 1;
            else warnings.push(`webhook ${hook.id} (${hook.topic}) not deleted: ${describeFailure(removed.reason)}`);
          }
        } else {
          warnings.push(`webhooks not listed: ${describeFailure(listed.reason)}`);
        }
      } else {
        warnings.push(client.reason);
      }
      if (warnings.length > 0 && options.force !== true) {
        return err(`the store's webhooks could not all be removed (${warnings.join('; ')}); use --force to remove the connection anyway`);
      }
      await store.deleteStore(id);
      log.info({ connectionId: id, webhooksDeleted, warnings }, 'woocommerce connection removed');
      return ok({ webhooksDeleted, warnings });
    },
  };
}
