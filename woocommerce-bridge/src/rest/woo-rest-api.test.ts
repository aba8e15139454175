import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedAddress, Resolver } from '@clickthread/core/delivery';
import { blockedAddressCode, type StoreNetworkPolicy } from './store-address-guard.ts';
import { createWooClient } from './woo-client.ts';
import { defaultWooRestApiFactory } from './woo-rest-api.ts';

/**
 * The real REST client (the library over axios) against a loopback server: it reaches a store only
 * at addresses the SSRF guard passed, resolved at connect time, and repeats no foreign error body.
 */

let server: Server;
let port: number;
let seen: string[];
let answer: (req: IncomingMessage, res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

beforeEach(async () => {
  seen = [];
  answer = (_req, res) => json(res, 200, []);
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.headers.host}`);
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A resolver that answers these addresses for every name, and counts how often it was asked. */
function resolverAnswering(...answers: ReadonlyArray<readonly ResolvedAddress[]>): Resolver & { calls: number } {
  const resolver = Object.assign(
    async (): Promise<readonly ResolvedAddress[]> => {
      const next = answers[Math.min(resolver.calls, answers.length - 1)] ?? [];
      resolver.calls += 1;
      return next;
    },
    { calls: 0 },
  );
  return resolver;
}

const loopback: readonly ResolvedAddress[] = [{ address: '127.0.0.1', family: 4 }];

function client(url: string, network: StoreNetworkPolicy) {
  return createWooClient(defaultWooRestApiFactory({ url, consumerKey: 'ck_test', consumerSecret: 'cs_test', timeoutMs: 2000, network }));
}

describe('the default REST client and the SSRF guard', () => {
  it('connects to the address the guard resolved and checked, whatever the system resolver says', async () => {
    const resolver = resolverAnswering(loopback);
    const result = await client(`http://shop.test:${port}/`, { ssrf: { allowPrivate: true }, resolver }).checkAccess();
    expect(result).toEqual({ ok: true, value: undefined });
    expect(seen).toEqual([`GET shop.test:${port}`]);
    expect(resolver.calls).toBe(1);
  });

  it('refuses a host name that resolves to a private address, sending nothing', async () => {
    const result = await client(`http://shop.test:${port}/`, { ssrf: { allowPrivate: false }, resolver: resolverAnswering(loopback) }).checkAccess();
    expect(result).toEqual({ ok: false, reason: { kind: 'network', status: null, message: expect.stringContaining(`${blockedAddressCode}: the store address is refused: shop.test resolves to 127.0.0.1 is a loopback address`) } });
    expect(seen).toEqual([]);
  });

  it('resolves and checks at every connection, not once per client (a changed DNS answer is seen)', async () => {
    const resolver = resolverAnswering(loopback, [], loopback);
    const api = client(`http://shop.test:${port}/`, { ssrf: { allowPrivate: true }, resolver });
    expect((await api.checkAccess()).ok).toBe(true);
    const second = await api.checkAccess();
    expect(second.ok ? '' : second.reason.message).toContain('shop.test resolves to no address');
    expect((await api.checkAccess()).ok).toBe(true);
    expect(resolver.calls).toBe(3);
    expect(seen).toHaveLength(2);
  });

  it.each([
    ['a loopback IP literal', `http://127.0.0.1:PORT/`, false, 'loopback'],
    ['an IPv4-mapped loopback literal', `http://[::ffff:127.0.0.1]:PORT/`, false, 'loopback'],
    ['cloud metadata, even with private addresses allowed', 'http://169.254.169.254/', true, 'link-local'],
    ['a URL with credentials', 'http://user:pw@shop.test/', true, 'credentials'],
  ])('refuses %s without connecting', async (_name, url, allowPrivate, fragment) => {
    const result = await client(url.replace('PORT', String(port)), { ssrf: { allowPrivate }, resolver: resolverAnswering(loopback) }).checkAccess();
    expect(result.ok ? '' : result.reason.message).toContain(fragment);
    expect(seen).toEqual([]);
  });

  it('repeats a WordPress REST error bounded and without markup, and no other body', async () => {
    const network = { ssrf: { allowPrivate: true }, resolver: resolverAnswering(loopback) };
    answer = (_req, res) => json(res, 401, { code: 'woocommerce_rest_cannot_view', message: `<b>Sorry</b>, you cannot list resources.\u0007 ${'x'.repeat(400)}`, data: { status: 401 } });
    const wp = await client(`http://127.0.0.1:${port}/`, network).checkAccess();
    expect(wp.ok).toBe(false);
    const message = wp.ok ? '' : wp.reason.message;
    expect(message).toMatch(/^Sorry , you cannot list resources\. x+… \(woocommerce_rest_cannot_view\)$/);
    expect(message.length).toBeLessThan(200);

    answer = (_req, res) => json(res, 500, { message: 'internal admin panel: db password hunter2', code: 'Not A WP Code' });
    const other = await client(`http://127.0.0.1:${port}/`, network).checkAccess();
    expect(other).toEqual({ ok: false, reason: { kind: 'server', status: 500, message: 'HTTP 500' } });
  });
});
