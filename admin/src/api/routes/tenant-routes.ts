import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { issueApiToken, type ApiTokenRecord } from '@clickthread/core/access';
import { defineRoute, type ApiRoute } from '../api-route.ts';
import { created, fail, forbidden, invalid, noContent, notFound, ok } from '../api-reply.ts';
import { agencyIdSchema, merchantIdSchema, merchantParams, tokenPrefixSchema } from '../api-schemas.ts';
import { visibleMerchant, visibleMerchants, type Principal } from '../principal.ts';
import type { ApiDeps } from '../api-deps.ts';
import { agencyView, merchantView, tokenView } from '../views.ts';

/**
 * Tenancy: who am I, agencies (operator), merchants (an agency creates its own), and API tokens.
 * A token is shown once, when it is issued; only its hash is kept.
 */

const labelSchema = z.string().trim().max(100, 'is longer than 100 characters').default('');

/** Whether the principal may see (and revoke) a token. */
async function tokenVisible(deps: ApiDeps, principal: Principal, token: ApiTokenRecord): Promise<boolean> {
  const scope = principal.scope;
  if (scope.kind === 'operator') return true;
  if (token.scope.kind === 'agency') return scope.kind === 'agency' && token.scope.agencyId === scope.agencyId;
  return (await visibleMerchant(deps.store, principal, token.scope.merchantId)) !== undefined;
}

