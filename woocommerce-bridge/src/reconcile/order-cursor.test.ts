import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ordersQueryParams } from '../rest/woo-client.ts';
import { queryOrdersLikeWoo, type ListableOrder } from '../testing/woo-orders-query.ts';
import {
  afterOrdersPage,
  cursorToStore,
  formatOrderCursor,
  maxExcludedIds,
  nextOrdersQuery,
  parseOrderCursor,
  startPaging,
  type OrderCursor,
  type PageOutcome,
  type PagingLimits,
} from './order-cursor.ts';

/**
 * Keyset paging against the model of Woo's `GET /orders` (the fake store's own listing), with the
 * store changing between pages: no order's last state is ever left behind the cursor unread.
 */

const base = Date.parse('2026-03-01T00:00:00Z');
const at = (second: number): string => new Date(base + second * 1000).toISOString().slice(0, 19);

interface ModelOrder extends ListableOrder {
  date_modified: string;
  date_modified_gmt: string;
  version: number;
}

interface World {
  now: number;
  readonly orders: Map<number, ModelOrder>;
  nextId: number;
  /** The version of each order the reader processed last. */
  readonly read: Map<number, number>;
}

function newWorld(seconds: readonly number[]): World {
  const orders = new Map<number, ModelOrder>();
  seconds.forEach((second, i) => {
    const when = at(second);
    orders.set(i + 1, { id: i + 1, date_created: when, date_created_gmt: when, date_modified: when, date_modified_gmt: when, version: 1 });
  });
  return { now: 10, orders, nextId: seconds.length + 1, read: new Map() };
}

type Change = { readonly kind: 'modify'; readonly pick: number } | { readonly kind: 'add' };

function apply(world: World, changes: readonly Change[]): void {
  const when = at(world.now);
  for (const change of changes) {
    if (change.kind === 'add' || world.orders.size === 0) {
      const id = world.nextId++;
      world.orders.set(id, { id, date_created: when, date_created_gmt: when, date_modified: when, date_modified_gmt: when, version: 1 });
      continue;
    }
    const ids = [...world.orders.keys()];
    const order = world.orders.get(ids[change.pick % ids.length]!)!;
    order.date_modified = when;
    order.date_modified_gmt = when;
    order.version += 1;
  }
}

/** One reconciliation pass over the model; `changesBefore(page)` edits the store before each request. */
function pass(world: World, stored: string, limits: PagingLimits, maxPages: number, changesBefore: (page: number) => readonly Change[]): { stored: string; outcome: PageOutcome | null } {
  const cursor = parseOrderCursor(stored);
  if (!cursor.ok) throw new Error(cursor.reason);
  let paging = startPaging(cursor.value);
  let outcome: PageOutcome | null = null;
  for (let page = 1; page <= maxPages; page += 1) {
    apply(world, changesBefore(page));
    const params = new URLSearchParams(Object.entries(ordersQueryParams(nextOrdersQuery(paging, limits))).map(([k, v]): [string, string] => [k, String(v)]));
    const answer = queryOrdersLikeWoo(world.orders.values(), params);
    if (!answer.ok) throw new Error(answer.message);
    const step = afterOrdersPage(paging, { keys: answer.items.map((o) => ({ id: o.id, modified: o.date_modified_gmt })), total: answer.total }, limits);
    for (const key of step.fresh) world.read.set(key.id, world.orders.get(key.id)!.version);
    // a change after a read lands in a later second than the read
    world.now += 1;
    paging = step.paging;
    outcome = step.outcome;
    if (outcome !== 'more') break;
  }
  return { stored: formatOrderCursor(cursorToStore(paging, outcome)), outcome };
}

const changeArb: fc.Arbitrary<Change> = fc.oneof(fc.record({ kind: fc.constant('modify' as const), pick: fc.nat(1000) }), fc.record({ kind: fc.constant('add' as const) }));

