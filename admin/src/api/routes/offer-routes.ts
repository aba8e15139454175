import { z } from 'zod';
import { offerSchema, parseOffer, type Offer, type OfferIssue } from '@clickthread/core';
import type { AuditAction } from '@clickthread/core/access';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, type ApiRoute } from '../api-route.ts';
import { created, fail, noContent, notFound, ok, type ApiIssue, type ApiReply } from '../api-reply.ts';
import { booleanQuery, limitSchema, merchantParams, offerParams } from '../api-schemas.ts';
import { visibleMerchant, type Principal } from '../principal.ts';
import { auditView } from '../views.ts';

/**
 * Offers: CRUD, enable/disable, import/export, and the audit log of every change. Offer bodies are
 * validated by core's parseOffer, the one schema the CLI and the admin UI use too; its issues name
 * the offer's own fields (`postbacks.sale.url`).
 */

const maxImport = 500;

function invalidOffer(issues: readonly OfferIssue[], message = 'the offer is invalid'): ApiReply {
  return fail(400, 'invalid_offer', message, issues);
}

async function audit(deps: ApiDeps, principal: Principal, merchantId: string, offerId: string, action: AuditAction, before: Offer | null, after: Offer | null) {
  await deps.access.recordAudit({ merchantId, offerId, action, actor: principal.actor, at: deps.clock.now(), before, after });
}

const sameOffer = (a: Offer, b: Offer): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What the CLI accepts too: one offer, an array of offers, or `{"offers": [...]}` (what export writes). */
const importBody = z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())], {
  error: 'must be an offer, an array of offers, or {"offers": [...]}',
});

/** The offers to import, and how an issue of the i-th names its place in the body. */
function importList(body: z.output<typeof importBody>): { inputs: unknown[]; at: (i: number, path: string) => string } | { problem: ApiIssue } {
  if (Array.isArray(body)) return { inputs: body, at: (i, path) => `${i}.${path}` };
  if (!('offers' in body)) return { inputs: [body], at: (_i, path) => path };
  const offers = body['offers'];
  return Array.isArray(offers) ? { inputs: offers, at: (i, path) => `offers.${i}.${path}` } : { problem: { path: 'offers', message: 'must be an array of offers' } };
}

/** A merchant's offers, for the list and the export (the same JSON the import and the CLI accept). */
async function offersOf(deps: ApiDeps, principal: Principal, merchantId: string): Promise<ApiReply> {
  const merchant = await visibleMerchant(deps.store, principal, merchantId);
  if (!merchant) return notFound('merchant');
  return ok({ offers: await deps.store.listOffers(merchant.id) });
}

