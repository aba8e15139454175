import type { ConnectionHealth, ConnectionsAdapter } from '@clickthread/admin';
import { err, ok, type Clock } from '@clickthread/core';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import { describeFailure, type ConnectionService } from '../connections/connection-service.ts';
import { readWooConnection, wooWebhookTopics } from '../connections/woo-connection.ts';

/**
 * What the agency API needs of the bridge's connections: connecting a store (the same path as
 * `connections add`: keys checked with a real call, webhooks created), removing one (webhooks
 * deleted in Woo first), its health for the Connections screen, and the snippet to paste.
 */

export interface BridgeConnectionsAdapterDeps {
  readonly connections: ConnectionService;
  /** Counts the orders waiting for their order-received link. */
  readonly store: Pick<Store, 'countPendingOrders'>;
  readonly clock: Clock;
  /** The bridge's public URL without a trailing slash (capture.js is served from it). */
  readonly publicUrl: string;
}

const escapeAttribute = (value: string): string => value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The tag a merchant pastes into the theme (every page, or at least landing and order-received pages). */
export function captureSnippet(publicUrl: string, merchantId: string): string {
  return `<script src="${escapeAttribute(`${publicUrl}/capture.js?m=${encodeURIComponent(merchantId)}`)}" async></script>`;
}

export function createBridgeConnectionsAdapter(deps: BridgeConnectionsAdapterDeps): ConnectionsAdapter {
  const { connections, clock } = deps;

  async function describe(stored: StoreConnection): Promise<ConnectionHealth> {
    if (stored.platform !== 'woocommerce') return {};
    const read = readWooConnection(stored);
    if (!read.ok) return { warnings: [read.reason] };
    const connection = read.value;
    const settings = connection.settings;
    const warnings: string[] = [];
    const now = clock.now();

    const last = settings.lastReconcile;
    const lastAt = last === null ? null : new Date(last.at);
    const lagSeconds = lastAt === null || Number.isNaN(lastAt.getTime()) ? null : Math.max(0, Math.round((now.getTime() - lastAt.getTime()) / 1000));
    if (last?.error) warnings.push(`the last reconciliation failed: ${last.error}`);
    if (connection.status !== 'active') warnings.push(`the connection is ${connection.status}: webhooks are refused and nothing is reconciled`);

    // Woo's own view of the webhooks: it disables one after repeated failed deliveries
    let webhooks: Array<{ topic: string; id: string; status: string }> = [];
    const client = connections.clientFor(connection);
    if (!client.ok) {
      warnings.push(client.reason);
    } else {
      const listed = await client.value.listWebhooks();
      if (!listed.ok) {
        warnings.push(`the webhooks could not be read from WooCommerce: ${describeFailure(listed.reason)}`);
      } else {
        const deliveryUrl = connections.deliveryUrlOf(connection.id);
        const ours = listed.value.filter((h) => h.delivery_url.replace(/\/+$/, '') === deliveryUrl);
        webhooks = ours.map((h) => ({ topic: h.topic, id: String(h.id), status: h.status }));
        for (const topic of wooWebhookTopics) {
          const hooks = ours.filter((h) => h.topic === topic);
          if (hooks.length === 0) warnings.push(`webhook ${topic} is missing (the next reconciliation recreates it)`);
          else if (!hooks.some((h) => h.status === 'active')) warnings.push(`webhook ${topic} is ${hooks[0]?.status ?? 'inactive'} (the next reconciliation re-enables it)`);
        }
      }
    }

    return {
      lastDeliveryAt: settings.lastWebhookAt,
      webhooks,
      reconcileLagSeconds: lagSeconds,
      lastReconcileAt: last?.at ?? null,
      pendingOrders: await deps.store.countPendingOrders(connection.id),
      warnings,
    };
  }

  return {
    async connect(merchantId, input) {
      const connected = await connections.connectStore({ ...input, merchantId });
      return connected.ok ? ok({ storeId: connected.value.connection.id, created: connected.value.created }) : connected;
    },
    async remove(stored, { force }) {
      // one store serves both apps: a Shopify shop leaves by uninstalling the app, never from here
      if (stored.platform !== 'woocommerce') return err(`${stored.domain} is a ${stored.platform} store: remove it from ${stored.platform}, not from the bridge`);
      const removed = await connections.removeConnection(stored.id, { force });
      return removed.ok ? ok({ warnings: removed.value.warnings }) : removed;
    },
    describe,
    snippet: (stored) => (stored.platform === 'woocommerce' ? captureSnippet(deps.publicUrl, stored.merchantId) : undefined),
  };
}
