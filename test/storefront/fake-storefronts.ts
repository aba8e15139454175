import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { buildCaptureScript, captureScriptFor, jsonForScript, type CaptureScriptConfig } from '@clickthread/core/storefront';

/**
 * Storefronts that behave like the platforms, on one loopback port, told apart by Host (Chromium maps
 * every *.test name to 127.0.0.1). A Shopify-like shop has /cart.js, /cart/update.js, /cart/add(.js),
 * the app proxy and a checkout that turns the cart into an order with note_attributes; a Woo-like shop
 * has the order-received page; bridge.test is the WooCommerce bridge (`/capture.js`, `POST /capture`).
 */

export type ConsentMode =
  /**
   * Shopify's default (a shop without a consent banner or app): `Shopify.loadFeatures` only, and the
   * Customer Privacy API once something asks for it (it then says yes, as in a region where the
   * merchant requires no consent). The stand-in answers asynchronously, like the real loader.
   */
  | 'loader'
  /** like `loader`, but the API says yes only once the `test_consent=yes` cookie is set */
  | 'loader-banner'
  /** `Shopify.loadFeatures` answers with an error and no API */
  | 'loader-error'
  /** the Customer Privacy API is already there (a banner loaded it) and says yes; loadFeatures too */
  | 'granted'
  /** the Customer Privacy API is already there and says yes once the `test_consent=yes` cookie is set */
  | 'banner'
  /** no window.Shopify at all (a headless storefront), until the test installs the API */
  | 'late'
  /** the page sets `window.cmpAllowed = false`, the test flips it (custom consent global) */
  | 'custom';

/** Every `Shopify.loadFeatures` call a page made, in `window.__loadFeaturesCalls` (the stand-in records them). */
export const loadFeaturesCallsExpression = 'window.__loadFeaturesCalls';

export interface StoreSetup {
  readonly config: CaptureScriptConfig;
  readonly consent?: ConsentMode;
  /** Markup put in <head> before the script (to make the page hostile). */
  readonly head?: string;
  /** Shopify: the config element's text as is, instead of the config. */
  readonly rawConfig?: string;
  /**
   * Shopify: where the app proxy is on this shop (default `/apps/clickthread`): merchants can change
   * the prefix and the sub path, and Shopify proxies nothing else.
   */
  readonly proxyPath?: string;
}

export interface LoggedRequest {
  readonly host: string;
  readonly method: string;
  readonly path: string;
  readonly search: string;
}

export interface Cart {
  readonly token: string;
  attributes: Record<string, string>;
  items: { id: number; quantity: number }[];
}

export interface Received {
  readonly host: string;
  readonly contentType: string;
  readonly origin: string;
  readonly body: unknown;
}

export interface ShopifyOrder {
  readonly host: string;
  readonly cartToken: string;
  readonly noteAttributes: readonly { name: string; value: string }[];
}

export interface FakeStorefronts {
  readonly port: number;
  url(host: string, path?: string): string;
  readonly stores: Map<string, StoreSetup>;
  readonly log: LoggedRequest[];
  readonly carts: Map<string, Cart>;
  readonly orders: ShopifyOrder[];
  readonly proxy: Received[];
  readonly bridge: Received[];
  /** Requests a capture script made (everything but pages, the script itself and the favicon). */
  scriptRequests(): LoggedRequest[];
  reset(): void;
  close(): Promise<void>;
}

export const bridgeHost = 'bridge.test';

