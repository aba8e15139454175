import { z } from 'zod';
import type { StoreConnection } from '@clickthread/core/storage';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, type ApiRoute } from '../api-route.ts';
import { created, fail, noContent, notFound, ok } from '../api-reply.ts';
import { booleanQuery, merchantParams, storeParams } from '../api-schemas.ts';
import { collectCustomerData, customerDataCounts } from '../customer-data.ts';
import { visibleMerchant, visibleStore } from '../principal.ts';
import { storeView } from '../views.ts';

/**
 * Stores (Shopify shops, WooCommerce connections). Connecting a Woo store is the bridge's: it
 * plugs in `connections.connect`, which checks the keys with a real call and creates the webhooks;
 * without it the route answers 501.
 */

async function describedStore(deps: ApiDeps, store: StoreConnection) {
  let health = null;
  try {
    health = deps.connections.describe ? await deps.connections.describe(store) : null;
  } catch (err) {
    deps.logger.warn({ err, storeId: store.id }, 'could not describe the connection');
  }
  return { ...storeView(store), health, snippet: deps.connections.snippet?.(store) ?? null };
}

const metaKey = z.string().min(1).max(255);

const platformId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a platform id (1-64 letters, digits, _ . : -)');

const customerDataQuery = z
  .strictObject({
    customerId: platformId.optional(),
    /** Comma-separated, as Shopify's customers/data_request names them (orders_requested). */
    orderIds: z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === '' ? [] : [...new Set(v.split(',').map((id) => id.trim()))]))
      .pipe(z.array(platformId).max(250, 'names more than 250 orders')),
  })
  .refine((q) => q.customerId !== undefined || q.orderIds.length > 0, { message: 'name a customerId, orderIds, or both', path: ['customerId'] });

export function storeRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/stores',
      summary: 'The merchant\'s stores and connections, with webhook health where the app knows it',
      tag: 'stores',
      params: merchantParams,
      responses: { 200: 'Stores', 404: 'No such merchant' },
      async handle({ deps, principal, params }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const stores = await deps.store.listStores(merchant.id);
        return ok({ stores: await Promise.all(stores.map((s) => describedStore(deps, s))), canConnect: deps.connections.connect !== undefined });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/merchants/:merchantId/stores',
      summary: 'Connect a WooCommerce store (checks the REST keys, creates the webhooks; idempotent)',
      tag: 'stores',
      params: merchantParams,
      body: z.strictObject({
        platform: z.literal('woocommerce').default('woocommerce'),
        url: z.url({ protocol: /^https?$/, error: 'must be the store\'s http(s) URL' }).max(2048),
        consumerKey: z.string().regex(/^ck_[A-Za-z0-9]{8,64}$/, 'must be a WooCommerce consumer key (ck_…)'),
        consumerSecret: z.string().regex(/^cs_[A-Za-z0-9]{8,64}$/, 'must be a WooCommerce consumer secret (cs_…)'),
        idMetaKeys: z.array(metaKey).max(10).optional(),
        testSources: z.array(z.string().min(1).max(64)).max(10).optional(),
      }),
      responses: { 201: 'Connected', 200: 'Already connected: webhooks checked', 404: 'No such merchant', 422: 'WooCommerce refused or could not be reached', 501: 'This app connects no stores' },
      async handle({ deps, principal, params, body }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const connect = deps.connections.connect;
        if (!connect) return fail(501, 'not_supported', 'this app does not connect stores through the API');
        const result = await connect(merchant.id, {
          url: body.url,
          consumerKey: body.consumerKey,
          consumerSecret: body.consumerSecret,
          ...(body.idMetaKeys === undefined ? {} : { idMetaKeys: body.idMetaKeys }),
          ...(body.testSources === undefined ? {} : { testSources: body.testSources }),
        });
        if (!result.ok) return fail(422, 'connect_failed', result.reason);
        const store = await deps.store.getStore(result.value.storeId);
        if (!store) return fail(422, 'connect_failed', 'the connection was not stored');
        deps.logger.info({ merchantId: merchant.id, storeId: store.id, created: result.value.created, actor: principal.actor }, 'store connected');
        const view = { store: await describedStore(deps, store), created: result.value.created };
        return result.value.created ? created(view) : ok(view);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/stores/:storeId',
      summary: 'One store with its webhook health and snippet',
      tag: 'stores',
      params: storeParams,
      responses: { 200: 'The store', 404: 'No such merchant or store' },
      async handle({ deps, principal, params }) {
        const store = await visibleStore(deps.store, principal, params.merchantId, params.storeId);
        if (!store) return notFound('store');
        return ok({ store: await describedStore(deps, store) });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/stores/:storeId/customer-data',
      summary: 'What is stored about one buyer (customer id and/or orders): for a data subject access request such as Shopify\'s customers/data_request',
      tag: 'stores',
      params: storeParams,
      query: customerDataQuery,
      responses: { 200: 'The customer\'s click, and per order the linked visitor, its click and the postbacks sent', 404: 'No such merchant or store' },
      async handle({ deps, principal, params, query }) {
        const store = await visibleStore(deps.store, principal, params.merchantId, params.storeId);
        if (!store) return notFound('store');
        const data = await collectCustomerData(deps.store, store, { customerId: query.customerId, orderIds: query.orderIds });
        // who read personal data, and how much of it: never the data itself
        deps.logger.info({ merchantId: store.merchantId, storeId: store.id, actor: principal.actor, ...customerDataCounts(data) }, 'customer data read');
        return ok({ customerData: data });
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/merchants/:merchantId/stores/:storeId',
      summary: 'Disconnect a store (the bridge removes its webhooks first; force=true removes it even if the platform cannot be reached)',
      tag: 'stores',
      params: storeParams,
      query: z.strictObject({ force: booleanQuery.default(false) }),
      responses: { 204: 'Removed', 404: 'No such merchant or store', 502: 'The platform could not be reached; retry or use force=true' },
      async handle({ deps, principal, params, query }) {
        const store = await visibleStore(deps.store, principal, params.merchantId, params.storeId);
        if (!store) return notFound('store');
        if (deps.connections.remove) {
          const removed = await deps.connections.remove(store, { force: query.force });
          if (!removed.ok) return fail(502, 'remove_failed', removed.reason);
        } else {
          await deps.store.deleteStore(store.id);
        }
        deps.logger.info({ merchantId: store.merchantId, storeId: store.id, actor: principal.actor }, 'store removed');
        return noContent();
      },
    }),
  ];
}
