import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { err, ok, type Result } from '../shared/result.ts';

/**
 * Postback URLs are user input, and the worker sends them from inside the merchant's (or our)
 * network: without this guard an offer could make the worker read cloud metadata
 * (169.254.169.254) or poke an internal admin port. Rules: http(s) only, HTTPS unless the offer
 * allows http, no credentials in the URL, and every address the host resolves to must be public
 * unicast. The transport then connects only to the addresses checked here (see undici-transport.ts).
 */

export interface SsrfPolicy {
  /**
   * Allows loopback, private (RFC 1918), unique-local and CGNAT targets, for local testing only.
   * Link-local (cloud metadata), multicast, broadcast, unspecified and reserved stay blocked.
   */
  readonly allowPrivate: boolean;
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Host name → every address it resolves to. Injected in tests; the default asks the system resolver. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

const rangeNames: Readonly<Record<string, string>> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address (cloud metadata lives here)',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private address',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique local address (fc00::/7)',
  ipv4Mapped: 'an IPv4-mapped address',
  rfc6145: 'an IPv4-translated address',
  rfc6052: 'a NAT64 address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
  deprecatedSiteLocal: 'a site-local address',
};

/** Ranges that `allowPrivate` opens (for a tracker on this machine or the local network). */
const privateRanges = new Set(['loopback', 'private', 'uniqueLocal', 'carrierGradeNat']);

type ParsedAddress = ReturnType<typeof ipaddr.parse>;

function rangeOf(ip: ParsedAddress): { range: string; via?: string } {
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    // ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d: judge that address
    if (v6.isIPv4MappedAddress()) return { range: v6.toIPv4Address().range(), via: 'IPv4-mapped ' };
    // ::a.b.c.d (deprecated IPv4-compatible) is never a legitimate public target
    const parts = v6.parts;
    if (parts.slice(0, 6).every((p) => p === 0) && (parts[6] !== 0 || (parts[7] ?? 0) > 1)) return { range: 'reserved', via: 'IPv4-compatible ' };
  }
  return { range: ip.range() };
}

/** Verdicts for recently seen addresses: a worker sends to the same few networks all day. */
const verdicts = new Map<string, Result<void, string>>();
const maxVerdicts = 4_096;

/** Whether one IP address may be a postback target; the reason names the address and its kind. */
export function checkAddress(address: string, policy: SsrfPolicy): Result<void, string> {
  const key = `${policy.allowPrivate ? 'p' : 's'}${address}`;
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const verdict = judgeAddress(address, policy);
  if (verdicts.size >= maxVerdicts) verdicts.clear();
  verdicts.set(key, verdict);
  return verdict;
}

function judgeAddress(address: string, policy: SsrfPolicy): Result<void, string> {
  if (!ipaddr.isValid(address)) return err(`"${address}" is not an IP address`);
  const { range, via = '' } = rangeOf(ipaddr.parse(address));
  if (range === 'unicast') return ok(undefined);
  if (policy.allowPrivate && privateRanges.has(range)) return ok(undefined);
  const kind = rangeNames[range] ?? `a special-purpose address (${range})`;
  return err(`${address} is ${via === '' ? kind : `an ${via}${kind.replace(/^an? /, '')}`}`);
}

/** The URL-level rules, before any resolution. */
export function checkTargetUrl(url: string, options: { readonly allowHttp: boolean }): Result<URL, string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return err('the postback URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return err(`scheme "${parsed.protocol.replace(/:$/, '')}" is not allowed (http or https only)`);
  if (parsed.protocol === 'http:' && !options.allowHttp) return err('plain http is not allowed for this offer (HTTPS required unless the offer sets allowHttp)');
  if (parsed.username !== '' || parsed.password !== '') return err('credentials in the URL are not allowed');
  if (parsed.hostname === '') return err('the URL has no host');
  return ok(parsed);
}

/** URL.hostname keeps IPv6 literals in brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Resolves the host and checks every address (a host with one private address among public ones
 * is refused: the connection could land on either). IP literals are checked as they are.
 */
export async function resolveAndCheck(hostname: string, policy: SsrfPolicy, resolver: Resolver): Promise<Result<readonly ResolvedAddress[], string>> {
  const family = isIP(hostname);
  if (family !== 0) {
    const checked = checkAddress(hostname, policy);
    return checked.ok ? ok([{ address: hostname, family: family === 6 ? 6 : 4 }]) : err(`target ${checked.reason}`);
  }
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await resolver(hostname);
  } catch (cause) {
    const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : 'error';
    return err(`cannot resolve ${hostname} (${code})`);
  }
  if (addresses.length === 0) return err(`${hostname} resolves to no address`);
  for (const a of addresses) {
    const checked = checkAddress(a.address, policy);
    if (!checked.ok) return err(`${hostname} resolves to ${checked.reason}`);
  }
  return ok(addresses);
}

/** URL rules plus resolution: what the transport runs before every send. */
export async function checkTarget(
  url: string,
  options: { readonly allowHttp: boolean; readonly policy: SsrfPolicy; readonly resolver: Resolver },
): Promise<Result<{ readonly url: URL; readonly addresses: readonly ResolvedAddress[] }, string>> {
  const parsed = checkTargetUrl(url, options);
  if (!parsed.ok) return parsed;
  const resolved = await resolveAndCheck(bareHostname(parsed.value), options.policy, options.resolver);
  return resolved.ok ? ok({ url: parsed.value, addresses: resolved.value }) : resolved;
}
