import { err, ok, type Result } from '../shared/result.ts';

/**
 * The storefront script reports a click right after it happens (Shopify's app proxy, the bridge's
 * /capture). The time in the report comes from the shopper's browser: it may run ahead, and a report
 * sent long after its click is a replay or hand-made. Both apps date reported clicks with this one rule.
 */

/** The oldest a reported click may be dated: a day before the report arrives. */
export const maxClickReportDelayMs = 24 * 3_600_000;

const dayMs = 86_400_000;

/**
 * The time a reported click is stored with: never after `now`, never earlier than
 * maxClickReportDelayMs before it. A click older than the attribution window counts for nothing
 * and is refused as `expired`.
 */
export function datedReportedClick(reported: Date, now: Date, windowDays: number): Result<Date, 'expired' | 'invalid_time'> {
  const at = reported.getTime();
  if (Number.isNaN(at)) return err('invalid_time');
  if (now.getTime() - at > windowDays * dayMs) return err('expired');
  return ok(new Date(Math.max(Math.min(at, now.getTime()), now.getTime() - maxClickReportDelayMs)));
}
