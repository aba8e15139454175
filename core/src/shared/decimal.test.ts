import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { addDecimals, compareDecimals, negateDecimal, parseDecimal, subtractDecimals, toMoney } from './decimal.ts';

const cents = (n: number) => `${n < 0 ? '-' : ''}${Math.floor(Math.abs(n) / 100)}.${String(Math.abs(n) % 100).padStart(2, '0')}`;

describe('decimal amounts', () => {
  it.each([
    ['12', '12'],
    ['12.50', '12.50'],
    [' 3.10 ', '3.10'],
    ['-6.00', '-6.00'],
    [7.5, '7.5'],
  ])('parses %j as %j', (input, expected) => {
    expect(parseDecimal(input)).toEqual({ ok: true, value: expected });
  });

  it.each([['1,000.00'], ['1e3'], [''], ['abc'], ['12.'], [Number.NaN], [null], [undefined]])('refuses %j', (input) => {
    expect(parseDecimal(input).ok).toBe(false);
  });

  it('adds and subtracts at the larger scale without float error', () => {
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(subtractDecimals('110.00', '8.5')).toBe('101.50');
    expect(addDecimals('-6.00', '6')).toBe('0.00');
    expect(negateDecimal('0.00')).toBe('0.00');
    expect(compareDecimals('2.10', '2.1')).toBe(0);
    expect(compareDecimals('-1', '0.01')).toBe(-1);
  });

  it('rounds money half away from zero', () => {
    expect(toMoney('12.345')).toBe('12.35');
    expect(toMoney('-12.345')).toBe('-12.35');
    expect(toMoney('3')).toBe('3.00');
    expect(toMoney('1000', 0)).toBe('1000');
  });

  it('agrees with integer arithmetic on cents', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: 10_000_000 }), (a, b) => {
        expect(addDecimals(cents(a), cents(b))).toBe(cents(a + b));
      }),
    );
  });
});
