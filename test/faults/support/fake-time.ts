import type { ManualClock } from '@clickthread/core';

/** Hours of a running system in milliseconds: a ManualClock moved in steps, the system driven by hand at each. */

export const minute = 60_000;
export const hour = 60 * minute;
/** How far the clock moves between two turns of the worker. */
export const step = 5 * minute;

/**
 * Runs `turn` at every step over `durationMs` (both ends included), placing orders where asked
 * (`orders.place`, every `orders.every` ms from the start); returns what it placed, in order.
 */
export async function liveFor<T>(
  clock: ManualClock,
  durationMs: number,
  turn: () => Promise<void>,
  orders?: { readonly every: number; readonly place: () => Promise<readonly T[]> },
): Promise<T[]> {
  const placed: T[] = [];
  for (let elapsed = 0; elapsed <= durationMs; elapsed += step) {
    if (orders !== undefined && elapsed % orders.every === 0) placed.push(...(await orders.place()));
    await turn();
    clock.advance(step);
  }
  return placed;
}
