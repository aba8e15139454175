import { assert, double, integer, property } from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRetrySchedule, nextRetryDelay, scheduleProblems } from './retry-schedule.ts';

const mid = () => 0.5;

describe('nextRetryDelay', () => {
  it.each([
    [1, 60_000],
    [2, 300_000],
    [3, 1_800_000],
    [4, 7_200_000],
    [5, 21_600_000],
    [6, 86_400_000],
    [7, undefined],
  ])('after attempt %i waits %s', (scheduleAttempts, expected) => {
    expect(nextRetryDelay({ schedule: defaultRetrySchedule, scheduleAttempts, jitter: 0.2, random: mid })).toBe(expected);
  });

  it.each([
    [0, 900],
    [0.5, 1_000],
    [0.999_999, 1_100],
  ])('spreads by the jitter both ways (random %d → %i ms)', (r, expected) => {
    expect(nextRetryDelay({ schedule: [1_000], scheduleAttempts: 1, jitter: 0.1, random: () => r })).toBe(expected);
  });

  it('never retries sooner than Retry-After asks', () => {
    expect(nextRetryDelay({ schedule: [60_000], scheduleAttempts: 1, jitter: 0.1, random: mid, retryAfterMs: 120_000 })).toBe(120_000);
    expect(nextRetryDelay({ schedule: [60_000], scheduleAttempts: 1, jitter: 0, random: mid, retryAfterMs: 5_000 })).toBe(60_000);
  });

  it('stays within ±jitter of the scheduled delay', () => {
    assert(
      property(integer({ min: 1, max: 6 }), double({ min: 0, max: 1, noNaN: true }), double({ min: 0, max: 0.999_999, noNaN: true }), (n, jitter, r) => {
        const base = defaultRetrySchedule[n - 1] ?? 0;
        const delay = nextRetryDelay({ schedule: defaultRetrySchedule, scheduleAttempts: n, jitter, random: () => r }) ?? -1;
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter)));
      }),
    );
  });
});

describe('scheduleProblems', () => {
  it('lists every problem', () => {
    expect(scheduleProblems([])).toEqual(['the retry schedule is empty']);
    expect(scheduleProblems([1_000, -1, 1.5])).toEqual([
      'retry delay #2 (-1) must be a positive whole number of milliseconds',
      'retry delay #3 (1.5) must be a positive whole number of milliseconds',
    ]);
    expect(scheduleProblems(defaultRetrySchedule)).toEqual([]);
  });
});
