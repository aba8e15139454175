/**
 * The browser's copy of core's `checkTransactionId` (capture/transaction-id.ts): the same accept and
 * refuse, without the reasons (nobody reads them in a shopper's browser, and every byte here is
 * downloaded on every storefront page). Two tests hold it to core: one compares the `forbidden`
 * pattern with core's source text, a property test compares the answers on arbitrary strings.
 */

// Same pattern as core's `forbidden`, character for character (a test reads core's file to check).
// oxlint-disable-next-line no-control-regex -- refusing control characters is the point
const forbidden = /[\u0000-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff9-\ufffb<>"'`\\{}|^]/u;

/**
 * Whether `raw` may count as a transaction ID. Core refuses lone surrogates with a regular
 * expression; here `encodeURIComponent` does it for fewer bytes: it throws a URIError for exactly
 * those (and for nothing else a string can hold).
 */
export function isTransactionId(raw: unknown): raw is string {
  try {
    return typeof raw == 'string' && !!encodeURIComponent(raw) && [...raw].length <= 256 && !forbidden.test(raw);
  } catch {
    return false;
  }
}