export function tenantRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/me',
      summary: 'The caller: its scope and the merchants it can see',
      tag: 'tenancy',
      responses: { 200: 'The principal' },
      async handle({ deps, principal }) {
        const merchants = await visibleMerchants(deps.store, principal);
        return ok({ scope: principal.scope, actor: principal.actor, merchants: merchants.map(merchantView) });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/agencies',
      summary: 'Agencies (the operator sees all, an agency itself)',
      tag: 'tenancy',
      role: 'agency',
      responses: { 200: 'Agencies', 403: 'Merchant tokens see no agencies' },
      async handle({ deps, principal }) {
        const scope = principal.scope;
        if (scope.kind === 'agency') {
          const own = await deps.access.getAgency(scope.agencyId);
          return ok({ agencies: own ? [agencyView(own)] : [] });
        }
        return ok({ agencies: (await deps.access.listAgencies()).map(agencyView) });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/agencies',
      summary: 'Create an agency (operator only)',
      tag: 'tenancy',
      role: 'operator',
      body: z.strictObject({ id: agencyIdSchema, name: z.string().trim().min(1, 'is required').max(200) }),
      responses: { 201: 'Created', 403: 'Operator only', 409: 'An agency with this id exists' },
      async handle({ deps, body }) {
        if (await deps.access.getAgency(body.id)) return fail(409, 'conflict', `agency ${body.id} exists`);
        const agency = await deps.access.createAgency({ id: body.id, name: body.name, now: deps.clock.now() });
        return created({ agency: agencyView(agency) });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants',
      summary: 'The merchants the caller can see',
      tag: 'tenancy',
      responses: { 200: 'Merchants' },
      async handle({ deps, principal }) {
        return ok({ merchants: (await visibleMerchants(deps.store, principal)).map(merchantView) });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/merchants',
      summary: 'Create a merchant (an agency creates its own; the operator may name any agency)',
      tag: 'tenancy',
      role: 'agency',
      body: z.strictObject({ id: merchantIdSchema.optional(), name: z.string().trim().min(1, 'is required').max(200), agencyId: agencyIdSchema.nullable().optional() }),
      responses: { 201: 'Created', 403: 'Merchant tokens cannot create merchants', 409: 'A merchant with this id exists' },
      async handle({ deps, principal, body }) {
        const scope = principal.scope;
        let agencyId: string | null = body.agencyId ?? null;
        if (scope.kind === 'agency') {
          if (agencyId !== null && agencyId !== scope.agencyId) return invalid([{ path: 'body.agencyId', message: 'an agency creates merchants for itself only' }]);
          agencyId = scope.agencyId;
        } else if (agencyId !== null && !(await deps.access.getAgency(agencyId))) {
          return invalid([{ path: 'body.agencyId', message: `agency ${agencyId} does not exist` }]);
        }
        const id = body.id ?? `m_${randomBytes(8).toString('hex')}`;
        if (await deps.store.getMerchant(id)) return fail(409, 'conflict', `merchant ${id} exists`);
        const merchant = await deps.store.createMerchant({ id, name: body.name, agencyId, now: deps.clock.now() });
        return created({ merchant: merchantView(merchant) });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/merchants/:merchantId',
      summary: 'One merchant',
      tag: 'tenancy',
      params: merchantParams,
      responses: { 200: 'The merchant', 404: 'No such merchant' },
      async handle({ deps, principal, params }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        return merchant ? ok({ merchant: merchantView(merchant) }) : notFound('merchant');
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/merchants/:merchantId',
      summary: 'Delete a merchant and everything it owns (its tokens stop working at once)',
      tag: 'tenancy',
      role: 'agency',
      params: merchantParams,
      responses: { 204: 'Deleted', 403: 'Merchant tokens cannot delete merchants', 404: 'No such merchant' },
      async handle({ deps, principal, params }) {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        if (!merchant) return notFound('merchant');
        await deps.store.deleteMerchant(merchant.id);
        await deps.access.deleteMerchantAccess(merchant.id);
        deps.logger.info({ merchantId: merchant.id, actor: principal.actor }, 'merchant deleted');
        return noContent();
      },
    }),

    defineRoute({
      method: 'get',
      path: '/tokens',
      summary: 'API tokens the caller can see (prefix, scope, label, last use; never the secret)',
      tag: 'tenancy',
      responses: { 200: 'Tokens' },
      async handle({ deps, principal }) {
        const scope = principal.scope;
        let tokens: ApiTokenRecord[];
        if (scope.kind === 'operator') tokens = await deps.access.listTokens();
        else if (scope.kind === 'merchant') tokens = await deps.access.listTokens({ merchantId: scope.merchantId });
        else {
          tokens = await deps.access.listTokens({ agencyId: scope.agencyId });
          for (const merchant of await visibleMerchants(deps.store, principal)) tokens.push(...(await deps.access.listTokens({ merchantId: merchant.id })));
        }
        return ok({ tokens: tokens.map(tokenView) });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/tokens',
      summary: 'Issue an API token for an agency or a merchant the caller manages; the token is in this answer only',
      tag: 'tenancy',
      body: z.strictObject({
        scope: z.discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('agency'), agencyId: agencyIdSchema }),
          z.strictObject({ kind: z.literal('merchant'), merchantId: merchantIdSchema }),
        ]),
        label: labelSchema,
      }),
      responses: { 201: 'The token (shown once) and its record', 404: 'No such agency or merchant' },
      async handle({ deps, principal, body }) {
        const scope = principal.scope;
        const target = body.scope;
        if (target.kind === 'agency') {
          if (scope.kind === 'merchant') return forbidden('a merchant token cannot issue agency tokens');
          if (scope.kind === 'agency' && scope.agencyId !== target.agencyId) return notFound('agency');
          if (!(await deps.access.getAgency(target.agencyId))) return notFound('agency');
        } else if (!(await visibleMerchant(deps.store, principal, target.merchantId))) {
          return notFound('merchant');
        }
        const issued = await issueApiToken(deps.access, { scope: target, label: body.label, now: deps.clock.now() });
        deps.logger.info({ tokenPrefix: issued.record.prefix, scope: target, actor: principal.actor }, 'API token issued');
        return created({ token: issued.token, record: tokenView(issued.record) });
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/tokens/:prefix',
      summary: 'Revoke an API token',
      tag: 'tenancy',
      params: z.strictObject({ prefix: tokenPrefixSchema }),
      responses: { 204: 'Revoked', 404: 'No such token' },
      async handle({ deps, principal, params }) {
        const token = await deps.access.findToken(params.prefix);
        if (!token || !(await tokenVisible(deps, principal, token))) return notFound('token');
        await deps.access.revokeToken(token.prefix);
        deps.logger.info({ tokenPrefix: token.prefix, actor: principal.actor }, 'API token revoked');
        return noContent();
      },
    }),
  ];
}
