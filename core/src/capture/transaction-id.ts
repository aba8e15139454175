/**
 * What may count as a transaction ID. Shared verbatim by the server and the storefront script (which
 * is built from this file), so both refuse the same values. Kept free of dependencies for that reason.
 */

export const maxTransactionIdLength = 256;

// Control characters (C0, DEL, C1), whitespace, zero-width and bidi format characters, lone
// surrogates, and characters that only appear in markup or injection attempts.
// oxlint-disable-next-line no-control-regex -- refusing control characters is the point
const forbidden = /[\u0000-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff9-\ufffb<>"'`\\{}|^]/u;
// no lookbehind: Safari before 16.4 cannot compile it, and the storefront script is built from this file
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;

export type IdCheck = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

export function checkTransactionId(raw: string | null | undefined): IdCheck {
  if (raw === null || raw === undefined || raw === '') return { ok: false, reason: 'empty' };
  if (loneSurrogate.test(raw)) return { ok: false, reason: 'not well-formed Unicode' };
  const length = [...raw].length;
  if (length > maxTransactionIdLength) return { ok: false, reason: `longer than ${maxTransactionIdLength} characters` };
  if (forbidden.test(raw)) return { ok: false, reason: 'contains whitespace, control, markup or quote characters' };
  return { ok: true, value: raw };
}
