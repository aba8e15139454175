/**
 * The storefront capture script. Runs in the shopper's browser: build-capture-script.ts bundles this
 * file (with the core checks it imports) into one small minified script per platform (the Shopify
 * app embed's asset, the bridge's /capture.js). Written for size: every byte here is downloaded on
 * every storefront page.
 *
 * Choices worth knowing:
 * - The click is the cart-attribute JSON (CapturedClick), kept in a cookie on the registrable domain
 *   and in localStorage, both for what is left of the attribution window; either one restores the other.
 * - Nothing runs until consent allows it; a consent change re-runs it (once per page). On Shopify the
 *   Customer Privacy API exists only once something asked Shopify for it, so the script asks itself
 *   (`Shopify.loadFeatures`, Shopify's own loader) when no banner or consent app did.
 * - AJAX carts: a PerformanceObserver sees the page's own requests to /cart/add (fetch or XHR) once
 *   their response has arrived, and re-checks the cart then. Nothing of the page is wrapped: themes
 *   and other apps patch fetch/XHR too, and chaining into their patches is how scripts break each
 *   other. A cart made by a full-page form post is caught on the next page load.
 * - Handoff to sibling domains happens when a link is clicked or a form sent, not at page load, so
 *   the token's issue time is fresh. The token `_ctv` is the click JSON plus `"i"` (issue time, ms);
 *   it is adopted within ten minutes, checked like a fresh click, and stripped from the address bar
 *   whatever happens.
 * - Reports: the cart and the app proxy get `application/json`; the bridge gets a `text/plain`
 *   no-cors POST (JSON inside), the only kind that needs no preflight and no CORS answer. A report
 *   is remembered in localStorage once sent (for the bridge: once the request went through), so a
 *   failed one is retried on the next page.
 * - Everything is wrapped: a failure here costs a capture, never the page.
 */
import { isWithinWindow } from '../capture/capture-rules.ts';
import type { CaptureConsent, CaptureScriptConfig, CapturedClick } from './capture-script-config.ts';
import {
  defaultAttribute,
  defaultShopifyEndpoint,
  defaultWindowDays,
  handoffMaxAgeMs,
  handoffParam,
  storageKey,
} from './capture-script-defaults.ts';
import { findLandingClick } from './find-landing-click.ts';
import { isTransactionId } from './is-transaction-id.ts';

// The workspace compiles for Node (no DOM lib, which would leak browser globals into every server
// file), so this file describes the few browser objects it touches, in module scope only.
interface PageElement {
  href: string;
  action: string;
  method: string;
  value: string;
  closest?(selectors: string): PageElement | null;
  querySelector(selectors: string): PageElement | null;
  appendChild(child: PageElement): PageElement;
}
interface PageEvent {
  readonly type: string;
  readonly target: PageElement | null;
}
interface PageWindow {
  __clickthread?: 1;
  __clickthreadConfig?: Partial<CaptureScriptConfig>;
  Shopify?: {
    customerPrivacy?: { analyticsProcessingAllowed?(): boolean };
    loadFeatures?(features: readonly { name: string; version: string }[], done: (error?: unknown) => void): void;
  };
  addEventListener(type: string, listener: () => void): void;
  readonly [global: string]: unknown;
}
declare const window: PageWindow;
declare const document: {
  cookie: string;
  readonly readyState: string;
  getElementById(id: string): { textContent: string | null } | null;
  addEventListener(type: string, listener: (event: PageEvent) => void, capture?: boolean): void;
  createElement(tag: 'input'): PageElement;
};
declare const location: { href: string; hostname: string; protocol: string; pathname: string; search: string; hash: string };
declare const history: { state: unknown; replaceState(state: unknown, unused: string, url: string): void };
declare const localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string, ignored?: string): void };

/**
 * Whether the build is for Shopify (else WooCommerce): build-capture-script.ts defines it per build,
 * and esbuild drops the other platform's code (a Shopify page never needs the order-received report,
 * nor a WooCommerce page the cart and Shopify's consent API). The config's `platform` is not read.
 * Used as is, not through a local constant: esbuild folds a defined global, not a variable.
 */
declare const CLICKTHREAD_SHOPIFY: boolean;

type Click = CapturedClick;
interface Cart {
  token?: string;
  attributes?: Record<string, string>;
}

