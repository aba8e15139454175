import { captureParamsOf, checkTransactionId, findTransactionId, type IdCandidate, type Offer } from '@clickthread/core';
import type { Capture, CaptureKind, Store } from '@clickthread/core/storage';
import { z } from 'zod';
import type { OrderAttribute, ShopifyOrderFacts } from './order-facts.ts';

/** The cart attribute the capture script writes (hidden at checkout because it starts with "_"). */
export const captureAttributeName = '_clickthread';

const maxExtras = 20;

const captureAttributeSchema = z.looseObject({
  v: z.literal(1, { message: 'unknown format version' }),
  id: z.string(),
  p: z.string().max(64).optional(),
  t: z.string().max(40).optional(),
  vid: z.string().max(128).optional(),
  x: z.record(z.string().max(64), z.string().max(256)).optional(),
});

export type CaptureAttribute = z.output<typeof captureAttributeSchema>;

/** Reads the `_clickthread` attribute: compact JSON `{"v":1,"id","p","t","vid","x"}`. */
export function parseCaptureAttribute(value: string): { ok: true; value: CaptureAttribute } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = captureAttributeSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ') };
  return { ok: true, value: parsed.data };
}

/**
 * Orders the shop's staff make — a draft order sent or marked paid in the admin, a sale at a point of
 * sale — are not the customer's online purchase: the customer's remembered click did not bring
 * them (issue 8: "draft order: nothing, no postback"), so the customer map never attributes them on
 * its own. What such an order carries itself (attributes, a landing page) still counts.
 */
export const staffMadeSources: ReadonlySet<string> = new Set(['shopify_draft_order', 'pos']);

export interface IdChainResult {
  /** In chain order: note_attributes → landing_site → cart token → customer. */
  readonly candidates: readonly IdCandidate[];
  /** One line per link of the chain saying what it found, for the unattributed log. */
  readonly report: readonly string[];
  /** The visitor token the capture script put in the attribute, if any. */
  readonly visitorToken?: string;
}

function cleanExtras(x: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(x ?? {}).slice(0, maxExtras)) {
    if (/^[A-Za-z0-9_.\-[\]]{1,64}$/.test(k) && checkTransactionId(v).ok) out[k] = v;
  }
  return out;
}

function isoOrUndefined(t: string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function fromCapture(source: 'cart_token' | 'customer', c: Capture): IdCandidate {
  return {
    source,
    value: c.transactionId,
    ...(c.param === null ? {} : { param: c.param }),
    extras: c.extras,
    capturedAt: c.capturedAt.toISOString(),
  };
}

function attributeLookup(attributes: readonly OrderAttribute[]): (name: string) => OrderAttribute | undefined {
  const exact = new Map<string, OrderAttribute>();
  const folded = new Map<string, OrderAttribute>();
  for (const a of attributes) {
    if (!exact.has(a.name)) exact.set(a.name, a);
    if (!folded.has(a.name.toLowerCase())) folded.set(a.name.toLowerCase(), a);
  }
  return (name) => exact.get(name) ?? folded.get(name.toLowerCase());
}

/**
 * Resolves the transaction ID candidates of a Shopify order, in the order of the chain. Every link is
 * tried (offers differ in the parameters they accept, so a later link may serve an offer an earlier
 * one cannot); core's attributeOrder takes the first candidate each offer can use.
 */
export async function resolveIdChain(input: {
  readonly facts: ShopifyOrderFacts;
  readonly offers: readonly Offer[];
  readonly merchantId: string;
  readonly store: Pick<Store, 'getCapture'>;
}): Promise<IdChainResult> {
  const { facts, offers, merchantId, store } = input;
  const candidates: IdCandidate[] = [];
  const seen = new Set<string>();
  const add = (c: IdCandidate): void => {
    const key = JSON.stringify([c.source, c.param ?? null, c.value]);
    if (seen.has(key)) return;
    seen.add(key);
    candidates.push(c);
  };
  const report: string[] = [];
  let visitorToken: string | undefined;

  // 1. note_attributes: the capture script's attribute, then attributes named after a capture parameter
  const attribute = facts.attributes.find((a) => a.name === captureAttributeName);
  const before = candidates.length;
  if (attribute) {
    const parsed = parseCaptureAttribute(attribute.value);
    if (parsed.ok) {
      const capturedAt = isoOrUndefined(parsed.value.t);
      add({
        source: 'note_attribute',
        value: parsed.value.id,
        ...(parsed.value.p ? { param: parsed.value.p } : {}),
        extras: cleanExtras(parsed.value.x),
        ...(capturedAt ? { capturedAt } : {}),
      });
      if (parsed.value.vid && checkTransactionId(parsed.value.vid).ok) visitorToken = parsed.value.vid;
    } else {
      report.push(`note_attributes: ${captureAttributeName} unreadable (${parsed.reason})`);
    }
  }
  const lookup = attributeLookup(facts.attributes);
  for (const offer of offers) {
    for (const param of captureParamsOf(offer)) {
      const plain = lookup(param);
      if (!plain || plain.name === captureAttributeName) continue;
      const extras: Record<string, string> = {};
      for (const name of offer.extraParams) {
        const extra = lookup(name);
        if (extra && checkTransactionId(extra.value).ok) extras[name] = extra.value;
      }
      add({ source: 'note_attribute', value: plain.value, param, extras });
    }
  }
  if (candidates.length > before) report.push(`note_attributes: ${candidates.length - before} ID(s)`);
  else if (!attribute) report.push(facts.attributes.length === 0 ? 'note_attributes: none' : 'note_attributes: no Clickthread attribute');

  // 2. landing_site: the query of the page the buyer landed on
  if (facts.landingPages.length === 0) {
    report.push('landing_site: none');
  } else {
    const found = candidates.length;
    const problems = new Set<string>();
    for (const page of facts.landingPages) {
      for (const offer of offers) {
        const hit = findTransactionId(page, captureParamsOf(offer), offer.extraParams);
        if (hit.ok) add({ source: 'landing_site', value: hit.value.value, param: hit.value.param, extras: hit.value.extras });
        else if (hit.reason.kind === 'invalid') problems.add(`"${hit.reason.param}" refused: ${hit.reason.reason}`);
        else if (hit.reason.kind === 'not_a_url') problems.add('not a URL');
      }
    }
    report.push(
      candidates.length > found
        ? `landing_site: ${candidates.length - found} ID(s)`
        : `landing_site: no offer parameter${problems.size > 0 ? ` (${[...problems].join('; ')})` : ''}`,
    );
  }

  // 3. and 4. server-side maps registered by the storefront script (app proxy) and by past orders
  const lookups: Array<[CaptureKind & ('cart_token' | 'customer'), string | undefined, string]> = [
    ['cart_token', facts.cartToken, 'no cart token on the order'],
    ['customer', facts.customerId, 'no customer on the order'],
  ];
  for (const [kind, key, absent] of lookups) {
    if (key === undefined) {
      report.push(`${kind}: ${absent}`);
      continue;
    }
    if (kind === 'customer' && staffMadeSources.has(facts.source)) {
      report.push(`customer: not used for an order made by staff (source_name ${facts.source})`);
      continue;
    }
    const capture = await store.getCapture(merchantId, kind, key);
    if (capture) {
      add(fromCapture(kind, capture));
      report.push(`${kind}: registered ID`);
    } else {
      report.push(`${kind}: nothing registered`);
    }
  }

  return { candidates, report, ...(visitorToken ? { visitorToken } : {}) };
}
