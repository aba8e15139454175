import type { Merchant, Store, StoreConnection } from '@clickthread/core/storage';

/**
 * Who is calling. An operator (the admin token from configuration) sees every merchant; an agency
 * sees the merchants whose agencyId is its id; a merchant sees itself. Nothing else exists, so a
 * resource outside the principal's reach is answered 404, exactly like one that does not exist.
 */
export type PrincipalScope =
  | { readonly kind: 'operator' }
  | { readonly kind: 'agency'; readonly agencyId: string }
  | { readonly kind: 'merchant'; readonly merchantId: string };

export interface Principal {
  readonly scope: PrincipalScope;
  /** Who, for the audit log: "operator", "token:<prefix>", "shopify:<shop>"… */
  readonly actor: string;
  /** What rate limits count against: a token prefix, a shop, never the secret. */
  readonly rateKey: string;
}

/** The merchant if the principal may see it (and it exists), else undefined. */
export async function visibleMerchant(store: Store, principal: Principal, merchantId: string): Promise<Merchant | undefined> {
  const scope = principal.scope;
  if (scope.kind === 'merchant' && scope.merchantId !== merchantId) return undefined;
  const merchant = await store.getMerchant(merchantId);
  if (!merchant) return undefined;
  if (scope.kind === 'agency' && merchant.agencyId !== scope.agencyId) return undefined;
  return merchant;
}

/** The merchant's store if the principal may see the merchant and the store is that merchant's, else undefined. */
export async function visibleStore(store: Store, principal: Principal, merchantId: string, storeId: string): Promise<StoreConnection | undefined> {
  const merchant = await visibleMerchant(store, principal, merchantId);
  const found = merchant && (await store.getStore(storeId));
  return found && found.merchantId === merchant.id ? found : undefined;
}

/** The merchants the principal may see. */
export async function visibleMerchants(store: Store, principal: Principal): Promise<Merchant[]> {
  const scope = principal.scope;
  if (scope.kind === 'operator') return store.listMerchants();
  if (scope.kind === 'agency') return store.listMerchants({ agencyId: scope.agencyId });
  const merchant = await store.getMerchant(scope.merchantId);
  return merchant ? [merchant] : [];
}
