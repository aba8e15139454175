import { z } from 'zod';
import type { JobFilter } from '@clickthread/core/storage';
import { defineRoute, type ApiRoute } from '../api-route.ts';
import { fail, notFound, ok } from '../api-reply.ts';
import { fromDateSchema, jobIdSchema, jobParams, jobStatusSchema, limitSchema, merchantParams, offerIdSchema, toDateSchema } from '../api-schemas.ts';
import { visibleMerchant } from '../principal.ts';
import { attemptView, jobView, unattributedView, writeBackView } from '../views.ts';

/**
 * The postback log (jobs and their attempts), dead letters and their replay, unattributed orders,
 * and write-backs (order notes and tags) the stores did not take.
 */

const logFilters = {
  offer: offerIdSchema.optional(),
  order: z.string().min(1).max(128).optional(),
  store: z.string().min(1).max(128).optional(),
  from: fromDateSchema.optional(),
  to: toDateSchema.optional(),
  limit: limitSchema(500, 50),
  before: jobIdSchema.optional(),
};

type LogQuery = { offer?: string | undefined; order?: string | undefined; store?: string | undefined; from?: Date | undefined; to?: Date | undefined; limit: number; before?: string | undefined };

function jobFilterOf(merchantId: string, q: LogQuery): JobFilter {
  return {
    merchantId,
    limit: q.limit,
    ...(q.offer === undefined ? {} : { offerId: q.offer }),
    ...(q.order === undefined ? {} : { orderId: q.order }),
    ...(q.store === undefined ? {} : { storeId: q.store }),
    ...(q.from === undefined ? {} : { createdFrom: q.from }),
    ...(q.to === undefined ? {} : { createdTo: q.to }),
    ...(q.before === undefined ? {} : { before: q.before }),
  };
}

export function postbackRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/postbacks',
      summary: 'The postback log, newest first (filters: offer, status, order, store, from/to date; keyset pages with before)',
      tag: 'postbacks',
      params: merchantParams,
      query: z.strictObject({ ...logFilters, status: jobStatusSchema.optional() }),
      responses: { 200: 'Postbacks and the id to pass as before for the next page', 404: 'No such merchant' },
      async handle({ deps, principal, params, query }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const jobs = await deps.store.listJobs({ ...jobFilterOf(merchant.id, query), ...(query.status === undefined ? {} : { status: query.status }) });
        return ok({ postbacks: jobs.map(jobView), next: jobs.length === query.limit ? (jobs.at(-1)?.id ?? null) : null });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/postbacks/:jobId',
      summary: 'One postback with every attempt (request redacted, answer, latency, error class)',
      tag: 'postbacks',
      params: jobParams,
      responses: { 200: 'The postback and its attempts', 404: 'No such merchant or postback' },
      async handle({ deps, principal, params }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        const job = merchant && (await deps.store.getJob(params.jobId));
        if (!merchant || !job || job.merchantId !== merchant.id) return notFound('postback');
        const attempts = await deps.store.listAttempts(job.id);
        return ok({ postback: jobView(job), attempts: attempts.map(attemptView) });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/merchants/:merchantId/postbacks/:jobId/replay',
      summary: 'Replay one dead (or failed) postback: due now, with a fresh retry schedule',
      tag: 'postbacks',
      params: jobParams,
      responses: { 200: 'Replayed', 404: 'No such merchant or postback', 409: 'The postback is not dead or failed' },
      async handle({ deps, principal, params }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        const job = merchant && (await deps.store.getJob(params.jobId));
        if (!merchant || !job || job.merchantId !== merchant.id) return notFound('postback');
        if (job.status !== 'dead' && job.status !== 'failed') return fail(409, 'not_replayable', `postback ${job.id} is ${job.status}; only dead or failed postbacks are replayed`);
        const replayed = await deps.store.replayJobs({ ids: [job.id], now: deps.clock.now() });
        deps.wakeWorker?.();
        deps.logger.info({ merchantId: merchant.id, jobId: job.id, actor: principal.actor }, 'postback replayed');
        const after = await deps.store.getJob(job.id);
        return ok({ replayed, postback: after ? jobView(after) : null });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/dead-letters',
      summary: 'Dead letters: postbacks that ran out of retries, newest first',
      tag: 'postbacks',
      params: merchantParams,
      query: z.strictObject(logFilters),
      responses: { 200: 'Dead postbacks', 404: 'No such merchant' },
      async handle({ deps, principal, params, query }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const jobs = await deps.store.listJobs({ ...jobFilterOf(merchant.id, query), status: 'dead' });
        return ok({ postbacks: jobs.map(jobView), next: jobs.length === query.limit ? (jobs.at(-1)?.id ?? null) : null });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/merchants/:merchantId/dead-letters/replay',
      summary: 'Replay every dead (or failed) postback matching a filter (offer, store, created from/to)',
      tag: 'postbacks',
      params: merchantParams,
      body: z.strictObject({
        offer: offerIdSchema.optional(),
        store: z.string().min(1).max(128).optional(),
        from: fromDateSchema.optional(),
        to: toDateSchema.optional(),
        status: z.enum(['dead', 'failed']).default('dead'),
      }),
      responses: { 200: 'How many were replayed', 404: 'No such merchant' },
      async handle({ deps, principal, params, body }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const filter: JobFilter = {
          merchantId: merchant.id,
          status: body.status,
          ...(body.offer === undefined ? {} : { offerId: body.offer }),
          ...(body.store === undefined ? {} : { storeId: body.store }),
          ...(body.from === undefined ? {} : { createdFrom: body.from }),
          ...(body.to === undefined ? {} : { createdTo: body.to }),
        };
        const replayed = await deps.store.replayJobs({ filter, now: deps.clock.now() });
        if (replayed > 0) deps.wakeWorker?.();
        deps.logger.info({ merchantId: merchant.id, replayed, offerId: body.offer, actor: principal.actor }, 'dead letters replayed');
        return ok({ replayed });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/unattributed',
      summary: 'Paid orders that sent no postback, and why',
      tag: 'postbacks',
      params: merchantParams,
      query: z.strictObject({ store: z.string().min(1).max(128).optional(), limit: limitSchema(500, 100) }),
      responses: { 200: 'Unattributed orders', 404: 'No such merchant' },
      async handle({ deps, principal, params, query }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const orders = await deps.store.listUnattributed({ merchantId: merchant.id, limit: query.limit, ...(query.store === undefined ? {} : { storeId: query.store }) });
        return ok({ orders: orders.map(unattributedView) });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/write-backs',
      summary: 'Order notes and tags a store did not take: waiting for their next try, or given up (dead) with the reason',
      tag: 'postbacks',
      params: merchantParams,
      query: z.strictObject({ store: z.string().min(1).max(128).optional(), status: z.enum(['pending', 'dead']).optional(), limit: limitSchema(500, 100) }),
      responses: { 200: 'Write-backs, newest first', 404: 'No such merchant' },
      async handle({ deps, principal, params, query }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const tasks = await deps.store.listWriteBacks({
          merchantId: merchant.id,
          limit: query.limit,
          ...(query.store === undefined ? {} : { storeId: query.store }),
          ...(query.status === undefined ? {} : { status: query.status }),
        });
        return ok({ writeBacks: tasks.map(writeBackView) });
      },
    }),
  ];
}
