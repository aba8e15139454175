import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { err, ok, type Result } from '@clickthread/core';
import { checkAddress, checkTargetUrl, resolveAndCheck, type Resolver, type SsrfPolicy } from '@clickthread/core/delivery';

/**
 * A store URL is user input (a merchant or an agency token connects it), and the bridge calls it
 * from inside its own network. The same guard as postbacks applies (core's ssrf-guard): every
 * address the host resolves to must be public, unless the policy opens loopback/private for local
 * stores and tests; link-local (cloud metadata) never. The check runs in the HTTP agent's lookup, so
 * the connection goes to exactly the addresses just checked — a DNS answer that changes between a
 * check and the connect (rebinding) cannot slip a private address in.
 */

export interface StoreNetworkPolicy {
  readonly ssrf: SsrfPolicy;
  readonly resolver: Resolver;
}

/** Node's error for a refused address: axios reports it as a network failure with this code. */
export const blockedAddressCode = 'ECLICKTHREAD_ADDRESS_REFUSED';

export function blockedAddressError(reason: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`the store address is refused: ${reason}`), { code: blockedAddressCode });
}

/** URL.hostname keeps IPv6 literals in brackets. */
export function storeHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** The URL rules and, for an IP literal (which Node connects to without a lookup), its address. */
export function checkStoreUrlNow(url: string, policy: SsrfPolicy): Result<URL, string> {
  const parsed = checkTargetUrl(url, { allowHttp: true });
  if (!parsed.ok) return parsed;
  const host = storeHostname(parsed.value);
  if (isIP(host) !== 0) {
    const checked = checkAddress(host, policy);
    if (!checked.ok) return err(checked.reason);
  }
  return ok(parsed.value);
}

/** Resolves and checks the store's host at connect time; answers only the addresses that passed. */
export async function resolveStoreHost(hostname: string, network: StoreNetworkPolicy): Promise<Result<readonly LookupAddress[], string>> {
  const checked = await resolveAndCheck(hostname, network.ssrf, network.resolver);
  return checked.ok ? ok(checked.value.map((a) => ({ address: a.address, family: a.family }))) : checked;
}

function familyOf(options: LookupOptions): 4 | 6 | undefined {
  const family = options.family;
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return undefined;
}

/** An `http(s).Agent` lookup that connects only to checked addresses. */
export function guardedLookup(network: StoreNetworkPolicy): LookupFunction {
  return (hostname, options, callback) => {
    resolveStoreHost(hostname, network).then(
      (checked) => {
        if (!checked.ok) {
          callback(blockedAddressError(checked.reason), '', 4);
          return;
        }
        const family = familyOf(options);
        const addresses = family === undefined ? checked.value : checked.value.filter((a) => a.family === family);
        const [first] = addresses;
        if (first === undefined) {
          callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', 4);
          return;
        }
        if (options.all === true) callback(null, [...addresses]);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => {
        callback(error instanceof Error ? error : new Error(String(error)), '', 4);
      },
    );
  };
}
