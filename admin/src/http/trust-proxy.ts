import { isIP } from 'node:net';
import { err, ok, type Result } from '@clickthread/core';

/**
 * CLICKTHREAD_TRUST_PROXY, read the same way by both apps: Express's `trust proxy`, which decides
 * what `req.ip` is (the per-address rate limits of the API, the bridge's /capture and the Shopify
 * app proxy count it). Off by default: only a deployment knows how many proxies stand in front.
 */
export type TrustProxy = boolean | number | string;

const namedRanges = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isSubnet(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** false, true, a hop count, or a comma-separated list of addresses, subnets and Express's named ranges. */
export function parseTrustProxy(raw: string | undefined): Result<TrustProxy, string> {
  const value = raw?.trim() ?? '';
  if (value === '' || /^(0|false|no|off)$/i.test(value)) return ok(false);
  if (/^(true|yes|on)$/i.test(value)) return ok(true);
  if (/^\d{1,3}$/.test(value)) return ok(Number(value));
  const entries = value.split(',').map((e) => e.trim());
  const bad = entries.filter((e) => !namedRanges.has(e) && !isSubnet(e));
  if (bad.length === 0) return ok(entries.join(','));
  return err(
    `must be false, true, a hop count, or a comma-separated list of addresses, subnets (10.0.0.0/8) and loopback/linklocal/uniquelocal (not understood: ${bad
      .map((e) => JSON.stringify(e.slice(0, 60)))
      .join(', ')})`,
  );
}
