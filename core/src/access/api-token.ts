import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvariantError } from '../shared/errors.ts';
import type { AccessStore, ApiTokenRecord, TokenScope } from './access-store.ts';

/**
 * API tokens: `ct_<prefix>_<secret>`. The prefix (10 lowercase hex characters) is stored in clear to
 * find the row and to name the token in logs and rate limits; the secret (32 random bytes,
 * base64url) never is: only the SHA-256 of the whole token is kept, and compared in constant time.
 */

export const tokenPrefixLength = 10;
const tokenPattern = /^ct_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented token with a stored SHA-256 hex digest. */
export function tokenMatchesHash(token: string, hashHex: string): boolean {
  const expected = Buffer.from(hashHex, 'hex');
  const actual = createHash('sha256').update(token, 'utf8').digest();
  // both are 32 bytes for a well-formed digest; a malformed stored hash simply never matches
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The prefix of a well-formed token, or undefined. */
export function tokenPrefixOf(token: string): string | undefined {
  return tokenPattern.exec(token)?.[1];
}

export interface GeneratedToken {
  readonly token: string;
  readonly prefix: string;
  readonly hash: string;
}

export function generateApiToken(random: (size: number) => Buffer = randomBytes): GeneratedToken {
  const prefix = random(tokenPrefixLength / 2).toString('hex');
  const token = `ct_${prefix}_${random(32).toString('base64url')}`;
  return { token, prefix, hash: hashToken(token) };
}

export interface IssuedToken {
  /** Shown once to whoever asked for it; never stored. */
  readonly token: string;
  readonly record: ApiTokenRecord;
}

/** Draws a token, stores its hash, and hands the token back once. */
export async function issueApiToken(
  access: AccessStore,
  input: { scope: TokenScope; label: string; now: Date; random?: (size: number) => Buffer },
): Promise<IssuedToken> {
  // a 40-bit prefix collides rarely; a few draws make it a non-event
  for (let draw = 0; draw < 5; draw += 1) {
    const generated = generateApiToken(input.random);
    if (await access.saveToken({ prefix: generated.prefix, hash: generated.hash, scope: input.scope, label: input.label, now: input.now })) {
      const record = await access.findToken(generated.prefix);
      if (record) return { token: generated.token, record };
    }
  }
  throw new InvariantError('could not draw a free API token prefix in 5 attempts');
}

/** The stored token a presented one matches, or undefined (malformed, unknown, revoked or wrong secret). */
export async function verifyApiToken(access: AccessStore, token: string): Promise<ApiTokenRecord | undefined> {
  const prefix = tokenPrefixOf(token);
  if (prefix === undefined) return undefined;
  const record = await access.findToken(prefix);
  if (!record) return undefined;
  return tokenMatchesHash(token, record.hash) ? record : undefined;
}
