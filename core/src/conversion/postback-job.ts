import type { IdSource, PostbackEvent } from '../orders/order.ts';

/**
 * A postback ready to be stored in the outbox: fully rendered, so the worker needs nothing but the
 * job to send it (offers can change later without changing what was promised).
 */
export interface PostbackJobDraft {
  /** (store, order, offer, event key): the unique key the outbox enforces. */
  readonly idempotencyKey: string;
  readonly merchantId: string;
  readonly storeId: string;
  readonly orderId: string;
  readonly orderNumber: string;
  readonly offerId: string;
  readonly event: PostbackEvent;
  /** The event plus what makes it unique within the order, e.g. "sale", "refund:8821". */
  readonly eventKey: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly transactionId: string;
  readonly idSource: IdSource;
  readonly amount: string;
  readonly currency: string;
  readonly test: boolean;
  /** The offer allowed a plain-http target. */
  readonly allowHttp: boolean;
  /**
   * For a reversal: the idempotency key of the conversion it reverses. The worker holds the reversal
   * until that conversion succeeded, so a network never sees a refund before its sale.
   */
  readonly dependsOn?: string;
}

/** What the outbox already holds for an order: the planner's memory between webhooks. */
export interface PriorPostback {
  readonly idempotencyKey: string;
  readonly offerId: string;
  readonly event: PostbackEvent;
  readonly eventKey: string;
  readonly status: 'pending' | 'in_flight' | 'succeeded' | 'failed' | 'dead';
  readonly amount: string;
  readonly transactionId: string;
  readonly idSource: IdSource;
}

export function idempotencyKeyOf(parts: { storeId: string; orderId: string; offerId: string; eventKey: string }): string {
  // JSON keeps the parts apart whatever characters they contain
  return JSON.stringify([parts.storeId, parts.orderId, parts.offerId, parts.eventKey]);
}
