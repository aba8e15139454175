import { err, ok, type Result } from './result.ts';

/**
 * Decimal amounts as strings, computed with scaled BigInts: platforms send money as strings and
 * networks want a dot decimal with no thousands separator, so floats never touch an amount.
 */

const decimalPattern = /^(-)?(\d+)(?:\.(\d+))?$/;

interface Scaled {
  readonly units: bigint;
  readonly scale: number;
}

function parse(value: string): Scaled | undefined {
  const m = decimalPattern.exec(value.trim());
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const units = BigInt(`${m[2]}${frac}`) * (m[1] ? -1n : 1n);
  return { units, scale: frac.length };
}

function rescale(a: Scaled, scale: number): bigint {
  return a.units * 10n ** BigInt(scale - a.scale);
}

function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  const text = scale > 0 ? `${whole}.${frac}` : whole;
  return negative && units !== 0n ? `-${text}` : text;
}

/** Accepts "12", "12.5", "-6.00", " 3.10 " and numbers; refuses "1,000.00", "1e3", "". */
export function parseDecimal(value: string | number | null | undefined): Result<string> {
  if (value === null || value === undefined) return err('amount is missing');
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  if (/e/i.test(text)) return err(`amount "${text}" uses exponent notation`);
  const parsed = parse(text);
  if (!parsed) return err(`amount "${text}" is not a decimal number with a dot`);
  return ok(format(parsed.units, parsed.scale));
}

/** Sum and difference at the larger scale of the operands, e.g. "10.5" - "0.25" = "10.25". */
export function addDecimals(...values: readonly string[]): string {
  const parsed = values.map((v) => {
    const p = parse(v);
    if (!p) throw new TypeError(`not a decimal: ${JSON.stringify(v)}`);
    return p;
  });
  const scale = Math.max(0, ...parsed.map((p) => p.scale));
  const sum = parsed.reduce((acc, p) => acc + rescale(p, scale), 0n);
  return format(sum, scale);
}

export function negateDecimal(value: string): string {
  const p = parse(value);
  if (!p) throw new TypeError(`not a decimal: ${JSON.stringify(value)}`);
  return format(-p.units, p.scale);
}

export function subtractDecimals(a: string, b: string): string {
  return addDecimals(a, negateDecimal(b));
}

export function compareDecimals(a: string, b: string): -1 | 0 | 1 {
  const d = parse(subtractDecimals(a, b));
  if (!d) throw new TypeError('unreachable');
  return d.units === 0n ? 0 : d.units < 0n ? -1 : 1;
}

/** Two decimals for money: "12.5" → "12.50", "3" → "3.00", rounding half away from zero. */
export function toMoney(value: string, decimals = 2): string {
  const p = parse(value);
  if (!p) throw new TypeError(`not a decimal: ${JSON.stringify(value)}`);
  if (p.scale <= decimals) return format(rescale(p, decimals), decimals);
  const factor = 10n ** BigInt(p.scale - decimals);
  const abs = p.units < 0n ? -p.units : p.units;
  let q = abs / factor;
  if ((abs % factor) * 2n >= factor) q += 1n;
  return format(p.units < 0n ? -q : q, decimals);
}

/**
 * value × numerator ÷ denominator, rounded half away from zero at the larger scale of value and
 * numerator (e.g. a refund converted to the offer's amount basis). A zero denominator gives zero.
 */
export function scaleDecimal(value: string, numerator: string, denominator: string): string {
  const v = parse(value);
  const n = parse(numerator);
  const d = parse(denominator);
  if (!v || !n || !d) throw new TypeError(`not decimals: ${JSON.stringify([value, numerator, denominator])}`);
  const scale = Math.max(v.scale, n.scale);
  if (d.units === 0n) return format(0n, scale);
  // units at `scale`: v.units·n.units·10^(scale+d.scale) / (d.units·10^(v.scale+n.scale))
  let top = v.units * n.units * 10n ** BigInt(scale + d.scale);
  let bottom = d.units * 10n ** BigInt(v.scale + n.scale);
  if (bottom < 0n) {
    top = -top;
    bottom = -bottom;
  }
  const negative = top < 0n;
  const abs = negative ? -top : top;
  let q = abs / bottom;
  if ((abs % bottom) * 2n >= bottom) q += 1n;
  return format(negative ? -q : q, scale);
}

/** The smaller of two decimals. */
export function minDecimal(a: string, b: string): string {
  return compareDecimals(a, b) <= 0 ? a : b;
}
