import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdsUnsafeInteger, parseJsonLossless } from './parse-json.ts';

/** The parser before the fast path: every body through the reviver. The fast path must agree with it. */
function reference(text: string): unknown {
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) && context?.source !== undefined ? context.source : value,
  );
}

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '7', '9'), minLength: min, maxLength: max });
const integerText = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 9 }), digits(0, 22)).map(([negative, first, rest]) => `${negative ? '-' : ''}${first}${rest}`);
const numberText = fc.oneof(
  integerText,
  fc.constantFrom('0', '-0', '9007199254740991', '9007199254740992', '-9007199254740993', '999999999999999', '1000000000000000'),
  fc.tuple(integerText, digits(1, 20)).map(([i, f]) => `${i}.${f}`),
  fc.tuple(integerText, fc.constantFrom('e', 'E', 'e+', 'E-', 'e-'), fc.integer({ min: 0, max: 400 })).map(([i, e, x]) => `${i}${e}${x}`),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);
// strings full of what the scan must not mistake for numbers: digits, e, quotes and backslashes
const stringText = fc.string({ unit: fc.constantFrom('"', '\\', '1', '9', 'e', 'E', 'a', ' ', '0', 'é'), maxLength: 40 }).map((s) => JSON.stringify(s));
const { value: jsonText } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    numberText,
    stringText,
    fc.constantFrom('true', 'false', 'null'),
    fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(stringText, tie('value')), { maxLength: 5 }).map((entries) => `{ ${entries.map(([k, v]) => `${k}: ${v}`).join(', ')} }`),
  ),
}));

describe('parseJsonLossless', () => {
  it('parses every JSON text exactly like the reviver alone (big integers, exponents, tricky strings)', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        expect(parseJsonLossless(text)).toEqual({ ok: true, value: reference(text) });
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the reviver on any JSON fast-check makes', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(parseJsonLossless(text)).toEqual({ ok: true, value: reference(text) });
      }),
      { numRuns: 500 },
    );
  });

  it('accepts and refuses exactly what the reviver does, for mangled JSON too', () => {
    const mangled = fc
      .tuple(jsonText, fc.nat(), fc.constantFrom('', '{', '}', '[', ']', ':', ',', '"', '-', '12345678901234567890', '0', 'e5', ' '))
      .map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice(at % (text.length + 1) + (at % 3)));
    fc.assert(
      fc.property(fc.oneof(mangled, fc.constantFrom('{12345678901234567890: 1}', '{"a": 1, 12345678901234567890: 2}', '[012345678901234567890]', '[-]', '[1e400]')), (text) => {
        let expected: unknown;
        try {
          expected = { ok: true, value: reference(text) };
        } catch {
          expected = { ok: false };
        }
        const got = parseJsonLossless(text);
        expect(got.ok ? got : { ok: false }).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['a 16-digit id', { id: 1234567890123456 }, false],
    ['an id beyond 2^53', { a: 'x"', id: 9007199254740992 }, true],
    ['an exponent that is a big integer', [1, [2, [1e300]]], true],
    ['a negative one deep in an array of objects', { refunds: [{ id: 1 }, { id: -9007199254740994 }] }, true],
    ['digits and e inside strings only', { token: '1e4a', n: '12345678901234567890' }, false],
    ['15-digit ids, decimals and big non-integers', { id: 123456789012345, price: '1.50', x: 0.25, y: 1.5e-300 }, false],
  ])('walk: %s → %s', (_what, value, expected) => {
    expect(holdsUnsafeInteger(value)).toBe(expected);
  });

  it('takes a body nested deeper than the call stack', () => {
    const depth = 200_000;
    const result = parseJsonLossless(`${'['.repeat(depth)}9007199254740993${']'.repeat(depth)}`);
    expect(result.ok).toBe(true);
  });

  it('keeps the ids of Shopify refunds exact and reports a body that is not JSON', () => {
    expect(parseJsonLossless('{"id": 890088186047892319, "amount": 1.5}')).toEqual({ ok: true, value: { id: '890088186047892319', amount: 1.5 } });
    const bad = parseJsonLossless('{"id": 890088186047892319');
    expect(bad.ok).toBe(false);
    expect(bad.ok ? '' : bad.reason).toMatch(/^body is not JSON/);
  });
});
