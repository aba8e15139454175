import { err, ok, type Result } from '@clickthread/core';

/**
 * JSON.parse that keeps integers beyond 2^53 exact. Shopify ids are 64-bit integers sent as JSON
 * numbers; parsed as doubles, ids above 9007199254740991 silently change (a refund id in Shopify's own
 * examples is 890088186047892319). Such numbers come back as their source text instead, a string.
 * Node ≥ 21 passes the source text to the reviver (the JSON.parse source text access proposal).
 *
 * A reviver would do that, but it makes JSON.parse several times slower (a call into JS per value).
 * Instead the body is parsed plainly and the result walked for an integer-valued double beyond 2^53:
 * every number token parses to exactly Number(token), so when none is such a value, nothing would
 * have been kept as text (the usual case: today's order ids have 13 digits). Otherwise those numbers
 * are quoted in the text (quoteUnsafeIntegers) and it is parsed again; the result is the reviver's,
 * which the tests hold side by side. The walk costs a few µs where a pre-scan of the text cost as
 * much as the parse itself.
 */
export function parseJsonLossless(text: string): Result<unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return ok(holdsUnsafeInteger(value) ? JSON.parse(quoteUnsafeIntegers(text)) : value);
  } catch (error) {
    return err(`body is not JSON (${(error as Error).message})`);
  }
}

/** Whether a parsed JSON value holds an integer beyond 2^53 anywhere; iterative, as bodies may nest deeper than the stack. */
export function holdsUnsafeInteger(parsed: unknown): boolean {
  const pending: unknown[] = [parsed];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'number') {
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) pending.push(item);
    }
  }
  return false;
}

const quote = 0x22;
const backslash = 0x5c;
const zero = 0x30;
const nine = 0x39;
const lowerE = 0x65;
const upperE = 0x45;
const minus = 0x2d;
const plus = 0x2b;
const dot = 0x2e;
const colon = 0x3a;
const comma = 0x2c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The index of the quote that closes the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  for (;;) {
    if (end === -1) return -1;
    let slashes = 0;
    while (text.charCodeAt(end - 1 - slashes) === backslash) slashes++;
    if (slashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/**
 * `text` with every number that JSON.parse would read as an integer beyond 2^53 turned into a
 * string of its source text, in value positions only (a number where a key should be stays, so
 * JSON.parse still refuses it). Anything else is left as it is: text that is not JSON stays not JSON.
 */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  // per open container: true inside an object; `keyNext`: the next token of the object is a key
  const inObject: boolean[] = [];
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      const end = closingQuote(text, i);
      if (end === -1) break;
      i = end;
      keyNext = false;
    } else if (c === openBrace) {
      inObject.push(true);
      keyNext = true;
    } else if (c === openBracket) {
      inObject.push(false);
      keyNext = false;
    } else if (c === closeBrace || c === closeBracket) {
      inObject.pop();
      keyNext = false;
    } else if (c === comma) {
      keyNext = inObject.at(-1) === true;
    } else if (c === colon) {
      keyNext = false;
    } else if (c === minus || (c >= zero && c <= nine)) {
      let end = i + 1;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (!((d >= zero && d <= nine) || d === dot || d === lowerE || d === upperE || d === plus || d === minus)) break;
      }
      const token = text.slice(i, end);
      if (!keyNext && jsonNumber.test(token)) {
        const value = Number(token);
        if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
          out += `${text.slice(copied, i)}"${token}"`;
          copied = end;
        }
      }
      i = end - 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}
