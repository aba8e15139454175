import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTracker, type FakeTracker } from '../testing/fake-tracker.ts';
import type { Resolver } from './ssrf-guard.ts';
import type { Transport, TransportRequest } from './transport.ts';
import { createUndiciTransport } from './undici-transport.ts';

let tracker: FakeTracker;
const transports: Transport[] = [];

beforeAll(async () => {
  tracker = await startFakeTracker();
});
afterAll(async () => {
  await tracker.close();
});
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  tracker.clear();
});

function transportWith(options: Partial<Parameters<typeof createUndiciTransport>[0]> = {}): Transport {
  const t = createUndiciTransport({ ssrf: { allowPrivate: true }, ...options });
  transports.push(t);
  return t;
}

function req(url: string, overrides: Partial<TransportRequest> = {}): TransportRequest {
  return { method: 'GET', url, headers: {}, signal: AbortSignal.timeout(2_000), allowHttp: true, ...overrides };
}

/** Resolves the listed test host names; anything else is unknown. */
const resolverOf =
  (table: Record<string, string[]>, calls: string[] = []): Resolver =>
  async (host) => {
    calls.push(host);
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('undici transport against a loopback tracker (allowPrivate on)', () => {
  it('sends the URL as is and returns status, headers and body', async () => {
    tracker.behave('/aff_lsr', { kind: 'tune' });
    const result = await transportWith().send(req(`${tracker.url}/aff_lsr?transaction_id=abc%2B1&amount=12.50`, { headers: { 'X-Api-Key': 'k', Host: 'evil.example' } }));
    expect(result).toMatchObject({ kind: 'answer', status: 200, body: 'success=true;', pinnedAddresses: ['127.0.0.1'] });
    expect(result.kind === 'answer' && result.headers['content-type']).toMatch(/text\/plain/);
    const [seen] = tracker.requests;
    expect(seen?.target).toBe('/aff_lsr?transaction_id=abc%2B1&amount=12.50');
    expect(seen?.headers['x-api-key']).toBe('k');
    expect(seen?.headers['host']).toBe(`127.0.0.1:${tracker.port}`);
    expect(seen?.headers['user-agent']).toBe('Clickthread postback');
  });

  it('POSTs when the job says so', async () => {
    await transportWith().send(req(`${tracker.url}/p?x=1`, { method: 'POST' }));
    expect(tracker.requests[0]).toMatchObject({ method: 'POST', query: { x: '1' } });
  });

  it('keeps only the first KB of a long body', async () => {
    tracker.behave('/big', { kind: 'reply', body: `é${'x'.repeat(50_000)}` });
    const result = await transportWith().send(req(`${tracker.url}/big`));
    expect(result.kind === 'answer' && Buffer.byteLength(result.body)).toBe(1024);
  });

  it('returns 5xx and 429 answers as answers (the classifier decides)', async () => {
    tracker.behave('/flaky', { kind: 'flaky' });
    tracker.behave('/busy', { kind: 'retryAfter', seconds: 30 });
    const t = transportWith();
    expect(await t.send(req(`${tracker.url}/flaky`))).toMatchObject({ kind: 'answer', status: 500 });
    expect(await t.send(req(`${tracker.url}/flaky`))).toMatchObject({ kind: 'answer', status: 200 });
    expect(await t.send(req(`${tracker.url}/busy`))).toMatchObject({ kind: 'answer', status: 429, headers: { 'retry-after': '30' } });
  });

  it('does not follow redirects', async () => {
    tracker.behave('/moved', { kind: 'redirect', location: `${tracker.url}/elsewhere` });
    const result = await transportWith().send(req(`${tracker.url}/moved`));
    expect(result).toMatchObject({ kind: 'answer', status: 302, headers: { location: `${tracker.url}/elsewhere` } });
    expect(tracker.requests.map((r) => r.path)).toEqual(['/moved']);
  });

  it('a slow answer within the timeout is an answer', async () => {
    tracker.behave('/slow', { kind: 'slow', delayMs: 150, after: { kind: 'tune' } });
    expect(await transportWith().send(req(`${tracker.url}/slow`))).toMatchObject({ kind: 'answer', body: 'success=true;' });
  });

  it('no answer before the signal fires is a timeout', async () => {
    tracker.behave('/hang', { kind: 'timeout' });
    const result = await transportWith().send(req(`${tracker.url}/hang`, { signal: AbortSignal.timeout(150) }));
    expect(result).toMatchObject({ kind: 'failed', error: 'timeout' });
  });

  it('a dropped connection is a reset', async () => {
    tracker.behave('/reset', { kind: 'reset' });
    expect(await transportWith().send(req(`${tracker.url}/reset`))).toMatchObject({ kind: 'failed', error: 'reset' });
  });

  it('a refused connection is a network error', async () => {
    const closed = await startFakeTracker();
    const url = `${closed.url}/gone`;
    await closed.close();
    expect(await transportWith().send(req(url))).toMatchObject({ kind: 'failed', error: 'network', detail: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('keeps connections alive between sends', async () => {
    const t = transportWith();
    for (let i = 0; i < 6; i += 1) await t.send(req(`${tracker.url}/k`));
    // undici may open a second socket while the first is being released; it never opens one per send
    expect(new Set(tracker.requests.map((r) => r.clientPort)).size).toBeLessThanOrEqual(2);
  });

  it('connects only to the address checked before the send (pinned, no second resolution)', async () => {
    const calls: string[] = [];
    // resolves once; a second resolution (what a rebinding attack relies on) would fail the test
    let first = true;
    const resolver: Resolver = async (host) => {
      calls.push(host);
      if (!first) throw new Error('resolved twice');
      first = false;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const result = await transportWith({ resolver }).send(req(`http://tracker.test:${tracker.port}/pinned`));
    expect(result).toMatchObject({ kind: 'answer', status: 200, pinnedAddresses: ['127.0.0.1'] });
    expect(calls).toEqual(['tracker.test']);
    expect(tracker.requests[0]?.headers['host']).toBe(`tracker.test:${tracker.port}`);
  });
});

describe('SSRF: refused before anything is sent (allowPrivate off)', () => {
  const resolver = resolverOf({ 'intranet.example': ['10.1.2.3'], 'sneaky.example': ['93.184.216.34', '127.0.0.1'], localhost: ['127.0.0.1', '::1'] });

  it.each([
    ['127.0.0.1', (port: number) => `https://127.0.0.1:${port}/p`, /127\.0\.0\.1 is a loopback address/],
    ['localhost', (port: number) => `https://localhost:${port}/p`, /localhost resolves to 127\.0\.0\.1 is a loopback address/],
    ['::1', (port: number) => `https://[::1]:${port}/p`, /::1 is a loopback address/],
    ['10/8', () => 'https://10.20.30.40/p', /10\.20\.30\.40 is a private address/],
    ['172.16/12', () => 'https://172.20.1.1/p', /172\.20\.1\.1 is a private address/],
    ['192.168/16', () => 'https://192.168.100.1/p', /192\.168\.100\.1 is a private address/],
    ['169.254.169.254', () => 'https://169.254.169.254/latest/meta-data/', /link-local address \(cloud metadata/],
    ['100.64/10', () => 'https://100.100.100.100/p', /carrier-grade NAT/],
    ['fc00::/7', () => 'https://[fd00::1]/p', /unique local address/],
    ['::ffff:127.0.0.1', (port: number) => `https://[::ffff:127.0.0.1]:${port}/p`, /IPv4-mapped loopback address/],
    ['a host resolving to a private address', () => 'https://intranet.example/p', /intranet\.example resolves to 10\.1\.2\.3 is a private address/],
    ['a host with one private address among public ones', () => 'https://sneaky.example/p', /sneaky\.example resolves to 127\.0\.0\.1/],
    ['decimal IPv4 spelling', () => 'https://2130706433/p', /127\.0\.0\.1 is a loopback address/],
    ['plain http without allowHttp', (port: number) => `http://127.0.0.1:${port}/p`, /plain http is not allowed/],
    ['credentials in the URL', () => 'https://user:pw@intranet.example/p', /credentials/],
  ])('refuses %s', async (_name, urlOf, reason) => {
    const t = createUndiciTransport({ ssrf: { allowPrivate: false }, resolver });
    transports.push(t);
    const allowHttp = !/plain http/.test(String(reason));
    const result = await t.send(req(urlOf(tracker.port), { allowHttp }));
    expect(result.kind).toBe('blocked');
    expect(result.kind === 'blocked' ? result.reason : '').toMatch(reason);
    expect(tracker.requests).toEqual([]);
  });

  it('localhost through the system resolver is refused too', async () => {
    const t = createUndiciTransport({ ssrf: { allowPrivate: false } });
    transports.push(t);
    const result = await t.send(req(`http://localhost:${tracker.port}/p`));
    expect(result.kind === 'blocked' ? result.reason : '').toMatch(/localhost resolves to .* loopback address/);
    expect(tracker.requests).toEqual([]);
  });

  it('a redirect to the metadata address comes back unfollowed', async () => {
    // the tracker is on loopback, so reaching it needs allowPrivate; link-local stays refused even then
    tracker.behave('/r', { kind: 'redirect' });
    const result = await transportWith().send(req(`${tracker.url}/r`));
    expect(result).toMatchObject({ kind: 'answer', status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
    expect(tracker.requests).toHaveLength(1);
  });
});
