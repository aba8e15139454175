import { checkTransactionId } from './transaction-id.ts';
import { err, ok, type Result } from '../shared/result.ts';

/** A click ID found in a landing URL, with the extra click parameters the offer keeps. */
export interface FoundId {
  readonly param: string;
  readonly value: string;
  readonly extras: Readonly<Record<string, string>>;
}

export type FindIdFailure =
  | { readonly kind: 'not_a_url' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly param: string; readonly reason: string };

const maxExtraLength = 256;

/** Parses an absolute URL, or a store-relative path such as Shopify's landing_site. */
function toUrl(input: string | URL): URL | undefined {
  if (input instanceof URL) return input;
  try {
    return new URL(input, 'https://store.invalid');
  } catch {
    return undefined;
  }
}

/**
 * Finds the ID by the offer's parameter names, in their order: an exact name first, then the same
 * name in another case (networks and link builders disagree on `clickId` vs `clickid`).
 */
export function findTransactionId(
  input: string | URL,
  params: readonly string[],
  extraParams: readonly string[] = [],
): Result<FoundId, FindIdFailure> {
  const url = toUrl(input);
  if (!url) return err({ kind: 'not_a_url' });
  const query = url.searchParams;
  const lowerKeys = new Map<string, string>();
  for (const key of query.keys()) if (!lowerKeys.has(key.toLowerCase())) lowerKeys.set(key.toLowerCase(), key);

  let invalid: FindIdFailure | undefined;
  for (const param of params) {
    const key = query.has(param) ? param : lowerKeys.get(param.toLowerCase());
    if (key === undefined) continue;
    const checked = checkTransactionId(query.get(key));
    if (checked.ok) return ok({ param, value: checked.value, extras: pickExtras(query, extraParams) });
    invalid ??= { kind: 'invalid', param, reason: checked.reason };
  }
  return err(invalid ?? { kind: 'absent' });
}

function pickExtras(query: URLSearchParams, names: readonly string[]): Record<string, string> {
  const extras: Record<string, string> = {};
  for (const name of names) {
    const value = query.get(name);
    if (value !== null && value !== '' && value.length <= maxExtraLength && checkTransactionId(value).ok) extras[name] = value;
  }
  return extras;
}

const dayMs = 86_400_000;

/** Whether a click captured at `capturedAt` still counts at `at`. */
export function isWithinWindow(capturedAt: Date | string, at: Date, windowDays: number): boolean {
  const captured = new Date(capturedAt).getTime();
  if (Number.isNaN(captured)) return false;
  const age = at.getTime() - captured;
  // a little clock skew between the storefront and the server is not a reason to drop a click
  return age >= -5 * 60_000 && age <= windowDays * dayMs;
}

export interface StoredClick {
  readonly value: string;
  readonly capturedAt: Date | string;
}

/**
 * Last click wins unless the offer says first click; an expired click never blocks a new one, and
 * the same ID seen again keeps its original capture time.
 */
export function decideCapture(
  existing: StoredClick | undefined,
  incoming: StoredClick,
  rules: { readonly model: 'last_click' | 'first_click'; readonly windowDays: number },
  now: Date,
): 'keep' | 'replace' {
  if (!existing || !isWithinWindow(existing.capturedAt, now, rules.windowDays)) return 'replace';
  if (existing.value === incoming.value) return 'keep';
  return rules.model === 'first_click' ? 'keep' : 'replace';
}
