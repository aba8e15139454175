import { z } from 'zod';
import { captureParamsOf, type Offer } from '../offers/offer-schema.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { defaultAttribute, defaultShopifyEndpoint, defaultWindowDays } from './capture-script-defaults.ts';

/**
 * Configuration of the storefront capture script, one per storefront. The apps render it into the
 * page as JSON, either as `<script type="application/json" id="clickthread-config">` (Shopify app
 * embed) or as `window.__clickthreadConfig = …` before the script (the bridge's `/capture.js`):
 *
 * ```json
 * { "platform": "shopify", "params": ["transaction_id", "click_id"], "extraParams": ["aff_sub"],
 *   "windowDays": 30, "model": "last_click", "siblingDomains": ["shop.example.de"],
 *   "endpoint": "/apps/clickthread/capture", "consent": "shopify", "consentFallback": "deny",
 *   "attribute": "_clickthread" }
 * ```
 *
 * Render the output of `parseCaptureScriptConfig` (defaults filled, host names lower-cased); the
 * script applies the same defaults to a hand-written config but validates nothing beyond the click
 * values themselves (it has no zod, to stay small).
 */
export interface CaptureScriptConfig {
  readonly platform: 'shopify' | 'woocommerce';
  /** URL parameters the click ID is read from, in priority order. */
  readonly params: readonly string[];
  /** Extra click parameters kept with the ID (sub IDs), sent back as template macros. */
  readonly extraParams: readonly string[];
  /** How long a click counts, from its capture; the longest window of the store's offers. */
  readonly windowDays: number;
  readonly model: 'last_click' | 'first_click';
  /** The merchant's other storefront host names; links and forms to them carry the click. */
  readonly siblingDomains: readonly string[];
  /**
   * Where captures are POSTed: on Shopify the app proxy path on the shop's own origin plus `/capture`
   * (default `/apps/clickthread/capture`; merchants can change the proxy's prefix and sub path, the
   * app embed has settings for them); on WooCommerce the bridge's absolute `…/capture` URL.
   */
  readonly endpoint: string;
  /** WooCommerce only (required there): the merchant's public id at the bridge. */
  readonly merchant?: string;
  /**
   * Who says whether tracking is allowed. `shopify`: the Customer Privacy API
   * (`analyticsProcessingAllowed()`, re-checked on `visitorConsentCollected`); `none`: always
   * allowed; or a page global (`true`, or a function returning `true`, means allowed) re-checked
   * when the named event fires on `document`. Defaults to `shopify` on Shopify, `none` on WooCommerce.
   */
  readonly consent: CaptureConsent;
  /**
   * With `consent: 'shopify'` only (and always there, default `deny`): what to do on a page where the
   * Customer Privacy API cannot be had, because the page has no `Shopify.loadFeatures` (a headless or
   * custom storefront) or Shopify's loader answered without the API. `deny` captures nothing there
   * (without the API nothing tells where the shopper is or what they chose); `allow` is for a
   * merchant who knows that such a storefront needs no consent, or collects it before the script runs.
   */
  readonly consentFallback?: CaptureConsentFallback;
  /** Cart attribute name on Shopify; starts with `_` so checkout hides it. */
  readonly attribute: string;
}

export type CaptureConsent = 'shopify' | 'none' | { readonly global: string; readonly event: string };
export type CaptureConsentFallback = 'deny' | 'allow';

/** The click as the script stores it and writes it to the `_clickthread` cart attribute (wire format v1). */
export interface CapturedClick {
  readonly v: 1;
  readonly id: string;
  readonly p: string;
  /** Capture time, ISO 8601 (`Date#toISOString`). */
  readonly t: string;
  /** Visitor token: 32 lowercase hex characters, random, made by the script. */
  readonly vid: string;
  readonly x: Readonly<Record<string, string>>;
}

const paramName = z
  .string()
  .regex(/^[A-Za-z0-9_.\-[\]]{1,64}$/, 'must be a URL parameter name: letters, digits, _ . - [ ], at most 64 characters');

const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a host name such as shop.example.com (no scheme, port or path)');

/**
 * The prefixes Shopify lets a merchant choose for an app proxy (the merchant may also rename the sub
 * path, so the app embed has a setting for both and the endpoint is not fixed).
 */
export const appProxyPrefixes = ['apps', 'a', 'community', 'tools'] as const;

// One sub path segment of URL-unreserved characters (what the embed's Liquid accepts: what
// `url_encode` leaves alone), not only dots (the browser would resolve "." and ".." away).
const appProxyEndpoint = new RegExp(`^/(?:${appProxyPrefixes.join('|')})/(?!\\.+/)[A-Za-z0-9_.~-]{1,255}/capture$`);

const jsIdentifier = /^[A-Za-z_$][\w$]{0,63}$/;

