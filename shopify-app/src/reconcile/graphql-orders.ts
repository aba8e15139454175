import { compareDecimals, err, ok, parseDecimal, type MoneyPair, type OrderRefund, type Result } from '@clickthread/core';
import { z } from 'zod';
import { chooseAmounts, isPaidStatus, type MoneyFields, type ShopifyOrderFacts } from '../orders/order-facts.ts';
import { shopifyId } from '../orders/shopify-payload.ts';

/**
 * Recent orders through the GraphQL Admin API, mapped to the same facts a webhook body gives. The
 * query names only fields the ID chain and the amounts need; `cartToken` exists from API version
 * 2026-07 on, so it is asked for only there. `customer` is protected customer data: asking for it
 * without Shopify's approval fails the whole query (webhook bodies simply leave it out), so it is
 * asked for only when the operator says the app is approved (SHOPIFY_PROTECTED_CUSTOMER_DATA). Then
 * its `numberOfOrders` tells a first order (1: this one), which no webhook body says any more.
 */

export function recentOrdersQuery(apiVersion: string, options: { readonly customer?: boolean } = {}): string {
  const cartToken = apiVersion >= '2026-07' ? '\n      cartToken' : '';
  const customer = options.customer === true ? '\n      customer { legacyResourceId numberOfOrders }' : '';
  return `#graphql
query ClickthreadRecentOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId
      name
      createdAt
      updatedAt
      cancelledAt
      test
      sourceName
      displayFinancialStatus
      currencyCode
      presentmentCurrencyCode${cartToken}${customer}
      customAttributes { key value }
      discountCodes
      customerJourneySummary { firstVisit { landingPage } }
      subtotalPriceSet { ...ClickthreadMoney }
      totalPriceSet { ...ClickthreadMoney }
      totalTaxSet { ...ClickthreadMoney }
      totalDiscountsSet { ...ClickthreadMoney }
      totalShippingPriceSet { ...ClickthreadMoney }
      currentSubtotalPriceSet { ...ClickthreadMoney }
      currentTotalPriceSet { ...ClickthreadMoney }
      currentTotalTaxSet { ...ClickthreadMoney }
      currentTotalDiscountsSet { ...ClickthreadMoney }
      refunds(first: 50) { legacyResourceId createdAt totalRefundedSet { ...ClickthreadMoney } }
    }
  }
}
fragment ClickthreadMoney on MoneyBag {
  shopMoney { amount currencyCode }
  presentmentMoney { amount currencyCode }
}`;
}

const moneyV2 = z.looseObject({ amount: z.union([z.string(), z.number()]), currencyCode: z.string() });
const moneyBag = z.looseObject({ shopMoney: moneyV2, presentmentMoney: moneyV2 });

export const graphqlOrderSchema = z.looseObject({
  legacyResourceId: shopifyId,
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  cancelledAt: z.string().nullish(),
  test: z.boolean(),
  sourceName: z.string().nullish(),
  displayFinancialStatus: z.string().nullish(),
  currencyCode: z.string(),
  presentmentCurrencyCode: z.string().nullish(),
  cartToken: z.string().nullish(),
  customAttributes: z.array(z.looseObject({ key: z.string(), value: z.string().nullish() })).nullish(),
  discountCodes: z.array(z.string()).nullish(),
  customer: z.looseObject({ legacyResourceId: shopifyId, numberOfOrders: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).nullish() }).nullish(),
  customerJourneySummary: z
    .looseObject({
      firstVisit: z.looseObject({ landingPage: z.string().nullish() }).nullish(),
    })
    .nullish(),
  subtotalPriceSet: moneyBag.nullish(),
  totalPriceSet: moneyBag.nullish(),
  totalTaxSet: moneyBag.nullish(),
  totalDiscountsSet: moneyBag.nullish(),
  totalShippingPriceSet: moneyBag.nullish(),
  currentSubtotalPriceSet: moneyBag.nullish(),
  currentTotalPriceSet: moneyBag.nullish(),
  currentTotalTaxSet: moneyBag.nullish(),
  currentTotalDiscountsSet: moneyBag.nullish(),
  refunds: z.array(z.looseObject({ legacyResourceId: shopifyId, createdAt: z.string().nullish(), totalRefundedSet: moneyBag.nullish() })).nullish(),
});
export type GraphqlOrder = z.output<typeof graphqlOrderSchema>;

