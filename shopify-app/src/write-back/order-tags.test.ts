import type { PostbackEvent } from '@clickthread/core';
import type { JobStatus } from '@clickthread/core/storage';
import { describe, expect, it } from 'vitest';
import { orderTagChange } from './order-tags.ts';

/** The tags an order's jobs make true, event by event; ours that are not true are removed. */

const jobs = (...list: Array<[PostbackEvent, JobStatus]>) => list.map(([event, status]) => ({ event, status }));

describe('orderTagChange', () => {
  it.each([
    ['a sent sale', jobs(['sale', 'succeeded']), ['clickthread:sale:sent'], ['clickthread:sale:failed']],
    ['a dead sale', jobs(['sale', 'dead']), ['clickthread:sale:failed'], ['clickthread:sale:sent']],
    [
      'a sent sale and a failed refund',
      jobs(['sale', 'succeeded'], ['refund', 'failed']),
      ['clickthread:sale:sent', 'clickthread:refund:failed'],
      ['clickthread:sale:failed', 'clickthread:refund:sent'],
    ],
    // two offers: one network took the sale, the other refused it — both are true
    ['a sale sent to one offer and refused by another', jobs(['sale', 'succeeded'], ['sale', 'failed']), ['clickthread:sale:sent', 'clickthread:sale:failed'], []],
    // a replayed dead letter is on its way again: its event keeps its tags until it is final
    ['a replayed refund still pending beside a sent sale', jobs(['sale', 'succeeded'], ['refund', 'pending']), ['clickthread:sale:sent'], ['clickthread:sale:failed']],
    ['a refund retried while in flight', jobs(['refund', 'in_flight']), [], []],
  ])('%s', (_what, list, add, remove) => {
    expect(orderTagChange(list)).toEqual({ add, remove: [...remove] });
  });
});