const W = window;
const D = document;
const L = location;
const json = JSON.stringify;
const noop = (): void => {};
const attempt = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};
/** JSON.parse that answers undefined for broken or missing input; `JSON.parse(null)` is null, the cast only says so. */
const parse = (text?: string | null) => attempt(() => JSON.parse(text as string));
// undefined where storage throws: compared with `!=`, as null is
const lsGet = (key: string) => attempt(() => localStorage.getItem(key));
const lsSet = (key: string, value: string | null) => attempt(() => localStorage[value == null ? 'removeItem' : 'setItem'](key, value as string));
const cookieGet = () => attempt(() => decodeURIComponent(RegExp(`(?:^|; )${storageKey}=([^;]*)`).exec(D.cookie)?.[1] ?? '')) || null;
const setCookie = (name: string, value: string, maxAge: number, domain: string) => {
  D.cookie = `${name}=${value};path=/;max-age=${maxAge};samesite=lax${domain && ';domain=' + domain}${L.protocol == 'https:' ? ';secure' : ''}`;
};
// The cart and the app proxy are on the shop's own origin and take JSON. The bridge is on another
// origin: a text/plain no-cors POST needs no preflight and no CORS answer.
const post = (url: string, body: string) =>
  fetch(url, { method: 'POST', body, keepalive: true, ...(CLICKTHREAD_SHOPIFY ? { headers: { 'content-type': 'application/json' } } : { mode: 'no-cors' as const }) });
/** Sends a report unless this browser already delivered the very same one. */
const once = (key: string, url: string, report: object) => {
  const body = json(report);
  // a no-cors answer is opaque: that the request went through is all the bridge's script can know
  if (lsGet(key) != body) post(url, body).then((res) => (CLICKTHREAD_SHOPIFY ? res.ok : 1) && lsSet(key, body), noop);
};

// Global names are the apps' contract, hence the brackets (no-underscore-dangle). Included twice, runs once.
if (!W['__clickthread']) {
  W['__clickthread'] = 1;
  start(W['__clickthreadConfig'] ?? JSON.parse(D.getElementById('clickthread-config')?.textContent ?? ''));
}