export async function startFakeStorefronts(): Promise<FakeStorefronts> {
  const stores = new Map<string, StoreSetup>();
  const log: LoggedRequest[] = [];
  const carts = new Map<string, Cart>();
  const orders: ShopifyOrder[] = [];
  const proxy: Received[] = [];
  const bridge: Received[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = (host: string, path = '/') => `http://${host}:${port}${path}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const target = new URL(req.url ?? '/', url(host));
    log.push({ host, method: req.method ?? 'GET', path: target.pathname, search: target.search });
    const body = req.method === 'POST' ? await readBody(req) : '';
    if (host === bridgeHost) return bridgeRoute(req, res, target, body);
    const store = stores.get(host);
    if (!store) return send(res, 404, 'text/plain', `no store at ${host}`);
    if (store.config.platform === 'shopify') return shopifyRoute(req, res, host, store, target, body);
    return wooRoute(res, host, target);
  }

  function shopifyRoute(req: IncomingMessage, res: ServerResponse, host: string, store: StoreSetup, target: URL, body: string): void {
    const cookieToken = cookiesOf(req).get('cart');
    const key = (token: string) => `${host} ${token}`;
    const existing = cookieToken === undefined ? undefined : carts.get(key(cookieToken));
    const cartOrNew = (): Cart => {
      if (existing) return existing;
      // Shopify's newer tokens look like this; the script must not care.
      const cart: Cart = { token: `c1-${randomBytes(8).toString('hex')}`, attributes: {}, items: [] };
      carts.set(key(cart.token), cart);
      res.setHeader('set-cookie', `cart=${cart.token}; Path=/; SameSite=Lax`);
      return cart;
    };
    const path = target.pathname;
    const isJson = (req.headers['content-type'] ?? '').startsWith('application/json');

    if (path === '/clickthread.js') return send(res, 200, 'text/javascript', buildCaptureScript('shopify').code);
    if (path === '/favicon.ico') return send(res, 404, 'text/plain', '');
    if (path === '/cart.js' && req.method === 'GET') return sendJson(res, 200, cartJson(cartOrNew()));
    if (path === '/cart/update.js' && req.method === 'POST') {
      if (!isJson) return sendJson(res, 400, { status: 400, description: 'expected JSON' });
      const update = JSON.parse(body) as { attributes?: Record<string, string> };
      const cart = cartOrNew();
      for (const [name, value] of Object.entries(update.attributes ?? {})) {
        if (value === '') delete cart.attributes[name];
        else cart.attributes[name] = value;
      }
      return sendJson(res, 200, cartJson(cart));
    }
    if (path === '/cart/add.js' && req.method === 'POST') {
      const cart = cartOrNew();
      cart.items.push({ id: 1, quantity: 1 });
      return sendJson(res, 200, { id: 1, quantity: 1 });
    }
    if (path === '/cart/add' && req.method === 'POST') {
      cartOrNew().items.push({ id: 1, quantity: 1 });
      res.statusCode = 302;
      res.setHeader('location', '/cart');
      res.end();
      return;
    }
    if (path === `${store.proxyPath ?? '/apps/clickthread'}/capture` && req.method === 'POST') {
      proxy.push({ host, contentType: req.headers['content-type'] ?? '', origin: req.headers.origin ?? '', body: JSON.parse(body) });
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/checkout') {
      const cart = cartOrNew();
      const noteAttributes = Object.entries(cart.attributes).map(([name, value]) => ({ name, value }));
      orders.push({ host, cartToken: cart.token, noteAttributes });
      return send(res, 200, 'text/html', page(host, store, 'Thank you for your order', `<pre id="note-attributes">${escapeHtml(JSON.stringify(noteAttributes, null, 2))}</pre>`));
    }
    if (req.method === 'GET') return send(res, 200, 'text/html', page(host, store, titleOf(path), ''));
    return send(res, 404, 'text/plain', 'not found');
  }

  function wooRoute(res: ServerResponse, host: string, target: URL): void {
    const store = stores.get(host);
    if (!store) return send(res, 404, 'text/plain', 'no store');
    if (target.pathname === '/favicon.ico') return send(res, 404, 'text/plain', '');
    const received = /^\/checkout\/order-received\/(\d+)\/?$/.exec(target.pathname)?.[1] ?? target.searchParams.get('order-received');
    if (received !== null && received !== undefined) return send(res, 200, 'text/html', orderReceivedPage(host, store, received));
    return send(res, 200, 'text/html', page(host, store, titleOf(target.pathname), ''));
  }

  function bridgeRoute(req: IncomingMessage, res: ServerResponse, target: URL, body: string): void {
    if (target.pathname === '/capture.js') {
      const store = stores.get(target.searchParams.get('store') ?? '');
      if (!store) return send(res, 404, 'text/plain', 'unknown store');
      return send(res, 200, 'text/javascript', captureScriptFor(store.config));
    }
    if (target.pathname === '/capture' && req.method === 'POST') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = { unparsable: body };
      }
      bridge.push({ host: bridgeHost, contentType: req.headers['content-type'] ?? '', origin: req.headers.origin ?? '', body: parsed });
      // no CORS headers on purpose: the script must not need them
      return send(res, 204, 'text/plain', '');
    }
    return send(res, 404, 'text/plain', 'not found');
  }

  function scriptTag(host: string, store: StoreSetup): string {
    if (store.config.platform === 'shopify') {
      return `<script type="application/json" id="clickthread-config">${store.rawConfig ?? jsonForScript(store.config)}</script>\n<script src="/clickthread.js" defer></script>`;
    }
    return `<script src="${url(bridgeHost, `/capture.js?store=${encodeURIComponent(host)}`)}" defer></script>`;
  }

  function consentScript(store: StoreSetup): string {
    const yes = '{analyticsProcessingAllowed(){return true}}';
    const onceConsented = `{analyticsProcessingAllowed(){return document.cookie.includes('test_consent=yes')}}`;
    switch (store.consent ?? (store.config.platform === 'shopify' ? 'loader' : undefined)) {
      case 'loader':
        return `<script>window.Shopify={${loader(yes)}}</script>`;
      case 'loader-banner':
        return `<script>window.Shopify={${loader(onceConsented)}}</script>`;
      case 'loader-error':
        return `<script>window.Shopify={${loader(yes, true)}}</script>`;
      case 'granted':
        return `<script>window.Shopify={customerPrivacy:${yes},${loader(yes)}}</script>`;
      case 'banner':
        return `<script>window.Shopify={customerPrivacy:${onceConsented},${loader(onceConsented)}}</script>`;
      case 'custom':
        return '<script>window.cmpAllowed=false</script>';
      default:
        return '';
    }
  }

  function page(host: string, store: StoreSetup, title: string, main: string): string {
    const sibling = store.config.siblingDomains[0] ?? 'elsewhere.test';
    return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
${consentScript(store)}
${store.head ?? ''}
${scriptTag(host, store)}
<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:44rem;color:#1d1d1f}nav a{margin-right:1rem}pre{background:#f4f4f5;padding:1rem;white-space:pre-wrap;word-break:break-all}</style>
</head><body>
<header><strong>${escapeHtml(host)}</strong></header>
<nav><a id="home" href="/">Home</a><a id="product" href="/products/shirt">Shirt</a><a id="collection" href="/collections/all">All products</a><a id="cart" href="/cart">Cart</a><a id="checkout" href="/checkout">Checkout</a></nav>
<nav><a id="sibling" href="${url(sibling, '/products/shirt?ref=nav')}">Our other store</a><a id="elsewhere" href="${url('elsewhere.test', '/')}">Somewhere else</a></nav>
<h1>${escapeHtml(title)}</h1>
<form id="add" method="post" action="/cart/add"><input type="hidden" name="id" value="1"><button id="add-button">Add to cart</button></form>
<form id="sibling-search" method="get" action="${url(sibling, '/search')}"><input name="q" value="shirt"><button id="sibling-search-button">Search the other store</button></form>
<button id="fetch-add" type="button" onclick="fetch('/cart/add.js',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({items:[{id:1,quantity:1}]})}).then(r=>r.json())">Quick add (fetch, like Dawn)</button>
<button id="xhr-add" type="button" onclick="var x=new XMLHttpRequest();x.open('POST','/cart/add.js');x.setRequestHeader('content-type','application/json');x.send(JSON.stringify({items:[{id:1,quantity:1}]}))">Quick add (XHR, like jQuery themes)</button>
${main}
</body></html>`;
  }

  function orderReceivedPage(host: string, store: StoreSetup, orderId: string): string {
    const main = `<p class="woocommerce-notice">Thank you. Your order has been received.</p>
<ul class="order-overview"><li>Order number: <strong>${escapeHtml(orderId)}</strong></li><li>Payment method: <strong>Cash on delivery</strong></li><li>Total: <strong>€42.00</strong></li></ul>`;
    return page(host, store, 'Order received', main);
  }

  return {
    port,
    url,
    stores,
    log,
    carts,
    orders,
    proxy,
    bridge,
    scriptRequests: () =>
      log.filter(
        (r) =>
          !(r.method === 'GET' && (r.path === '/clickthread.js' || r.path === '/capture.js' || r.path === '/favicon.ico')) &&
          !(r.method === 'GET' && !r.path.endsWith('.js') && r.host !== bridgeHost),
      ),
    reset() {
      log.length = 0;
      carts.clear();
      orders.length = 0;
      proxy.length = 0;
      bridge.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * A stand-in for Shopify's `loadFeatures` (a method of `window.Shopify`): records the call, then later,
 * as the real one loads a script first, defines the Customer Privacy API and calls back, or calls
 * back with an error.
 */
function loader(api: string, error = false): string {
  const answer = error ? "done(new Error('feature failed to load'))" : `window.Shopify.customerPrivacy=${api};done()`;
  return `loadFeatures(features,done){(window.__loadFeaturesCalls=window.__loadFeaturesCalls||[]).push(features);setTimeout(function(){${answer}},30)}`;
}

function cartJson(cart: Cart) {
  return { token: cart.token, note: null, attributes: cart.attributes, item_count: cart.items.length, items: cart.items };
}

function titleOf(path: string): string {
  if (path === '/') return 'Home';
  return path.split('/').filter(Boolean).join(' / ');
}

function cookiesOf(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', `${type}; charset=utf-8`);
  res.setHeader('cache-control', 'no-store');
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
