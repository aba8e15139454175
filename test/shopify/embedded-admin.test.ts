import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiSecret, shopDomain, startHarness, type Harness } from './shopify-harness.ts';

/**
 * The embedded admin's API behind Shopify session tokens (App Bridge's HS256 JWTs signed with the
 * client secret), checked by the official middleware (validateAuthenticatedSession, token exchange).
 * The JWT library checks exp/nbf against the real time, so the tokens here use it too.
 */

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
  await h.saveOffer();
});

afterEach(async () => {
  await h.close();
});

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function sessionToken(overrides: Record<string, unknown> = {}, secret = apiSecret): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: `https://${shopDomain}/admin`,
      dest: `https://${shopDomain}`,
      aud: 'test-client-id',
      sub: '42',
      exp: now + 60,
      nbf: now - 5,
      iat: now - 5,
      jti: `jti-${now}`,
      sid: 'session-1',
      ...overrides,
    }),
  );
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

const status = (token: string | undefined) =>
  fetch(`${h.baseUrl}/api/status`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe('embedded admin API', () => {
  it('answers with the shop\'s status for a valid session token', async () => {
    const res = await status(sessionToken());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      shop: shopDomain,
      status: 'active',
      offers: [{ id: 'offer-1', name: 'Test network', network: 'custom', enabled: true }],
      jobs: expect.objectContaining({ pending: 0, succeeded: 0 }),
      unattributed: [],
    });
  });

  it.each([
    ['signed with another key', () => sessionToken({}, 'not-the-client-secret')],
    ['for another app', () => sessionToken({ aud: 'another-app' })],
    ['expired', () => sessionToken({ exp: Math.floor(Date.now() / 1000) - 60, nbf: Math.floor(Date.now() / 1000) - 120 })],
  ])('refuses a session token %s', async (_what, token) => {
    const res = await status(token());
    expect(res.status).toBe(401);
  });

  it('serves the page only inside the admin (no shop: refused)', async () => {
    expect((await fetch(`${h.baseUrl}/`)).status).toBe(400);
  });
});
