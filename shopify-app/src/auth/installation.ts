import type { Clock, Logger } from '@clickthread/core';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import { reconcileCursorSetting } from '../reconcile/reconciler.ts';

/**
 * A Shopify shop in Clickthread's store: one merchant per shop (an agency can re-parent it later) and
 * one store connection whose id is derived from the myshopify domain, so every path (webhook, proxy,
 * reconciliation, worker) finds the same record without a lookup table.
 */

export function shopifyStoreId(shop: string): string {
  return `shopify:${shop.toLowerCase()}`;
}

export function merchantIdForShop(shop: string): string {
  return `shopify-${shop.toLowerCase().replace(/\.myshopify\.com$/, '')}`;
}

/**
 * Called after OAuth or token exchange: the shop is (again) active; its merchant and domain exist.
 * Token exchange runs it again whenever a session is missing or expired, so for a shop that is
 * already active it changes nothing: its reconciliation cursor (and the rest of its settings) stay
 * as they are, or orders whose webhooks were lost before that moment would never be reconciled.
 */
export async function installShop(deps: { store: Store; clock: Clock; logger: Logger }, shop: string): Promise<StoreConnection> {
  const { store, clock, logger } = deps;
  const now = clock.now();
  const domain = shop.toLowerCase();
  const existing = await store.getStore(shopifyStoreId(domain));
  // a reinstall keeps the merchant the shop was attached to (an agency may have moved it)
  const merchantId = existing?.merchantId ?? merchantIdForShop(domain);
  await store.createMerchant({ id: merchantId, name: domain.replace(/\.myshopify\.com$/, ''), now });
  const connection =
    existing?.status === 'active'
      ? existing
      : await store.upsertStore({
          id: shopifyStoreId(domain),
          merchantId,
          platform: 'shopify',
          domain,
          status: 'active',
          // reconciliation starts at the installation: orders from before it (or from while the app
          // was uninstalled) were never Clickthread's to report
          settings: { ...existing?.settings, [reconcileCursorSetting]: now.toISOString() },
          secrets: null,
          now,
        });
  const added = await store.addDomain(merchantId, domain);
  if (!added.ok) logger.warn({ shop: domain, reason: added.reason }, 'shop domain not added to its merchant');
  if (connection !== existing) logger.info({ shop: domain, merchantId, reinstall: existing !== undefined }, 'shop installed');
  return connection;
}
