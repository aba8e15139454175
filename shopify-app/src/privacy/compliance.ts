import { collectCustomerData, customerDataCounts, type CustomerData } from '@clickthread/admin';
import { err, ok, type Clock, type Logger, type Result } from '@clickthread/core';
import type { AccessStore } from '@clickthread/core/access';
import type { Store, StoreConnection } from '@clickthread/core/storage';
import { z } from 'zod';
import { shopifyId } from '../orders/shopify-payload.ts';

/**
 * Shopify's mandatory compliance webhooks and app/uninstalled. What Clickthread holds about a buyer
 * is pseudonymous but personal: the click IDs registered for their cart, visitor token and customer
 * id, the visitor token linked to their orders, and the postbacks sent for those orders.
 */

/** The outcome of the postbacks an uninstall cancels (PostbackJob.lastOutcome). */
export const uninstalledOutcome = 'shop uninstalled';

export interface SessionRemover {
  /** Deletes every Shopify session (access token) of the shop. */
  removeSessions(shop: string): Promise<number>;
}

export interface PrivacyDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sessions: SessionRemover;
  /** The agency API's tokens and audit log; a merchant that goes takes them along. */
  readonly access?: Pick<AccessStore, 'deleteMerchantAccess'> | undefined;
}

const customerPayloadSchema = z.looseObject({
  shop_domain: z.string().optional(),
  customer: z.looseObject({ id: shopifyId }).nullish(),
  orders_requested: z.array(shopifyId).nullish(),
  orders_to_redact: z.array(shopifyId).nullish(),
  data_request: z.looseObject({ id: shopifyId }).nullish(),
});

function readCustomerPayload(body: unknown): Result<{ customerId?: string; orderIds: string[]; requestId?: string }> {
  const parsed = customerPayloadSchema.safeParse(body);
  if (!parsed.success) return err(parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  const p = parsed.data;
  return ok({
    ...(p.customer ? { customerId: p.customer.id } : {}),
    orderIds: [...new Set([...(p.orders_requested ?? []), ...(p.orders_to_redact ?? [])])],
    ...(p.data_request ? { requestId: p.data_request.id } : {}),
  });
}

/** The answer to customers/data_request: what the agency API's customer-data route answers the merchant. */
export interface CustomerDataSummary extends CustomerData {
  readonly shop: string;
  readonly dataRequestId: string | null;
}

/**
 * customers/data_request: everything stored about that customer and the orders named, as one summary.
 * Shopify leaves answering the buyer to the merchant, who reads the same summary through the agency
 * API (GET /api/v1/merchants/:merchantId/stores/:storeId/customer-data, also from the embedded admin's
 * session). The log records that a request came and how much it concerns, never what.
 */
export async function answerDataRequest(deps: PrivacyDeps, shop: StoreConnection, body: unknown): Promise<Result<CustomerDataSummary>> {
  const payload = readCustomerPayload(body);
  if (!payload.ok) return payload;
  const { customerId, orderIds, requestId } = payload.value;
  const data = await collectCustomerData(deps.store, shop, { customerId, orderIds });
  deps.logger.info(
    {
      shop: shop.domain,
      dataRequestId: requestId ?? null,
      ...customerDataCounts(data),
      answer: `/api/v1/merchants/${encodeURIComponent(shop.merchantId)}/stores/${encodeURIComponent(shop.id)}/customer-data`,
    },
    'customers/data_request answered from stored data',
  );
  return ok({ shop: shop.domain, dataRequestId: requestId ?? null, ...data });
}

/** customers/redact: the customer's captures, the visitor captures of the orders named, and those orders' links. */
export async function redactCustomer(deps: PrivacyDeps, shop: StoreConnection, body: unknown): Promise<Result<{ capturesDeleted: number; orderLinksDeleted: number }>> {
  const payload = readCustomerPayload(body);
  if (!payload.ok) return payload;
  const { store } = deps;
  const { customerId, orderIds } = payload.value;
  let capturesDeleted = 0;
  if (customerId !== undefined) capturesDeleted += await store.deleteCaptures(shop.merchantId, 'customer', [customerId]);
  const visitorTokens: string[] = [];
  for (const orderId of orderIds) {
    const link = await store.getOrderLink(shop.id, orderId);
    if (link) visitorTokens.push(link.visitorToken);
  }
  if (visitorTokens.length > 0) capturesDeleted += await store.deleteCaptures(shop.merchantId, 'visitor', visitorTokens);
  // the links go after the captures they led to: a retry after a failure in between still finds them
  const orderLinksDeleted = await store.deleteOrderLinks(shop.id, orderIds);
  // cart-token registrations are deleted when their order is handled (see order intake)
  deps.logger.info({ shop: shop.domain, orders: orderIds.length, capturesDeleted, orderLinksDeleted }, 'customers/redact done');
  return ok({ capturesDeleted, orderLinksDeleted });
}

/**
 * app/uninstalled: the shop stops (no webhook is handled, no write-back, no reconciliation, no
 * postback not already on its way) and its tokens go.
 */
export async function uninstallShop(deps: PrivacyDeps, shop: StoreConnection): Promise<{ sessionsRemoved: number; postbacksCancelled: number }> {
  const now = deps.clock.now();
  await deps.store.upsertStore({
    id: shop.id,
    merchantId: shop.merchantId,
    platform: shop.platform,
    domain: shop.domain,
    status: 'uninstalled',
    settings: shop.settings,
    secrets: null,
    now,
  });
  // after the status: no webhook of the shop stores a job once this runs; a send already started finishes
  const postbacksCancelled = await deps.store.cancelPendingJobs({ storeId: shop.id, reason: uninstalledOutcome, now });
  const sessionsRemoved = await deps.sessions.removeSessions(shop.domain);
  deps.logger.info({ shop: shop.domain, sessionsRemoved, postbacksCancelled }, 'app uninstalled: shop stopped');
  return { sessionsRemoved, postbacksCancelled };
}

/**
 * shop/redact (48 hours after uninstall): the shop's data goes. The merchant goes with it unless it
 * still owns another store (an agency may have attached a WooCommerce site to the same merchant),
 * and with the merchant its API tokens and offer audit log. An uninstall alone keeps all of it, as
 * Shopify's model has it: the merchant may reinstall until shop/redact arrives.
 */
export async function redactShop(deps: PrivacyDeps, shop: StoreConnection): Promise<{ merchantDeleted: boolean; capturesDeleted: number }> {
  const { store } = deps;
  await deps.sessions.removeSessions(shop.domain);
  const others = (await store.listStores(shop.merchantId)).filter((s) => s.id !== shop.id);
  // captures are the merchant's (one click serves all its domains), but those this shop reported —
  // its cart tokens, its customer ids, clicks on its storefront — are the shop's data and go with it
  const capturesDeleted = await store.deleteStoreCaptures(shop.merchantId, shop.id);
  await store.deleteStore(shop.id);
  const merchantDeleted = others.length === 0;
  if (merchantDeleted) {
    await store.deleteMerchant(shop.merchantId);
    await deps.access?.deleteMerchantAccess(shop.merchantId);
  }
  deps.logger.info({ shop: shop.domain, merchantDeleted, capturesDeleted }, 'shop/redact done');
  return { merchantDeleted, capturesDeleted };
}
