import { z } from 'zod';
import { postbackEvents, type PostbackEvent } from '../orders/order.ts';
import { checkTemplate } from '../templates/postback-template.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { networkIds, networkPresets } from './network-presets.ts';

/**
 * The one definition of an offer. The CLI, the JSON API and the admin UI all accept exactly this
 * JSON; nothing else describes an offer.
 */

const paramName = z
  .string()
  .regex(/^[A-Za-z0-9_.\-[\]]{1,64}$/, 'must be a URL parameter name: letters, digits, _ . - [ ], at most 64 characters');

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name');

export const postbackSpecSchema = z.strictObject({
  url: z.string().min(1, 'is required').max(4096, 'is longer than 4096 characters'),
  method: z.enum(['GET', 'POST']).default('GET'),
  headers: z.record(headerName, z.string().max(2048).regex(/^[^\r\n]*$/, 'must not contain line breaks')).default({}),
});

export const answerRulesSchema = z.strictObject({
  successBody: z.string().max(500).optional(),
  duplicateBody: z.string().max(500).optional(),
  rejectBody: z.string().max(500).optional(),
});

const postbacksSchema = z
  .strictObject(Object.fromEntries(postbackEvents.map((e) => [e, postbackSpecSchema.optional()])) as Record<
    PostbackEvent,
    z.ZodOptional<typeof postbackSpecSchema>
  >)
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'needs at least one event (sale, lead, first_order, refund, cancel)');

export const offerSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit'),
    name: z.string().trim().min(1, 'is required').max(200),
    enabled: z.boolean().default(true),
    network: z.enum(networkIds),
    /** URL parameters the click ID is read from; defaults to the preset's. */
    captureParams: z.array(paramName).min(1).max(20).optional(),
    /** Extra click parameters kept with the ID (sub IDs), usable as {name} macros in templates. */
    extraParams: z.array(paramName).max(20).default([]),
    attribution: z
      .strictObject({
        windowDays: z.number().int('must be a whole number of days').min(1).max(365).default(30),
        model: z.enum(['last_click', 'first_click']).default('last_click'),
      })
      .default({ windowDays: 30, model: 'last_click' }),
    postbacks: postbacksSchema,
    amount: z
      .strictObject({
        basis: z.enum(['subtotal', 'total', 'total_less_tax', 'total_less_shipping']).default('subtotal'),
        currency: z.enum(['shop', 'presentment']).default('shop'),
      })
      .default({ basis: 'subtotal', currency: 'shop' }),
    testOrders: z.enum(['skip', 'send', 'send_flagged']).default('skip'),
    /** Store ids the offer applies to, or "all" (the global postback). */
    stores: z.union([z.literal('all'), z.array(z.string().min(1).max(128)).min(1)]).default('all'),
    /** Plain http postback URLs are refused unless this is set. */
    allowHttp: z.boolean().default(false),
    /** Overrides the preset's answer rules (custom networks). */
    answer: answerRulesSchema.optional(),
  })
  .superRefine((offer, ctx) => {
    const extraMacros = offer.extraParams;
    for (const event of postbackEvents) {
      const spec = offer.postbacks[event];
      if (!spec) continue;
      const checked = checkTemplate(spec.url, { extraMacros, allowHttp: offer.allowHttp });
      if (!checked.ok) {
        for (const problem of checked.reason) ctx.addIssue({ code: 'custom', path: ['postbacks', event, 'url'], message: problem });
      }
    }
    for (const [key, pattern] of Object.entries(offer.answer ?? {})) {
      if (pattern === undefined) continue;
      try {
        RegExp(pattern, 'i');
      } catch {
        ctx.addIssue({ code: 'custom', path: ['answer', key], message: 'is not a valid regular expression' });
      }
    }
  });

export type OfferInput = z.input<typeof offerSchema>;
export type Offer = z.output<typeof offerSchema>;
export type PostbackSpec = z.output<typeof postbackSpecSchema>;

export interface OfferIssue {
  /** Dotted path to the field, e.g. "postbacks.sale.url". */
  readonly path: string;
  readonly message: string;
}

export function issuesFromZod(error: z.ZodError): OfferIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(offer)', message: i.message }));
}

/** Every problem of an offer at once, or the offer with its defaults filled in. */
export function parseOffer(input: unknown): Result<Offer, readonly OfferIssue[]> {
  const parsed = offerSchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err(issuesFromZod(parsed.error));
}

export function formatOfferIssues(issues: readonly OfferIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}

/** The parameter names an offer reads click IDs from: its own, else its preset's. */
export function captureParamsOf(offer: Offer): readonly string[] {
  return offer.captureParams ?? networkPresets[offer.network].captureParams;
}

/** The answer rules that apply: the offer's own override, else the preset's. */
export function answerRulesOf(offer: Offer): NonNullable<Offer['answer']> {
  return offer.answer ?? networkPresets[offer.network].answer;
}

/** Whether an offer applies to a store. */
export function offerAppliesTo(offer: Offer, storeId: string): boolean {
  return offer.enabled && (offer.stores === 'all' || offer.stores.includes(storeId));
}
