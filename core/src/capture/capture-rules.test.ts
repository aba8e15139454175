import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { decideCapture, findTransactionId, isWithinWindow } from './capture-rules.ts';
import { checkTransactionId, maxTransactionIdLength } from './transaction-id.ts';

describe('checkTransactionId', () => {
  it.each([
    ['abc123'],
    ['102a5e2b3c4d5e6f'],
    ['a+b'],
    ['50%off'],
    ['ünïcødé-日本'],
    ['x'.repeat(maxTransactionIdLength)],
    ['a.b:c_d-e~f'],
  ])('accepts %j', (value) => {
    expect(checkTransactionId(value)).toEqual({ ok: true, value });
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(maxTransactionIdLength + 1), 'longer than 256 characters'],
    ['abc\u0000', 'contains whitespace, control, markup or quote characters'],
    ['a b', 'contains whitespace, control, markup or quote characters'],
    ['abc\ndef', 'contains whitespace, control, markup or quote characters'],
    ['<script>alert(1)</script>', 'contains whitespace, control, markup or quote characters'],
    ['x"onload="y', 'contains whitespace, control, markup or quote characters'],
    ["x';drop table", 'contains whitespace, control, markup or quote characters'],
    ['abc\u202edef', 'contains whitespace, control, markup or quote characters'],
    ['zero\u200bwidth', 'contains whitespace, control, markup or quote characters'],
    ['\ud800x', 'not well-formed Unicode'],
  ])('refuses %j: %s', (value, reason) => {
    expect(checkTransactionId(value)).toEqual({ ok: false, reason });
  });

  it('never throws, and accepts only what it returns unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        const checked = checkTransactionId(value);
        expect(!checked.ok || checked.value === value).toBe(true);
      }),
    );
  });
});

describe('findTransactionId', () => {
  it('reads the offer parameters in their order and keeps extras', () => {
    const found = findTransactionId('https://shop.example/p?click_id=C1&transaction_id=T1&aff_sub=42&source=fb', ['transaction_id', 'click_id'], ['aff_sub', 'source', 'sub9']);
    expect(found).toEqual({ ok: true, value: { param: 'transaction_id', value: 'T1', extras: { aff_sub: '42', source: 'fb' } } });
  });

  it('reads a store-relative landing path (Shopify landing_site)', () => {
    expect(findTransactionId('/products/x?utm_source=a&clickid=abc%2B1', ['clickid'])).toEqual({ ok: true, value: { param: 'clickid', value: 'abc+1', extras: {} } });
  });

  it('matches a parameter in another case when the exact one is absent', () => {
    expect(findTransactionId('https://s.example/?ClickId=Z9', ['clickid'])).toMatchObject({ ok: true, value: { param: 'clickid', value: 'Z9' } });
  });

  it('falls through an invalid value to the next parameter, and reports it when nothing else is found', () => {
    expect(findTransactionId('https://s.example/?transaction_id=%3Cx%3E&cid=ok1', ['transaction_id', 'cid'])).toMatchObject({ ok: true, value: { value: 'ok1' } });
    expect(findTransactionId('https://s.example/?transaction_id=%3Cx%3E', ['transaction_id'])).toEqual({
      ok: false,
      reason: { kind: 'invalid', param: 'transaction_id', reason: 'contains whitespace, control, markup or quote characters' },
    });
  });

  it.each([['https://s.example/?foo=1'], ['/wallets/checkouts.json'], ['']])('finds nothing in %j', (url) => {
    expect(findTransactionId(url, ['transaction_id'])).toEqual({ ok: false, reason: { kind: 'absent' } });
  });

  it('survives any input', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof findTransactionId(s, ['transaction_id']).ok === 'boolean'));
  });
});

describe('attribution window and model', () => {
  const now = new Date('2026-03-31T00:00:00.000Z');
  it.each([
    ['2026-03-01T00:00:00.000Z', 30, true],
    ['2026-02-28T23:59:59.000Z', 30, false],
    ['2026-03-31T00:04:00.000Z', 1, true], // small clock skew tolerated
    ['2026-03-31T01:00:00.000Z', 1, false],
    ['not a date', 30, false],
  ])('click at %s with a %i-day window counts: %s', (capturedAt, days, expected) => {
    expect(isWithinWindow(capturedAt, now, days)).toBe(expected);
  });

  const old = { value: 'A', capturedAt: '2026-03-20T00:00:00.000Z' };
  const incoming = { value: 'B', capturedAt: now };
  it.each([
    ['last_click', undefined, 'replace'],
    ['last_click', old, 'replace'],
    ['first_click', old, 'keep'],
    ['first_click', { value: 'A', capturedAt: '2026-01-01T00:00:00.000Z' }, 'replace'],
    ['last_click', { value: 'B', capturedAt: '2026-03-20T00:00:00.000Z' }, 'keep'],
  ] as const)('%s with existing %j → %s', (model, existing, expected) => {
    expect(decideCapture(existing, incoming, { model, windowDays: 30 }, now)).toBe(expected);
  });
});
