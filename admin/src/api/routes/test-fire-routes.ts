import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { answerRulesOf, checkTemplate, type AnswerRules, idempotencyKeyOf, renderTemplate, sampleMacroValues, type PostbackJobDraft } from '@clickthread/core';
import { deliverPostback } from '@clickthread/core/delivery';
import { defineRoute, type ApiRoute } from '../api-route.ts';
import { fail, notFound, ok, type ApiReply } from '../api-reply.ts';
import { eventSchema, macroValuesSchema, offerParams } from '../api-schemas.ts';
import { visibleMerchant, visibleStore } from '../principal.ts';
import { jobView, redactHeaders } from '../views.ts';

/**
 * Test-fire: render an offer's postback against the sample order (values overridable) and send it.
 * `direct` sends it now through the delivery engine's transport and SSRF guard and answers with
 * the request (secrets redacted) and the classified answer; `outbox` stores it as a test job that
 * the worker delivers like any conversion, so it shows in the postback log.
 */

/** The offer schema's optional fields may hold undefined; AnswerRules leaves them out (as the worker does). */
function definedRules(rules: ReturnType<typeof answerRulesOf>): AnswerRules {
  return Object.fromEntries(Object.entries(rules).filter(([, value]) => value !== undefined));
}

export function testFireRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/merchants/:merchantId/offers/:offerId/test-fire',
      summary: 'Send a test postback for an offer (direct: now, with the answer; outbox: through the worker and the log)',
      tag: 'postbacks',
      params: offerParams,
      body: z.strictObject({
        event: eventSchema.optional(),
        values: macroValuesSchema.optional(),
        via: z.enum(['direct', 'outbox']).default('direct'),
        storeId: z.string().min(1).max(128).optional(),
      }),
      responses: {
        200: 'Sent: the request and the classified answer',
        202: 'Queued in the outbox as a test postback',
        404: 'No such merchant, offer or store (of this merchant)',
        501: 'This server has no transport for test-fires',
      },
      async handle({ deps, principal, params, body }): Promise<ApiReply> {
        const merchant = await visibleMerchant(deps.store, principal, params.merchantId);
        const offer = merchant && (await deps.store.getOffer(merchant.id, params.offerId));
        if (!merchant || !offer) return notFound('offer');
        // the test job is stored under the store: another merchant's store is not this merchant's to write into
        if (body.storeId !== undefined && !(await visibleStore(deps.store, principal, merchant.id, body.storeId))) return notFound('store');
        const event = body.event ?? (['sale', 'lead', 'first_order', 'refund', 'cancel'] as const).find((e) => offer.postbacks[e] !== undefined) ?? 'sale';
        const spec = offer.postbacks[event];
        if (!spec) return fail(400, 'invalid_request', `offer ${offer.id} has no ${event} postback`, [{ path: 'body.event', message: `the offer has no ${event} postback` }]);

        const now = deps.clock.now();
        const values = {
          ...sampleMacroValues,
          event,
          offer_id: offer.id,
          test: '1',
          timestamp: String(Math.floor(now.getTime() / 1000)),
          ...body.values,
        };
        const compiled = checkTemplate(spec.url, { extraMacros: offer.extraParams, allowHttp: offer.allowHttp });
        const rendered = compiled.ok ? renderTemplate(compiled.value, values) : undefined;
        if (!rendered?.ok) {
          const problems = compiled.ok ? [rendered?.reason ?? 'cannot be rendered'] : compiled.reason;
          return fail(400, 'invalid_offer', 'the postback template cannot be rendered', problems.map((message) => ({ path: `postbacks.${event}.url`, message })));
        }
        // a test-fire is never a duplicate of anything: it gets an order id of its own
        const orderId = `test-fire:${now.getTime()}:${randomBytes(4).toString('hex')}`;
        const storeId = body.storeId ?? 'test-fire';
        const job: PostbackJobDraft = {
          idempotencyKey: idempotencyKeyOf({ storeId, orderId, offerId: offer.id, eventKey: event }),
          merchantId: merchant.id,
          storeId,
          orderId,
          orderNumber: `test ${values.order_number}`,
          offerId: offer.id,
          event,
          eventKey: event,
          method: spec.method,
          url: rendered.value,
          headers: spec.headers,
          transactionId: values.transaction_id,
          idSource: 'manual',
          amount: values.amount,
          currency: values.currency,
          test: true,
          allowHttp: offer.allowHttp,
        };

        if (body.via === 'outbox') {
          await deps.store.enqueue({ jobs: [job], now });
          const [stored] = await deps.store.listJobs({ merchantId: merchant.id, orderId, limit: 1 });
          deps.wakeWorker?.();
          deps.logger.info({ merchantId: merchant.id, offerId: offer.id, event, actor: principal.actor }, 'test-fire queued');
          return { status: 202, body: { postback: stored ? jobView(stored) : null } };
        }

        if (!deps.transport) return fail(501, 'test_fire_unavailable', 'this server sends no test-fires directly; use via=outbox');
        const result = await deliverPostback({
          job,
          jobId: '',
          attemptNumber: 1,
          rules: definedRules(answerRulesOf(offer)),
          transport: deps.transport,
          clock: deps.clock,
          timeoutMs: deps.testFireTimeoutMs,
          ssrf: deps.ssrf,
        });
        deps.logger.info(
          { merchantId: merchant.id, offerId: offer.id, event, outcome: result.outcome, url: result.attempt.requestUrl, actor: principal.actor },
          'test-fire sent',
        );
        const a = result.attempt;
        return ok({
          request: { method: job.method, url: a.requestUrl, headers: redactHeaders(job.headers) },
          response: a.status === null ? null : { status: a.status, headers: a.responseHeaders, body: a.responseBody },
          outcome: result.outcome,
          reason: result.reason,
          errorClass: a.errorClass,
          latencyMs: a.latencyMs,
        });
      },
    }),
  ];
}