export function offerRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/offers',
      summary: 'List the merchant\'s offers',
      tag: 'offers',
      params: merchantParams,
      responses: { 200: 'The offers', 404: 'No such merchant' },
      handle: ({ deps, principal, params }) => offersOf(deps, principal, params.merchantId),
    }),

    defineRoute({
      method: 'post',
      path: '/merchants/:merchantId/offers',
      summary: 'Create an offer (the offer JSON, validated by the one offer schema)',
      tag: 'offers',
      params: merchantParams,
      bodyDoc: offerSchema,
      responses: { 201: 'Created', 404: 'No such merchant', 409: 'An offer with this id exists' },
      async handle({ deps, principal, params, req }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const parsed = parseOffer(req.body);
        if (!parsed.ok) return invalidOffer(parsed.reason);
        const offer = parsed.value;
        if (await deps.store.getOffer(merchant.id, offer.id)) return fail(409, 'conflict', `offer ${offer.id} exists; update it with PUT`);
        await deps.store.saveOffer(merchant.id, offer, deps.clock.now());
        await audit(deps, principal, merchant.id, offer.id, 'create', null, offer);
        return created({ offer });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/offers/:offerId',
      summary: 'Get one offer',
      tag: 'offers',
      params: offerParams,
      responses: { 200: 'The offer', 404: 'No such merchant or offer' },
      async handle({ deps, principal, params }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        const offer = merchant && (await deps.store.getOffer(merchant.id, params.offerId));
        return offer ? ok({ offer }) : notFound('offer');
      },
    }),

    defineRoute({
      method: 'put',
      path: '/merchants/:merchantId/offers/:offerId',
      summary: 'Replace an offer',
      tag: 'offers',
      params: offerParams,
      bodyDoc: offerSchema,
      responses: { 200: 'Updated', 404: 'No such merchant or offer' },
      async handle({ deps, principal, params, req }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        const before = merchant && (await deps.store.getOffer(merchant.id, params.offerId));
        if (!merchant || !before) return notFound('offer');
        const parsed = parseOffer(req.body);
        if (!parsed.ok) return invalidOffer(parsed.reason);
        const offer = parsed.value;
        if (offer.id !== params.offerId) return invalidOffer([{ path: 'id', message: `must be the offer id in the URL (${params.offerId})` }]);
        await deps.store.saveOffer(merchant.id, offer, deps.clock.now());
        if (!sameOffer(before, offer)) await audit(deps, principal, merchant.id, offer.id, 'update', before, offer);
        return ok({ offer });
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/merchants/:merchantId/offers/:offerId',
      summary: 'Delete an offer',
      tag: 'offers',
      params: offerParams,
      responses: { 204: 'Deleted', 404: 'No such merchant or offer' },
      async handle({ deps, principal, params }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        const before = merchant && (await deps.store.getOffer(merchant.id, params.offerId));
        if (!merchant || !before) return notFound('offer');
        await deps.store.deleteOffer(merchant.id, before.id);
        await audit(deps, principal, merchant.id, before.id, 'delete', before, null);
        return noContent();
      },
    }),

    ...(['enable', 'disable'] as const).map((action) =>
      defineRoute({
        method: 'post',
        path: `/merchants/:merchantId/offers/:offerId/${action}`,
        summary: action === 'enable' ? 'Enable an offer' : 'Disable an offer (no new postbacks; queued ones still go out)',
        tag: 'offers',
        params: offerParams,
        responses: { 200: 'The offer', 404: 'No such merchant or offer' },
        async handle({ deps, principal, params }) {
          const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
          const before = merchant && (await deps.store.getOffer(merchant.id, params.offerId));
          if (!merchant || !before) return notFound('offer');
          const enabled = action === 'enable';
          if (before.enabled === enabled) return ok({ offer: before });
          const offer: Offer = { ...before, enabled };
          await deps.store.saveOffer(merchant.id, offer, deps.clock.now());
          await audit(deps, principal, merchant.id, offer.id, action, before, offer);
          return ok({ offer });
        },
      }),
    ),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/offers/:offerId/audit',
      summary: 'The audit log of one offer (who changed what, when), newest first',
      tag: 'offers',
      params: offerParams,
      query: z.strictObject({ limit: limitSchema(1000, 100), before: z.string().regex(/^\d{1,15}$/, 'must be an audit entry id').optional() }),
      responses: { 200: 'Audit entries', 404: 'No such merchant' },
      async handle({ deps, principal, params, query }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const entries = await deps.access.listAudit({
          merchantId: merchant.id,
          offerId: params.offerId,
          limit: query.limit,
          ...(query.before === undefined ? {} : { before: query.before }),
        });
        return ok({ entries: entries.map(auditView) });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/audit',
      summary: 'The audit log of all the merchant\'s offers, newest first',
      tag: 'offers',
      params: merchantParams,
      query: z.strictObject({ limit: limitSchema(1000, 100), before: z.string().regex(/^\d{1,15}$/, 'must be an audit entry id').optional() }),
      responses: { 200: 'Audit entries', 404: 'No such merchant' },
      async handle({ deps, principal, params, query }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const entries = await deps.access.listAudit({ merchantId: merchant.id, limit: query.limit, ...(query.before === undefined ? {} : { before: query.before }) });
        return ok({ entries: entries.map(auditView) });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId/export/offers',
      summary: 'Export every offer as JSON ({"offers": [...]}, accepted back by import and the CLI)',
      tag: 'offers',
      params: merchantParams,
      responses: { 200: 'The offers', 404: 'No such merchant' },
      handle: ({ deps, principal, params }) => offersOf(deps, principal, params.merchantId),
    }),

    defineRoute({
      method: 'post',
      path: '/merchants/:merchantId/import/offers',
      summary: 'Import offers (one, an array, or {"offers": [...]}; created or replaced by id); all are validated first and nothing is saved unless every one is valid',
      tag: 'offers',
      params: merchantParams,
      query: z.strictObject({ dryRun: booleanQuery.default(false) }),
      body: importBody,
      responses: { 200: 'What was (or, with dryRun, would be) created, updated and left unchanged', 404: 'No such merchant' },
      async handle({ deps, principal, params, query, body }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        const list = importList(body);
        if ('problem' in list) return invalidOffer([list.problem]);
        const { inputs, at } = list;
        if (inputs.length > maxImport) return invalidOffer([{ path: '(offers)', message: `at most ${maxImport} offers per import` }]);
        const issues: ApiIssue[] = [];
        const offers: Offer[] = [];
        const seen = new Set<string>();
        inputs.forEach((input, i) => {
          const parsed = parseOffer(input);
          if (!parsed.ok) {
            issues.push(...parsed.reason.map((issue) => ({ path: at(i, issue.path), message: issue.message })));
            return;
          }
          if (seen.has(parsed.value.id)) issues.push({ path: at(i, 'id'), message: `offer ${parsed.value.id} appears twice in the import` });
          seen.add(parsed.value.id);
          offers.push(parsed.value);
        });
        if (issues.length > 0) return invalidOffer(issues, 'the import is invalid; nothing was saved');

        const summary = { created: [] as string[], updated: [] as string[], unchanged: [] as string[] };
        for (const offer of offers) {
          const before = await deps.store.getOffer(merchant.id, offer.id);
          if (before && sameOffer(before, offer)) {
            summary.unchanged.push(offer.id);
            continue;
          }
          (before ? summary.updated : summary.created).push(offer.id);
          if (query.dryRun) continue;
          await deps.store.saveOffer(merchant.id, offer, deps.clock.now());
          await audit(deps, principal, merchant.id, offer.id, 'import', before ?? null, offer);
        }
        return ok({ dryRun: query.dryRun, ...summary });
      },
    }),
  ];
}
