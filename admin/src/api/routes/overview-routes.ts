import { z } from 'zod';
import type { JobStatus } from '@clickthread/core/storage';
import { defineRoute, type ApiRoute } from '../api-route.ts';
import { notFound, ok } from '../api-reply.ts';
import { limitSchema, merchantParams } from '../api-schemas.ts';
import { visibleMerchant } from '../principal.ts';
import { unattributedView } from '../views.ts';

/**
 * The overview: are conversions being reported? Postbacks in the window by day and status, the
 * success rate of settled ones, dead letters waiting, and the orders that found no ID (and why).
 * The counts come from the Store's per-day aggregate (countJobsByDay): the overview reads a row
 * per day and status, never the jobs themselves, however many there are.
 */

const dayMs = 24 * 60 * 60 * 1000;

interface DayCounts {
  date: string;
  succeeded: number;
  failed: number;
  dead: number;
  pending: number;
}

const bucketOf = (status: JobStatus): keyof Omit<DayCounts, 'date'> => (status === 'in_flight' ? 'pending' : status);

export function overviewRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/overview',
      summary: 'Conversions reported, success rate, dead letters, unattributed orders and a per-day series',
      tag: 'overview',
      params: merchantParams,
      query: z.strictObject({ days: limitSchema(90, 14) }),
      responses: { 200: 'The overview', 404: 'No such merchant' },
      async handle({ deps, principal, params, query }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const now = deps.clock.now();
        const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
        const from = new Date(today - (query.days - 1) * dayMs);

        const series: DayCounts[] = [];
        const byDate = new Map<string, DayCounts>();
        for (let i = 0; i < query.days; i += 1) {
          const day: DayCounts = { date: new Date(from.getTime() + i * dayMs).toISOString().slice(0, 10), succeeded: 0, failed: 0, dead: 0, pending: 0 };
          series.push(day);
          byDate.set(day.date, day);
        }
        const totals = { succeeded: 0, failed: 0, dead: 0, pending: 0 };
        // [from, the end of today): every job of the window, today's included
        for (const cell of await deps.store.countJobsByDay({ merchantId: merchant.id, from, to: new Date(today + dayMs) })) {
          const bucket = bucketOf(cell.status);
          totals[bucket] += cell.count;
          const day = byDate.get(cell.day);
          if (day) day[bucket] += cell.count;
        }
        const settled = totals.succeeded + totals.failed + totals.dead;

        const counts = await deps.store.countJobs({ merchantId: merchant.id });
        const unattributed = (await deps.store.listUnattributed({ merchantId: merchant.id, limit: 1000 })).filter((u) => u.at >= from);
        const reasons = new Map<string, number>();
        for (const u of unattributed) reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);

        return ok({
          from: from.toISOString(),
          to: now.toISOString(),
          days: query.days,
          conversionsReported: totals.succeeded,
          failed: totals.failed,
          pending: totals.pending,
          successRate: settled === 0 ? null : totals.succeeded / settled,
          deadLetters: counts.dead,
          unattributed: {
            count: unattributed.length,
            byReason: [...reasons].map(([reason, count]) => ({ reason, count })).toSorted((a, b) => b.count - a.count).slice(0, 10),
            recent: unattributed.slice(0, 5).map(unattributedView),
          },
          series,
        });
      },
    }),
  ];
}
