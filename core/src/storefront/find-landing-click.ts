import { isTransactionId } from './is-transaction-id.ts';

/** A click found in the landing page's query: the parameter name as configured, the ID, the kept sub IDs. */
export interface LandingClick {
  readonly p: string;
  readonly id: string;
  readonly x: Record<string, string>;
}

/**
 * The browser's copy of core's `findTransactionId` (capture-rules.ts), reduced to what the script
 * needs so that the bundle stays small: the same parameter order, the same case-insensitive fallback,
 * the same checks on the ID and the sub IDs. A property test holds the two to the same answers.
 */
export function findLandingClick(search: string, params: readonly string[], extras: readonly string[]): LandingClick | undefined {
  const query = new URLSearchParams(search);
  for (const p of params) {
    const key = query.has(p) ? p : [...query.keys()].find((k) => k.toLowerCase() == p.toLowerCase());
    const id = key && query.get(key);
    if (isTransactionId(id)) {
      const x: Record<string, string> = {};
      for (const name of extras) {
        const value = query.get(name);
        // 256 UTF-16 units, as core's maxExtraLength
        if (isTransactionId(value) && value.length <= 256) x[name] = value;
      }
      return { p, id, x };
    }
  }
  return undefined;
}
