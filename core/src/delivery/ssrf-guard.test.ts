import { assert, boolean, ipV4, property } from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAddress, checkTarget, checkTargetUrl, resolveAndCheck, type Resolver } from './ssrf-guard.ts';

const strict = { allowPrivate: false };
const loose = { allowPrivate: true };

describe('checkAddress', () => {
  it.each([
    ['127.0.0.1', /127\.0\.0\.1 is a loopback address/],
    ['127.9.9.9', /loopback/],
    ['::1', /::1 is a loopback address/],
    ['10.0.0.1', /10\.0\.0\.1 is a private address/],
    ['10.255.255.255', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.254', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /169\.254\.169\.254 is a link-local address \(cloud metadata/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.254', /carrier-grade NAT/],
    ['fc00::1', /unique local address/],
    ['fd12:3456::1', /unique local address/],
    ['fe80::1', /link-local/],
    ['::ffff:127.0.0.1', /::ffff:127\.0\.0\.1 is an IPv4-mapped loopback address/],
    ['::ffff:10.1.2.3', /IPv4-mapped private address/],
    ['::ffff:169.254.169.254', /IPv4-mapped link-local/],
    ['::127.0.0.1', /loopback/],
    ['::7f00:1', /IPv4-compatible/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.10', /reserved/],
    ['64:ff9b::7f00:1', /NAT64/],
    ['2002:7f00:1::', /6to4/],
    ['not-an-ip', /not an IP address/],
  ])('refuses %s', (address, reason) => {
    const checked = checkAddress(address, strict);
    expect(checked.ok).toBe(false);
    expect(checked.ok ? '' : checked.reason).toMatch(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:93.184.216.34'])('allows public %s', (address) => {
    expect(checkAddress(address, strict)).toEqual({ ok: true, value: undefined });
  });

  it.each(['127.0.0.1', '::1', '10.0.0.1', '192.168.0.10', 'fd00::1', '100.64.0.1', '::ffff:127.0.0.1'])('allowPrivate opens %s', (address) => {
    expect(checkAddress(address, loose).ok).toBe(true);
  });

  it.each(['169.254.169.254', 'fe80::1', '0.0.0.0', '224.0.0.1', '255.255.255.255'])('allowPrivate still refuses %s', (address) => {
    expect(checkAddress(address, loose).ok).toBe(false);
  });

  it('an IPv4 address and its IPv4-mapped IPv6 form get the same verdict', () => {
    assert(
      property(ipV4(), boolean(), (v4, allowPrivate) => {
        expect(checkAddress(`::ffff:${v4}`, { allowPrivate }).ok).toBe(checkAddress(v4, { allowPrivate }).ok);
      }),
    );
  });
});

describe('checkTargetUrl', () => {
  it.each([
    ['ftp://tracker.example/x', false, /scheme "ftp" is not allowed/],
    ['file:///etc/passwd', true, /scheme "file" is not allowed/],
    ['javascript:alert(1)', true, /scheme "javascript"/],
    ['http://tracker.example/x', false, /plain http is not allowed/],
    ['https://user:pw@tracker.example/x', false, /credentials/],
    ['https://user@tracker.example/x', false, /credentials/],
    ['/relative/path', false, /not a valid absolute URL/],
  ])('refuses %s', (url, allowHttp, reason) => {
    const checked = checkTargetUrl(url, { allowHttp });
    expect(checked.ok ? '' : checked.reason).toMatch(reason);
  });

  it('accepts https, and http when the offer allows it', () => {
    expect(checkTargetUrl('https://tracker.example/p?x=1', { allowHttp: false }).ok).toBe(true);
    expect(checkTargetUrl('http://tracker.example/p', { allowHttp: true }).ok).toBe(true);
  });
});

const resolverOf =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('resolveAndCheck', () => {
  const resolver = resolverOf({
    'public.example': ['93.184.216.34', '2606:2800:220:1::'],
    'internal.example': ['10.0.0.5'],
    'mixed.example': ['93.184.216.34', '192.168.0.7'],
    'empty.example': [],
  });

  it('resolves a public host to every address', async () => {
    expect(await resolveAndCheck('public.example', strict, resolver)).toEqual({
      ok: true,
      value: [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::', family: 6 }],
    });
  });

  it.each([
    ['internal.example', /internal\.example resolves to 10\.0\.0\.5 is a private address/],
    ['mixed.example', /mixed\.example resolves to 192\.168\.0\.7 is a private address/],
    ['empty.example', /resolves to no address/],
    ['missing.example', /cannot resolve missing\.example \(ENOTFOUND\)/],
    ['127.0.0.1', /target 127\.0\.0\.1 is a loopback address/],
  ])('refuses %s', async (host, reason) => {
    const checked = await resolveAndCheck(host, strict, resolver);
    expect(checked.ok ? '' : checked.reason).toMatch(reason);
  });

  it('checkTarget applies the URL rules, then resolution (IPv6 literals without brackets)', async () => {
    const v6 = await checkTarget('https://[::1]:8443/p', { allowHttp: false, policy: strict, resolver });
    expect(v6.ok ? '' : v6.reason).toMatch(/::1 is a loopback address/);
    const ok = await checkTarget('https://public.example/p', { allowHttp: false, policy: strict, resolver });
    expect(ok.ok && ok.value.addresses).toHaveLength(2);
  });
});
