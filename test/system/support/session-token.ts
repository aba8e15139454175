import { createHmac } from 'node:crypto';

/**
 * An App Bridge session token as Shopify issues it: an HS256 JWT signed with the app's client
 * secret, `dest` = the shop's origin, `aud` = the client id, `sub` = the staff user. The library
 * checks exp/nbf against the real time, so the token uses it too.
 */
export interface SessionTokenInput {
  readonly shop: string;
  readonly apiKey: string;
  readonly secret: string;
  readonly user?: string;
  readonly overrides?: Readonly<Record<string, unknown>>;
}

const b64url = (value: string): string => Buffer.from(value).toString('base64url');

export function sessionToken(input: SessionTokenInput): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: `https://${input.shop}/admin`,
      dest: `https://${input.shop}`,
      aud: input.apiKey,
      sub: input.user ?? '42',
      exp: now + 60,
      nbf: now - 5,
      iat: now - 5,
      jti: `jti-${now}-${Math.random().toString(16).slice(2)}`,
      sid: 'session-1',
      ...input.overrides,
    }),
  );
  const signature = createHmac('sha256', input.secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
