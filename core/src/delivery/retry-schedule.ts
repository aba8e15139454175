/**
 * When to try again. The schedule is an array of delays (ms): after the n-th failed attempt of a
 * run, wait schedule[n-1]; after the last one the job is dead. Jitter spreads retries so a network
 * that was down for everyone is not hit by every shop at the same second when it comes back; a
 * Retry-After the network sent is a floor (never retry sooner than asked).
 */

/** 1 min, 5 min, 30 min, 2 h, 6 h, 24 h: seven attempts over about 32.6 hours. */
export const defaultRetrySchedule: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 86_400_000];

export interface RetryDecisionInput {
  readonly schedule: readonly number[];
  /** Attempts made in this run, including the one that just failed (1-based). */
  readonly scheduleAttempts: number;
  /** Fraction of the delay to spread by, both ways (0.1 → ±10 %). */
  readonly jitter: number;
  /** A number in [0, 1). */
  readonly random: () => number;
  readonly retryAfterMs?: number | undefined;
}

/** The delay before the next attempt, or undefined when the schedule is used up (dead letter). */
export function nextRetryDelay(input: RetryDecisionInput): number | undefined {
  const base = input.schedule[input.scheduleAttempts - 1];
  if (base === undefined) return undefined;
  const spread = Math.min(Math.max(input.jitter, 0), 1);
  const jittered = Math.round(base * (1 + spread * (2 * input.random() - 1)));
  return Math.max(jittered, input.retryAfterMs ?? 0, 0);
}

/** Every problem with a schedule at once (empty when it is usable). */
export function scheduleProblems(schedule: readonly number[]): string[] {
  const problems: string[] = [];
  if (schedule.length === 0) problems.push('the retry schedule is empty');
  schedule.forEach((d, i) => {
    if (!Number.isInteger(d) || d <= 0) problems.push(`retry delay #${i + 1} (${d}) must be a positive whole number of milliseconds`);
  });
  return problems;
}
