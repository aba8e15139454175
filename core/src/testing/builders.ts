import { idempotencyKeyOf, type PostbackJobDraft } from '../conversion/postback-job.ts';
import type { OfferInput } from '../offers/offer-schema.ts';

/**
 * Fixture builders with overrides, for tests across the workspace. Defaults are valid and
 * self-consistent (the idempotency key follows the ids unless overridden).
 */

export function buildJobDraft(overrides: Partial<PostbackJobDraft> = {}): PostbackJobDraft {
  const base = {
    merchantId: 'm1',
    storeId: 's1',
    orderId: '1001',
    orderNumber: '#1001',
    offerId: 'tune-main',
    event: 'sale' as const,
    eventKey: 'sale',
    method: 'GET' as const,
    url: 'https://tracker.example/aff_lsr?transaction_id=102ab0e1c2&amount=12.50&adv_sub=1001',
    headers: {},
    transactionId: '102ab0e1c2',
    idSource: 'note_attribute' as const,
    amount: '12.50',
    currency: 'USD',
    test: false,
    allowHttp: false,
    ...overrides,
  };
  return {
    ...base,
    idempotencyKey:
      overrides.idempotencyKey ?? idempotencyKeyOf({ storeId: base.storeId, orderId: base.orderId, offerId: base.offerId, eventKey: base.eventKey }),
  };
}

/** A TUNE offer whose sale postback goes to `baseUrl` (e.g. a fake tracker's URL). */
export function buildOfferInput(overrides: Partial<OfferInput> & { baseUrl?: string } = {}): OfferInput {
  const { baseUrl = 'https://tracker.example', ...rest } = overrides;
  return {
    id: 'tune-main',
    name: 'TUNE main offer',
    network: 'tune',
    allowHttp: baseUrl.startsWith('http://'),
    postbacks: {
      sale: { url: `${baseUrl}/aff_lsr?offer_id=12&transaction_id={transaction_id}&amount={amount}&adv_sub={order_id}&security_token=s3cret` },
    },
    ...rest,
  };
}