describe('keyset paging over orders that change while they are read', () => {
  it('after the changes stop, passes catch up and every order was read in its last state', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.array(changeArb, { maxLength: 4 }), { maxLength: 40 }),
        (seconds, perPage, excludeCap, maxPages, script) => {
          const world = newWorld(seconds);
          const limits = { perPage, excludeCap };
          let stored = at(-1);
          let step = 0;
          // passes while the store changes (one script entry before each request)...
          while (step < script.length) {
            stored = pass(world, stored, limits, maxPages, () => script[step++] ?? []).stored;
            world.now += 1;
          }
          // ...then quiet passes: each moves on, and they catch up
          let passes = 0;
          for (;;) {
            const done = pass(world, stored, limits, maxPages, () => []);
            stored = done.stored;
            world.now += 1;
            passes += 1;
            expect(done.outcome).not.toBe('stalled');
            if (done.outcome === 'caught_up') break;
            expect(passes).toBeLessThan(500);
          }
          for (const order of world.orders.values()) expect({ id: order.id, read: world.read.get(order.id) }).toEqual({ id: order.id, read: order.version });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the same, with offsets past the exclude cap and orders of the crowded second changing during the pass', () => {
    // six orders share second 0; pages of two, at most one excluded id: the rest is read by offset
    const world = newWorld([0, 0, 0, 0, 0, 0, 1]);
    const limits = { perPage: 2, excludeCap: 1 };
    const changes: Record<number, Change[]> = { 3: [{ kind: 'modify', pick: 1 }], 4: [{ kind: 'modify', pick: 3 }] };
    const first = pass(world, at(-1), limits, 50, (page) => changes[page] ?? []);
    expect(first.outcome).toBe('caught_up');
    for (const order of world.orders.values()) expect([order.id, world.read.get(order.id)]).toEqual([order.id, order.version]);
  });

  it('a caught-up pass stores the second alone, to read it again; a pass cut short keeps the ids it read there', () => {
    const world = newWorld([0, 0, 0, 1]);
    const cut = pass(world, at(-1), { perPage: 2 }, 1, () => []);
    expect(cut).toEqual({ stored: `${at(-1)};seen=1,2`, outcome: 'more' });
    const done = pass(world, cut.stored, { perPage: 2 }, 10, () => []);
    expect(done).toEqual({ stored: at(0), outcome: 'caught_up' });
  });
});

describe('the stored cursor', () => {
  it('reads what earlier versions stored (a GMT time alone) and what this one stores', () => {
    expect(parseOrderCursor('2026-11-20T18:26:00')).toEqual({ ok: true, value: { after: '2026-11-20T18:26:00', seen: [], beyond: 0, total: null } });
    expect(parseOrderCursor('2026-11-20T18:26:00;seen=12,7,12')).toEqual({ ok: true, value: { after: '2026-11-20T18:26:00', seen: [7, 12], beyond: 0, total: null } });
    expect(parseOrderCursor('2026-11-20T18:26:00;seen=3,4;beyond=120;total=900')).toEqual({ ok: true, value: { after: '2026-11-20T18:26:00', seen: [3, 4], beyond: 120, total: 900 } });
    expect(formatOrderCursor({ after: '2026-11-20T18:26:00', seen: [], beyond: 0, total: null })).toBe('2026-11-20T18:26:00');
    expect(formatOrderCursor({ after: '2026-11-20T18:26:00', seen: [3, 4], beyond: 120, total: 900 })).toBe('2026-11-20T18:26:00;seen=3,4;beyond=120;total=900');
  });

  it.each([
    ['not a time', 'yesterday'],
    ['a date alone', '2026-11-20'],
    ['an impossible time', '2026-02-30T10:00:00'],
    ['a zone', '2026-11-20T18:26:00Z'],
    ['ids that are not ids', '2026-11-20T18:26:00;seen=1,x'],
    ['a zero id', '2026-11-20T18:26:00;seen=0'],
    ['a count that is not a number', '2026-11-20T18:26:00;seen=1;beyond=-3'],
    ['parts out of order', '2026-11-20T18:26:00;beyond=3;seen=1'],
  ])('refuses %s', (_what, stored) => {
    const parsed = parseOrderCursor(stored);
    expect(parsed.ok).toBe(false);
  });

  it('round-trips any cursor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 20 }),
        fc.nat(1_000_000),
        fc.option(fc.nat(1_000_000)),
        (seconds, ids, beyond, total) => {
          const cursor: OrderCursor = { after: new Date(seconds * 1000).toISOString().slice(0, 19), seen: ids.toSorted((a, b) => a - b), beyond, total: beyond === 0 ? null : total };
          expect(parseOrderCursor(formatOrderCursor(cursor))).toEqual({ ok: true, value: cursor });
        },
      ),
    );
  });

  it('keeps at most the exclude cap of ids, and counts the ones read past them', () => {
    // a bulk edit of more orders in one second than the exclude cap: pages of 100, five per pass
    const world = newWorld(Array.from({ length: maxExcludedIds + 250 }, () => 0));
    const cut = pass(world, at(-1), { perPage: 100 }, 5, () => []);
    expect(cut.outcome).toBe('more');
    const cursor = parseOrderCursor(cut.stored);
    expect(cursor.ok && cursor.value).toEqual({ after: at(-1), seen: Array.from({ length: maxExcludedIds }, (_, i) => i + 1), beyond: 100, total: 250 });
    // the next pass goes on from the offset and reads the rest
    const done = pass(world, cut.stored, { perPage: 100 }, 5, () => []);
    expect(done.outcome).toBe('caught_up');
    expect(world.read.size).toBe(maxExcludedIds + 250);
  });
});
