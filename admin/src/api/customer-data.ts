import type { Store, StoreConnection } from '@clickthread/core/storage';

/**
 * Everything Clickthread holds about one buyer of a store: the click registered for their customer
 * id, and for each order named the visitor token linked to it, that visitor's click and the
 * postbacks sent. It is pseudonymous but personal, so it goes to the merchant who asks (the agency
 * API, the answer to Shopify's customers/data_request) and never into a log line.
 */

export interface CustomerDataRequest {
  readonly customerId?: string | undefined;
  readonly orderIds: readonly string[];
}

export interface CustomerData {
  readonly customerId: string | null;
  readonly customerCapture: { readonly transactionId: string; readonly param: string | null; readonly capturedAt: string } | null;
  readonly orders: ReadonlyArray<{
    readonly orderId: string;
    readonly visitorToken: string | null;
    readonly visitorCapture: { readonly transactionId: string; readonly capturedAt: string } | null;
    readonly postbacks: ReadonlyArray<{
      readonly event: string;
      readonly status: string;
      readonly transactionId: string;
      readonly amount: string;
      readonly currency: string;
      readonly createdAt: string;
    }>;
  }>;
}

/** What the answer holds, without any of it: for log lines and audit records. */
export function customerDataCounts(data: CustomerData): { readonly customerCapture: boolean; readonly orders: number; readonly linkedOrders: number; readonly postbacks: number } {
  return {
    customerCapture: data.customerCapture !== null,
    orders: data.orders.length,
    linkedOrders: data.orders.filter((o) => o.visitorToken !== null).length,
    postbacks: data.orders.reduce((n, o) => n + o.postbacks.length, 0),
  };
}

export async function collectCustomerData(store: Store, connection: Pick<StoreConnection, 'id' | 'merchantId'>, request: CustomerDataRequest): Promise<CustomerData> {
  const { customerId, orderIds } = request;
  const capture = customerId === undefined ? undefined : await store.getCapture(connection.merchantId, 'customer', customerId);
  const orders: Array<CustomerData['orders'][number]> = [];
  for (const orderId of orderIds) {
    const link = await store.getOrderLink(connection.id, orderId);
    const visitor = link ? await store.getCapture(connection.merchantId, 'visitor', link.visitorToken) : undefined;
    const jobs = await store.listJobs({ storeId: connection.id, orderId, limit: 500 });
    orders.push({
      orderId,
      visitorToken: link?.visitorToken ?? null,
      visitorCapture: visitor ? { transactionId: visitor.transactionId, capturedAt: visitor.capturedAt.toISOString() } : null,
      postbacks: jobs.map((j) => ({
        event: j.eventKey,
        status: j.status,
        transactionId: j.transactionId,
        amount: j.amount,
        currency: j.currency,
        createdAt: j.createdAt.toISOString(),
      })),
    });
  }
  return {
    customerId: customerId ?? null,
    customerCapture: capture ? { transactionId: capture.transactionId, param: capture.param, capturedAt: capture.capturedAt.toISOString() } : null,
    orders,
  };
}
