import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { formatIsoTime } from './iso-time.ts';

const maxTime = 8.64e15;

describe('formatIsoTime', () => {
  it('writes exactly what toISOString writes, for any time a Date can hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: -maxTime, max: maxTime }), (time) => {
        const date = new Date(time);
        expect(formatIsoTime(date)).toBe(date.toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('writes exactly what toISOString writes around today and in the four-digit years', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), fc.integer({ min: 1_700_000_000_000, max: 2_000_000_000_000 }), (anyYear, recent) => {
        for (const time of [anyYear, recent]) expect(formatIsoTime(new Date(time))).toBe(new Date(time).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['the epoch', 0],
    ['the last millisecond before it', -1],
    ['the first instant of year 0000', -62_167_219_200_000],
    ['the last instant before year 0000', -62_167_219_200_001],
    ['the last instant of year 9999', 253_402_300_799_999],
    ['the first instant of year 10000', 253_402_300_800_000],
    ['29 February 2000', 951_782_400_000],
    ['1 March 2000', 951_868_800_000],
    ['29 February 2024, one millisecond before midnight', 1_709_251_199_999],
    ['the earliest Date', -maxTime],
    ['the latest Date', maxTime],
  ])('%s', (_label, time) => {
    expect(formatIsoTime(new Date(time))).toBe(new Date(time).toISOString());
  });

  it('throws RangeError for an invalid date, as toISOString does', () => {
    expect(() => formatIsoTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
