import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { datedReportedClick, maxClickReportDelayMs } from './reported-click-time.ts';

const now = new Date('2026-03-02T12:00:00.000Z');
const hours = (h: number) => new Date(now.getTime() - h * 3_600_000);

describe('datedReportedClick', () => {
  it.each([
    ['a click an hour ago keeps its time', hours(1), hours(1)],
    ['a click in the browser\'s future is dated now', hours(-2), now],
    ['a click three days ago is dated a day ago', hours(72), hours(24)],
    ['a click exactly a day ago keeps its time', hours(24), hours(24)],
  ])('%s', (_, reported, expected) => {
    expect(datedReportedClick(reported, now, 30)).toEqual({ ok: true, value: expected });
  });

  it('refuses a click older than the attribution window', () => {
    expect(datedReportedClick(hours(24 * 31), now, 30)).toEqual({ ok: false, reason: 'expired' });
    expect(datedReportedClick(hours(24 * 30), now, 30).ok).toBe(true);
  });

  it('refuses a time that is not a time', () => {
    expect(datedReportedClick(new Date('yesterday'), now, 30)).toEqual({ ok: false, reason: 'invalid_time' });
  });

  it('always dates within [now - max delay, now]', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10 * 86_400_000, max: 90 * 86_400_000 }), fc.integer({ min: 1, max: 90 }), (ageMs, windowDays) => {
        const dated = datedReportedClick(new Date(now.getTime() - ageMs), now, windowDays);
        if (!dated.ok) return ageMs > windowDays * 86_400_000;
        const t = dated.value.getTime();
        return t <= now.getTime() && t >= now.getTime() - maxClickReportDelayMs;
      }),
    );
  });
});
