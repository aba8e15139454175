import { planPostbacks } from '../conversion/plan-postbacks.ts';
import { deliverPostback } from '../delivery/deliver-postback.ts';
import { redactUrl } from '../delivery/redact-url.ts';
import { createUndiciTransport } from '../delivery/undici-transport.ts';
import { answerRulesOf } from '../offers/offer-schema.ts';
import type { AnswerRules } from '../offers/network-presets.ts';
import { postbackEvents, type PostbackEvent } from '../orders/order.ts';
import { parseDecimal } from '../shared/decimal.ts';
import { CliFailure, merchantFor, withStore, type CliContext } from './cli-context.ts';
import { sampleOrder } from './sample-order.ts';

export interface TestFireOptions {
  readonly merchant: string;
  readonly order: string;
  readonly event: string;
  readonly transactionId?: string;
  readonly orderId?: string;
  readonly amount: string;
  readonly currency: string;
  readonly timeoutMs: string;
  readonly showSecrets?: boolean;
}

/**
 * Renders the offer's postback for a sample order and sends it now, through the same transport,
 * SSRF guard and classifier as the worker; nothing is stored. Exit code 0 only when the network
 * counted it (success or duplicate).
 */
export async function testFire(ctx: CliContext, offerId: string, opts: TestFireOptions): Promise<number> {
  const problems: string[] = [];
  if (opts.order !== 'sample') problems.push(`--order: "${opts.order}" is not supported; test-fire renders the built-in sample order ("sample")`);
  if (!(postbackEvents as readonly string[]).includes(opts.event)) problems.push(`--event: "${opts.event}" must be one of ${postbackEvents.join(', ')}`);
  const amount = parseDecimal(opts.amount);
  if (!amount.ok) problems.push(`--amount: ${amount.reason}`);
  if (!/^[A-Z]{3}$/.test(opts.currency)) problems.push(`--currency: "${opts.currency}" must be a three-letter code such as USD`);
  if (!/^\d+$/.test(opts.timeoutMs) || Number(opts.timeoutMs) < 100 || Number(opts.timeoutMs) > 120_000) problems.push('--timeout-ms: must be 100 to 120000');
  if (problems.length > 0 || !amount.ok) throw new CliFailure(problems);
  const event = opts.event as PostbackEvent;

  const { job, rules } = await withStore(ctx, async (store) => {
    const merchantId = await merchantFor(ctx, store, opts.merchant);
    const stored = await store.getOffer(merchantId, offerId);
    if (!stored) throw new CliFailure([`offer "${offerId}" not found for merchant "${merchantId}" (see: clickthread offers list)`]);
    if (!stored.postbacks[event]) {
      const has = postbackEvents.filter((e) => stored.postbacks[e] !== undefined).join(', ');
      throw new CliFailure([`offer "${offerId}" has no ${event} postback (it has: ${has})`]);
    }
    // a test-fire goes out whether the offer is enabled yet, and whichever stores it is limited to
    const offer = { ...stored, enabled: true, stores: 'all' as const, testOrders: 'send' as const };
    const now = ctx.clock.now();
    const order = sampleOrder({
      merchantId, offer, event, now,
      transactionId: opts.transactionId ?? `clickthread-test-${now.getTime().toString(36)}`,
      orderId: opts.orderId ?? `TEST-${now.getTime().toString(36).toUpperCase()}`,
      amount: amount.value,
      currency: opts.currency,
    });
    const plan = planPostbacks({ order, offers: [offer], now });
    const planned = plan.jobs.find((j) => j.event === event);
    if (!planned) {
      const why = plan.skipped.length > 0 ? plan.skipped.map((s) => s.reason) : [plan.unattributed?.reason ?? 'no job was planned for this event'];
      throw new CliFailure([`offer "${offerId}": the ${event} postback was not rendered`, ...why]);
    }
    const a = answerRulesOf(stored);
    const answerRules: AnswerRules = {
      ...(a.successBody === undefined ? {} : { successBody: a.successBody }),
      ...(a.duplicateBody === undefined ? {} : { duplicateBody: a.duplicateBody }),
      ...(a.rejectBody === undefined ? {} : { rejectBody: a.rejectBody }),
    };
    return { job: planned, rules: answerRules };
  });

  const out = ctx.output;
  const shownUrl = opts.showSecrets === true ? job.url : redactUrl(job.url);
  out.out(`request:  ${job.method} ${shownUrl}`);
  for (const [name, value] of Object.entries(job.headers)) out.out(`          ${name}: ${opts.showSecrets === true ? value : '[redacted]'}`);
  out.out(`order:    ${job.orderId} (${job.event}), transaction ID ${job.transactionId}, ${job.amount} ${job.currency}`);
  if (ctx.config.allowPrivateTargets) out.err('warning: CLICKTHREAD_ALLOW_PRIVATE_TARGETS is on: loopback and private targets are allowed');

  const ssrf = { allowPrivate: ctx.config.allowPrivateTargets };
  const transport = createUndiciTransport({ ssrf });
  try {
    const result = await deliverPostback({ job, jobId: '', attemptNumber: 1, rules, transport, clock: ctx.clock, timeoutMs: Number(opts.timeoutMs), ssrf });
    const a = result.attempt;
    out.out(`answer:   ${a.status === null ? 'none' : `HTTP ${a.status}`} in ${a.latencyMs} ms`);
    for (const [name, value] of Object.entries(a.responseHeaders)) out.out(`          ${name}: ${value}`);
    if (a.responseBody !== '') out.out(`body:     ${a.responseBody.replace(/\s+/g, ' ').slice(0, 300)}`);
    out.out(`outcome:  ${result.outcome}: ${result.reason}`);
    return result.outcome === 'success' || result.outcome === 'duplicate' ? 0 : 1;
  } finally {
    await transport.close();
  }
}
