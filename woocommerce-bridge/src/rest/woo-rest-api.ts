import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import { blockedAddressError, checkStoreUrlNow, guardedLookup, type StoreNetworkPolicy } from './store-address-guard.ts';

/**
 * The slice of `@woocommerce/woocommerce-rest-api` the bridge uses. The library is CJS-only with no
 * `exports` map, so under native ESM its default export sits on `.default` of the module object;
 * it is loaded with `createRequire` to get the same object whichever way Node interops.
 */

export interface WooRestResponse {
  readonly status: number;
  readonly data: unknown;
  readonly headers: Readonly<Record<string, unknown>>;
}

export interface WooRestApi {
  get(endpoint: string, params?: Record<string, string | number>): Promise<WooRestResponse>;
  post(endpoint: string, data: unknown, params?: Record<string, string | number>): Promise<WooRestResponse>;
  put(endpoint: string, data: unknown, params?: Record<string, string | number>): Promise<WooRestResponse>;
  delete(endpoint: string, params?: Record<string, string | number>): Promise<WooRestResponse>;
}

export interface WooRestApiOptions {
  /** The store's home URL, e.g. "https://shop.example/". */
  readonly url: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly timeoutMs: number;
  /** Which addresses the store may be reached at (checked at every connect by the real client). */
  readonly network: StoreNetworkPolicy;
}

/** Builds the REST client for one store; tests inject their own to reach a fake Woo on loopback. */
export type WooRestApiFactory = (options: WooRestApiOptions) => WooRestApi;

interface WooCommerceRestApiConstructor {
  new (options: {
    url: string;
    consumerKey: string;
    consumerSecret: string;
    version: 'wc/v3';
    timeout: number;
    queryStringAuth: boolean;
    axiosConfig: Record<string, unknown>;
  }): WooRestApi;
}

const require = createRequire(import.meta.url);

function loadLibrary(): WooCommerceRestApiConstructor {
  // The library ships CommonJS with `exports.default = class …`; its typings describe an ES default export.
  const pkg = require('@woocommerce/woocommerce-rest-api') as { default?: WooCommerceRestApiConstructor } & WooCommerceRestApiConstructor;
  return pkg.default ?? pkg;
}

/** A client whose every call fails as a connection the guard refused would: nothing is sent. */
function refusedApi(reason: string): WooRestApi {
  const refuse = (): Promise<WooRestResponse> => Promise.reject(blockedAddressError(reason));
  return { get: refuse, post: refuse, put: refuse, delete: refuse };
}

/**
 * The real client: OAuth 1.0a over http, Basic auth over https (the library decides by the URL).
 * Its agents resolve the store's host through the SSRF guard and connect only to the addresses that
 * passed; an IP-literal URL (connected to without a lookup) is checked here, at every creation.
 */
export const defaultWooRestApiFactory: WooRestApiFactory = (options) => {
  const url = checkStoreUrlNow(options.url, options.network.ssrf);
  if (!url.ok) return refusedApi(url.reason);
  const lookup = guardedLookup(options.network);
  const WooCommerceRestApi = loadLibrary();
  return new WooCommerceRestApi({
    url: options.url,
    consumerKey: options.consumerKey,
    consumerSecret: options.consumerSecret,
    version: 'wc/v3',
    timeout: options.timeoutMs,
    queryStringAuth: false,
    axiosConfig: {
      // A store that redirects its REST API elsewhere is misconfigured; following it could leak the keys.
      maxRedirects: 0,
      maxContentLength: 20 * 1024 * 1024,
      // HTTP(S)_PROXY from the environment would connect to the proxy, past the guarded lookup
      proxy: false,
      httpAgent: new HttpAgent({ lookup }),
      httpsAgent: new HttpsAgent({ lookup }),
    },
  });
};