export const captureConsentSchema = z.union([
  z.literal('shopify'),
  z.literal('none'),
  z.strictObject({
    global: z.string().regex(jsIdentifier, 'must be a JavaScript global name'),
    event: z.string().regex(/^[\w.:-]{1,64}$/, 'must be an event name: letters, digits, _ . : -, at most 64 characters'),
  }),
]);

export const captureScriptConfigSchema = z
  .strictObject({
    platform: z.enum(['shopify', 'woocommerce']),
    params: z.array(paramName).min(1, 'needs at least one parameter name').max(50),
    extraParams: z.array(paramName).max(50).default([]),
    windowDays: z.number().int('must be a whole number of days').min(1).max(365).default(defaultWindowDays),
    model: z.enum(['last_click', 'first_click']).default('last_click'),
    siblingDomains: z.array(hostname).max(50).default([]),
    endpoint: z.string().max(2048).optional(),
    merchant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ and -').optional(),
    consent: captureConsentSchema.optional(),
    consentFallback: z.enum(['deny', 'allow']).optional(),
    attribute: z
      .string()
      .regex(/^_[A-Za-z0-9_-]{1,63}$/, 'must start with _ (so checkout hides it) and hold only letters, digits, _ and -')
      .default(defaultAttribute),
  })
  .superRefine((c, ctx) => {
    if (c.consentFallback !== undefined && (c.consent ?? (c.platform === 'shopify' ? 'shopify' : 'none')) !== 'shopify') {
      ctx.addIssue({ code: 'custom', path: ['consentFallback'], message: "only applies with consent 'shopify' (the Customer Privacy API)" });
    }
    if (c.platform === 'shopify') {
      if (c.endpoint !== undefined && !appProxyEndpoint.test(c.endpoint)) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoint'],
          message: `must be the app proxy path on the shop: one of ${appProxyPrefixes.map((p) => `/${p}`).join(', ')}, then the sub path, then /capture (such as ${defaultShopifyEndpoint})`,
        });
      }
      if (c.merchant !== undefined) ctx.addIssue({ code: 'custom', path: ['merchant'], message: 'is for WooCommerce only' });
      return;
    }
    if (c.merchant === undefined) ctx.addIssue({ code: 'custom', path: ['merchant'], message: 'is required on WooCommerce' });
    if (c.consent === 'shopify') {
      ctx.addIssue({ code: 'custom', path: ['consent'], message: "'shopify' is for Shopify storefronts (its Customer Privacy API): use 'none' or a page global" });
    }
    if (c.endpoint === undefined) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: "is required on WooCommerce: the bridge's /capture URL" });
    } else if (!isBridgeUrl(c.endpoint)) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'must be an absolute http(s) URL without credentials, query or fragment' });
    }
  })
  .transform(
    (c): CaptureScriptConfig => ({
      platform: c.platform,
      params: dedupe(c.params),
      extraParams: dedupe(c.extraParams),
      windowDays: c.windowDays,
      model: c.model,
      siblingDomains: dedupe(c.siblingDomains),
      endpoint: c.endpoint ?? defaultShopifyEndpoint,
      ...(c.merchant === undefined ? {} : { merchant: c.merchant }),
      ...consentOf(c.consent ?? (c.platform === 'shopify' ? 'shopify' : 'none'), c.consentFallback),
      attribute: c.attribute,
    }),
  );

export type CaptureScriptConfigInput = z.input<typeof captureScriptConfigSchema>;

function isBridgeUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password && !url.search && !url.hash;
}

function consentOf(consent: CaptureConsent, fallback: CaptureConsentFallback | undefined): Pick<CaptureScriptConfig, 'consent' | 'consentFallback'> {
  return consent === 'shopify' ? { consent, consentFallback: fallback ?? 'deny' } : { consent };
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Every problem of a capture-script config at once (`path: message`), or the config with defaults filled. */
export function parseCaptureScriptConfig(input: unknown): Result<CaptureScriptConfig, readonly string[]> {
  const parsed = captureScriptConfigSchema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  return err(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(config)'}: ${i.message}`));
}

/**
 * The script config for a storefront from the offers that apply to it: every offer's parameter names
 * (in offer order), every sub ID, the longest window (each offer's own window is applied again at
 * conversion), and first click only when every offer asks for it (the browser keeps one click).
 */
export function captureScriptConfigFor(
  offers: readonly Offer[],
  storefront: Omit<CaptureScriptConfigInput, 'params' | 'extraParams' | 'windowDays' | 'model'>,
): Result<CaptureScriptConfig, readonly string[]> {
  const enabled = offers.filter((o) => o.enabled);
  if (enabled.length === 0) return err(['(config): no enabled offer: nothing to capture']);
  return parseCaptureScriptConfig({
    ...storefront,
    params: enabled.flatMap((o) => captureParamsOf(o)),
    extraParams: enabled.flatMap((o) => o.extraParams),
    windowDays: Math.max(...enabled.map((o) => o.attribution.windowDays)),
    model: enabled.every((o) => o.attribution.model === 'first_click') ? 'first_click' : 'last_click',
  });
}