function start(config: Partial<CaptureScriptConfig>): void {
  const params = config.params ?? [];
  const extras = config.extraParams ?? [];
  const days = config.windowDays ?? defaultWindowDays;
  const consent: CaptureConsent = config.consent ?? (CLICKTHREAD_SHOPIFY ? 'shopify' : 'none');
  const host = L.hostname;
  const query = new URLSearchParams(L.search);
  const handoff = query.get(handoffParam);
  let done: unknown;
  // Shopify's Customer Privacy API: 1 while Shopify.loadFeatures is loading it, 2 once it answered.
  let asked: 1 | 2 | undefined;

  // A handoff token never stays in the address bar (it would travel with a shared link).
  if (handoff != null) {
    history.replaceState(history.state, '', L.pathname + L.search.replace(RegExp(`[?&]${handoffParam}=[^&]*`, 'g'), '').replace(/^&/, '?') + L.hash);
  }

  const allowed = (): boolean => {
    if (consent == 'none') return true;
    // (a 'shopify' consent in a WooCommerce build, which the config schema refuses, stays denied)
    let verdict: unknown;
    if (typeof consent == 'object') verdict = W[consent.global];
    else if (CLICKTHREAD_SHOPIFY) {
      const S = W.Shopify;
      // Shopify defines customerPrivacy only once something asked for it through its own loader; on
      // a shop without a consent banner or app nothing does, so the script asks, once per page.
      if (S?.loadFeatures && !S.customerPrivacy && !asked) {
        asked = 1;
        S.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], () => {
          asked = 2;
          run();
        });
      }
      const privacy = S?.customerPrivacy;
      // Where the API answers, it decides: in a region where the merchant requires no consent it
      // allows analytics by default. Where the page has no API at all once loaded (no
      // Shopify.loadFeatures: a headless or custom storefront), or the loader answered without
      // one, the configured fallback decides: deny unless the merchant said otherwise, because
      // without the API nothing tells where the shopper is or what they chose.
      verdict = privacy
        ? privacy.analyticsProcessingAllowed?.()
        : config.consentFallback == 'allow' && D.readyState == 'complete' && (!S?.loadFeatures || asked == 2);
    }
    return (typeof verdict == 'function' ? verdict() : verdict) === true;
  };

  /** A stored or handed-off click, checked like a fresh one (another script may have written it). */
  const valid = (c?: Partial<Click> | null): Click | undefined =>
    attempt(() => {
      const { id, p, t, vid, x } = c ?? {};
      return isTransactionId(id) &&
        params.includes(p as string) &&
        new Date(t as string).toISOString() == t &&
        /^[\da-f]{32}$/.test(vid as string) &&
        Object.entries(x as object).every(([k, v]) => extras.includes(k) && isTransactionId(v))
        ? ({ v: 1, id, p, t, vid, x } as Click)
        : undefined;
    });

  const run = () =>
    attempt(() => {
      // consent first: asking Shopify for its API may answer at once, and run again inside
      if (!allowed() || done) return;
      done = 1;
      const now = Date.now();
      const at = new Date(now);
      const live = (c?: Click) => (c && isWithinWindow(c.t, at, days) ? c : undefined);
      // Same ID: keep the one held (its first capture time); otherwise the later capture, or the
      // earlier one under first click.
      const pick = (held?: Click, other?: Click) =>
        !(held = live(held)) ? live(other) : !(other = live(other)) || held.id == other.id || other.t > held.t == (config.model == 'first_click') ? held : other;

      const stored = valid(parse(cookieGet())) ?? valid(parse(lsGet(storageKey)));
      const token = parse(handoff);
      const age = now - token?.i;
      const handedOff = age < handoffMaxAgeMs && age > -6e4 ? valid(token) : undefined;
      const found = findLandingClick(L.search, params, extras);
      const click = pick(
        pick(stored, handedOff),
        found && {
          v: 1,
          id: found.id,
          p: found.p,
          t: at.toISOString(),
          vid: (stored ?? handedOff)?.vid ?? Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => (n + 2 ** 32).toString(16).slice(1)).join(''),
          x: found.x,
        },
      );

      const value = click ? json(click) : null;
      if (value != cookieGet()) {
        // The registrable domain is the shortest suffix the browser takes a cookie on (the public
        // suffix list without shipping it): for shop.co.uk, "co.uk" fails and "shop.co.uk" holds.
        let domain = '';
        const labels = host.split('.');
        for (let i = labels.length - 2; i >= 0 && !domain; i--) {
          setCookie('_ctd', '1', 9, labels.slice(i).join('.'));
          if (/(^|; )_ctd=1/.test(D.cookie)) setCookie('_ctd', '', 0, (domain = labels.slice(i).join('.')));
        }
        setCookie(storageKey, value ? encodeURIComponent(value) : '', click ? Math.floor(days * 86_400 - (now - Date.parse(click.t)) / 1000) : 0, domain);
      }
      if (value != lsGet(storageKey)) lsSet(storageKey, value);
      if (!click) return;

      // Links and forms to a sibling domain carry the click, with the time they were followed.
      const decorate = (event: PageEvent) =>
        attempt(() => {
          const form = event.type == 'submit';
          const el = event.target?.closest?.(form ? 'form' : 'a[href]');
          if (!el || !allowed()) return;
          const url = new URL(form ? el.action : el.href);
          if (url.hostname == host || !config.siblingDomains?.includes(url.hostname)) return;
          const carried = json({ ...click, i: Date.now() });
          if (form && el.method == 'get') {
            (el.querySelector(`[name=${handoffParam}]`) ?? el.appendChild(Object.assign(D.createElement('input'), { type: 'hidden', name: handoffParam }))).value = carried;
          } else {
            url.searchParams.set(handoffParam, carried);
            if (form) el.action = url.href;
            else el.href = url.href;
          }
        });
      for (const type of ['click', 'auxclick', 'submit']) D.addEventListener(type, decorate, true);

      if (CLICKTHREAD_SHOPIFY) {
        const attribute = config.attribute ?? defaultAttribute;
        let cartQueue: Promise<unknown> = Promise.resolve();
        const syncCart = () => {
          cartQueue = cartQueue
            .then(async () => {
              if (!allowed()) return;
              // The store's own JSON; every field is read as optional.
              let cart = (await (await fetch('/cart.js')).json()) as Cart;
              if (cart.attributes?.[attribute] != value) cart = (await (await post('/cart/update.js', json({ attributes: { [attribute]: value } }))).json()) as Cart;
              // `v: undefined` leaves the version out of the JSON and keeps the proxy body's key order.
              if (cart.token) once(storageKey + '_r', config.endpoint ?? defaultShopifyEndpoint, { cartToken: cart.token, ...click, v: undefined });
            })
            .catch(noop);
        };
        syncCart();
        new PerformanceObserver((list) => list.getEntries().some((e) => /\/cart\/add/.test(e.name)) && syncCart()).observe({ type: 'resource' });
      } else {
        const endpoint = config.endpoint as string;
        once(storageKey + '_c', endpoint, { type: 'click', merchant: config.merchant, ...click, v: undefined, domain: host });
        const orderId = /\/order-received\/(\d+)/.exec(L.pathname)?.[1] ?? query.get('order-received');
        const orderKey = query.get('key');
        if (/^\d+$/.test(orderId ?? '') && /^wc_order_\w+$/.test(orderKey ?? '')) {
          once(storageKey + '_o', endpoint, { type: 'order', merchant: config.merchant, vid: click.vid, orderId, orderKey, domain: host });
        }
      }
    });

  for (const type of typeof consent == 'object' ? [consent.event] : CLICKTHREAD_SHOPIFY && consent == 'shopify' ? ['visitorConsentCollected', 'shopifyCustomerPrivacyApiLoaded'] : []) {
    D.addEventListener(type, run);
  }
  W.addEventListener('load', run);
  run();
}
