import { createHmac, timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '@clickthread/core';

/**
 * Shopify app proxy signatures (shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies):
 * Shopify adds `shop`, `logged_in_customer_id`, `path_prefix`, `timestamp` and `signature` to the
 * query it forwards. The signature is a hex HMAC-SHA256, keyed with the app's client secret, of every
 * other parameter as `key=value` (repeated values joined with ","), sorted, concatenated with no
 * separator. The body is not signed; the timestamp bounds replays to ±90 s.
 */

export const appProxyMaxSkewSeconds = 90;

export interface AppProxyRequest {
  readonly shop: string;
  /** Empty when the shopper is not logged in. */
  readonly loggedInCustomerId: string | undefined;
  readonly pathPrefix: string | undefined;
  readonly timestamp: number;
}

export type AppProxyRejection =
  | 'signature missing'
  | 'signature malformed'
  | 'signature mismatch'
  | 'parameter repeated'
  | 'shop missing'
  | 'shop malformed'
  | 'timestamp missing'
  | 'timestamp expired';

const singleValued = ['shop', 'timestamp', 'signature', 'path_prefix', 'logged_in_customer_id'];
const shopDomain = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/** The message Shopify signs: sorted `key=value` pairs (signature excluded), concatenated. */
export function appProxyMessage(params: URLSearchParams): string {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of params) {
    if (key === 'signature') continue;
    const values = grouped.get(key);
    if (values) values.push(value);
    else grouped.set(key, [value]);
  }
  // Shopify's reference sorts the joined "key=value" strings (Ruby Array#sort: by code unit)
  return [...grouped]
    .map(([key, values]) => `${key}=${values.join(',')}`)
    .toSorted((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join('');
}

export function signAppProxyQuery(params: URLSearchParams, secret: string): string {
  return createHmac('sha256', secret).update(appProxyMessage(params), 'utf8').digest('hex');
}

/**
 * Verifies the signed query of a proxied request. `rawQuery` is the query string as received (without
 * "?"), so the parameters are read exactly as Shopify sent them; `now` comes from the injected clock.
 */
export function verifyAppProxySignature(rawQuery: string, secret: string, now: Date): Result<AppProxyRequest, AppProxyRejection> {
  const params = new URLSearchParams(rawQuery);
  for (const key of singleValued) if (params.getAll(key).length > 1) return err('parameter repeated');
  const signature = params.get('signature');
  if (signature === null || signature === '') return err('signature missing');
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return err('signature malformed');
  const expected = Buffer.from(signAppProxyQuery(params, secret), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return err('signature mismatch');

  // checked only once the signature holds, so nothing about the secret leaks through the reasons
  const shop = params.get('shop');
  if (shop === null || shop === '') return err('shop missing');
  if (!shopDomain.test(shop)) return err('shop malformed');
  const timestampText = params.get('timestamp');
  if (timestampText === null || !/^\d{1,12}$/.test(timestampText)) return err('timestamp missing');
  const timestamp = Number(timestampText);
  if (Math.abs(now.getTime() / 1000 - timestamp) > appProxyMaxSkewSeconds) return err('timestamp expired');
  const customer = params.get('logged_in_customer_id');
  return ok({
    shop,
    loggedInCustomerId: customer === null || customer === '' ? undefined : customer,
    pathPrefix: params.get('path_prefix') ?? undefined,
    timestamp,
  });
}
