import { err, ok, type Result } from '@clickthread/core';

/**
 * JSON.parse that keeps integers beyond 2^53 exact. Shopify ids are 64-bit integers sent as JSON
 * numbers; parsed as doubles, ids above 9007199254740991 silently change (a refund id in Shopify's own
 * examples is 890088186047892319). Such numbers come back as their source text instead, a string.
 * Node ≥ 21 passes the source text to the reviver (the JSON.parse source text access proposal).
 *
 * A reviver makes JSON.parse several times slower (a call into JS per value), and most bodies hold
 * no number that could be unsafe: those are parsed without one (see mayHoldUnsafeInteger).
 */
export function parseJsonLossless(text: string): Result<unknown> {
  try {
    return ok(mayHoldUnsafeInteger(text) ? JSON.parse(text, keepUnsafeIntegers) : JSON.parse(text));
  } catch (error) {
    return err(`body is not JSON (${(error as Error).message})`);
  }
}

function keepUnsafeIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) && context?.source !== undefined
    ? context.source
    : value;
}

const quote = 0x22;
const backslash = 0x5c;
const zero = 0x30;
const nine = 0x39;
const lowerE = 0x65;
const upperE = 0x45;

/**
 * False only when no number outside the strings of `text` can be an unsafe integer: every run of
 * digits is at most 15 long (so below 10^15 < 2^53) and no number has an exponent (1e300 is an
 * integer too). True when in doubt, invalid JSON included (JSON.parse then reports it). Linear in the
 * text: string contents are skipped with indexOf, not matched by a backtracking regex.
 */
export function mayHoldUnsafeInteger(text: string): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= zero && c <= nine) {
      if (++digits > 15) return true;
      continue;
    }
    if ((c === lowerE || c === upperE) && digits > 0) return true;
    digits = 0;
    if (c === quote) {
      // to the closing quote: one not preceded by an odd number of backslashes
      let end = text.indexOf('"', i + 1);
      for (;;) {
        if (end === -1) return true;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === backslash) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end;
    }
  }
  return false;
}