export const recentOrdersDataSchema = z.looseObject({
  orders: z.looseObject({
    pageInfo: z.looseObject({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
    nodes: z.array(z.unknown()),
  }),
});

function isoOf(value: string): string | undefined {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function orderFactsFromGraphql(node: unknown): Result<ShopifyOrderFacts & { readonly updatedAt: string }> {
  const parsed = graphqlOrderSchema.safeParse(node);
  if (!parsed.success) return err(`GraphQL order not understood: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const o = parsed.data;
  const problems: string[] = [];
  const pair = (bag: z.output<typeof moneyBag> | null | undefined, what: string): MoneyPair | undefined => {
    if (!bag) return undefined;
    const shop = parseDecimal(bag.shopMoney.amount);
    const presentment = parseDecimal(bag.presentmentMoney.amount);
    if (!shop.ok || !presentment.ok) {
      problems.push(`${what}: ${shop.ok ? '' : shop.reason} ${presentment.ok ? '' : presentment.reason}`.trim());
      return undefined;
    }
    return { shop: shop.value, presentment: presentment.value };
  };
  const original: MoneyFields = {
    subtotal: pair(o.subtotalPriceSet, 'subtotalPriceSet'),
    total: pair(o.totalPriceSet, 'totalPriceSet'),
    tax: pair(o.totalTaxSet, 'totalTaxSet'),
    discounts: pair(o.totalDiscountsSet, 'totalDiscountsSet'),
    shipping: pair(o.totalShippingPriceSet, 'totalShippingPriceSet'),
  };
  const current: MoneyFields = {
    subtotal: pair(o.currentSubtotalPriceSet, 'currentSubtotalPriceSet'),
    total: pair(o.currentTotalPriceSet, 'currentTotalPriceSet'),
    tax: pair(o.currentTotalTaxSet, 'currentTotalTaxSet'),
    discounts: pair(o.currentTotalDiscountsSet, 'currentTotalDiscountsSet'),
  };
  const refunds: OrderRefund[] = [];
  for (const r of o.refunds ?? []) {
    const amount = pair(r.totalRefundedSet, `refunds.${r.legacyResourceId}.totalRefundedSet`);
    if (!amount || (compareDecimals(amount.shop, '0') <= 0 && compareDecimals(amount.presentment, '0') <= 0)) continue;
    const createdAt = r.createdAt ? isoOf(r.createdAt) : undefined;
    refunds.push({ id: r.legacyResourceId, amount, ...(createdAt ? { createdAt } : {}) });
  }
  const amounts = chooseAmounts(original, current, refunds.length > 0);
  if (!amounts.ok) problems.push(amounts.reason);
  const createdAt = isoOf(o.createdAt);
  const updatedAt = isoOf(o.updatedAt);
  if (!createdAt) problems.push(`createdAt: "${o.createdAt}" is not a date`);
  if (!updatedAt) problems.push(`updatedAt: "${o.updatedAt}" is not a date`);
  if (problems.length > 0 || !amounts.ok || !createdAt || !updatedAt) return err(`order ${o.legacyResourceId}: ${problems.join('; ')}`);

  const status = (o.displayFinancialStatus ?? 'unknown').toLowerCase();
  // the webhook's landing_site is the landing page of the session the buyer entered the shop with,
  // which GraphQL calls the first visit; the last visit would let reconciliation credit another
  // click than the webhook for the same order
  const firstLanding = o.customerJourneySummary?.firstVisit?.landingPage;
  return ok({
    orderId: o.legacyResourceId,
    orderNumber: o.name,
    financialStatus: status,
    paid: isPaidStatus(status),
    cancelled: o.cancelledAt !== null && o.cancelledAt !== undefined,
    fullyRefunded: status === 'refunded',
    test: o.test,
    source: o.sourceName ?? 'unknown',
    currency: { shop: o.currencyCode, presentment: o.presentmentCurrencyCode ?? o.currencyCode },
    amounts: amounts.value,
    refunds,
    approximateRefunds: [],
    coupons: (o.discountCodes ?? []).filter((c) => c !== ''),
    ...(o.customer ? { customerId: o.customer.legacyResourceId } : {}),
    // the customer's order count, this order included: 1 is their first (a later order of theirs
    // placed before this pass makes it 2, and the first order goes unreported)
    ...(o.customer?.numberOfOrders === undefined || o.customer.numberOfOrders === null ? {} : { firstOrder: Number(o.customer.numberOfOrders) === 1 }),
    createdAt,
    updatedAt,
    attributes: (o.customAttributes ?? []).flatMap((a) => (a.value === null || a.value === undefined ? [] : [{ name: a.key, value: a.value }])),
    landingPages: firstLanding ? [firstLanding] : [],
    ...(o.cartToken ? { cartToken: o.cartToken } : {}),
  });
}
