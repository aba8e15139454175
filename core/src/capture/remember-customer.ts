import type { PostbackJobDraft, PriorPostback } from '../conversion/postback-job.ts';
import type { Offer } from '../offers/offer-schema.ts';
import { isConversionEvent, type IdCandidate } from '../orders/order.ts';
import type { EnqueueResult, Store } from '../storage/store.ts';
import { decideCapture } from './capture-rules.ts';

/**
 * The customer map, for both apps: an attributed order teaches Clickthread the customer's click, so
 * their later orders that carry none (Buy it now, subscription renewals, orders from another device)
 * find it. It only learns from a conversion this very delivery stored — re-processing an old order
 * (a refund, a reconciliation pass, a late cancellation, a write-back echo) must not put that order's
 * older click back over a
 * newer one — and only through core's decideCapture, so a first-click offer keeps its first click.
 */

/**
 * The conversion job of `jobs` that this enqueue stored, when that can be told for certain: every
 * job not already in the history was inserted (no concurrent delivery of the same order took one).
 */
export function insertedConversion(
  jobs: readonly PostbackJobDraft[],
  history: readonly PriorPostback[],
  stored: Pick<EnqueueResult, 'inserted'>,
): PostbackJobDraft | undefined {
  const known = new Set(history.map((h) => h.idempotencyKey));
  const fresh = jobs.filter((j) => !known.has(j.idempotencyKey));
  if (fresh.length === 0 || stored.inserted !== fresh.length) return undefined;
  return fresh.find((j) => isConversionEvent(j.event) && j.idSource !== 'customer' && j.idSource !== 'manual');
}

export type RememberOutcome = 'stored' | 'kept' | 'not_applicable';

export async function rememberCustomerClick(
  store: Pick<Store, 'getCapture' | 'putCapture'>,
  input: {
    readonly merchantId: string;
    readonly customerId: string | undefined;
    readonly job: PostbackJobDraft | undefined;
    readonly candidates: readonly IdCandidate[];
    readonly offers: readonly Offer[];
    /** ISO 8601: stands in for the click time when the source cannot tell it. */
    readonly orderCreatedAt: string;
    readonly domain: string | null;
    readonly now: Date;
  },
): Promise<RememberOutcome> {
  const { job, customerId } = input;
  if (!job || customerId === undefined) return 'not_applicable';
  const candidate = input.candidates.find((c) => c.source === job.idSource && c.value === job.transactionId);
  const offer = input.offers.find((o) => o.id === job.offerId);
  if (!candidate || !offer) return 'not_applicable';
  const capturedAt = new Date(candidate.capturedAt ?? input.orderCreatedAt);
  const existing = await store.getCapture(input.merchantId, 'customer', customerId);
  // decideCapture takes the incoming click for the latest one; a click older than the stored one never is
  if (existing && existing.transactionId !== candidate.value && existing.capturedAt.getTime() > capturedAt.getTime()) return 'kept';
  const decision = decideCapture(
    existing ? { value: existing.transactionId, capturedAt: existing.capturedAt } : undefined,
    { value: candidate.value, capturedAt },
    offer.attribution,
    input.now,
  );
  if (decision === 'keep') return 'kept';
  await store.putCapture(
    {
      merchantId: input.merchantId,
      kind: 'customer',
      key: customerId,
      transactionId: candidate.value,
      param: candidate.param ?? null,
      extras: candidate.extras ?? {},
      capturedAt,
      domain: input.domain,
      // the store that reported the order, so shop/redact removes what it taught
      storeId: job.storeId,
    },
    { replace: true },
  );
  return 'stored';
}
