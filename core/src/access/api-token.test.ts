import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateApiToken, hashToken, tokenMatchesHash, tokenPrefixOf } from './api-token.ts';

describe('API tokens', () => {
  it('have the ct_<prefix>_<secret> shape, and the prefix is readable back', () => {
    const { token, prefix, hash } = generateApiToken();
    expect(token).toMatch(/^ct_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
    expect(tokenPrefixOf(token)).toBe(prefix);
    expect(hash).toBe(hashToken(token));
  });

  it('never repeat', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => generateApiToken().token));
    expect(tokens.size).toBe(200);
  });

  it.each([
    ['empty', ''],
    ['no prefix', 'ct__abc'],
    ['upper-case prefix', `ct_ABCDEF0123_${'a'.repeat(43)}`],
    ['short secret', `ct_abcdef0123_${'a'.repeat(42)}`],
    ['long secret', `ct_abcdef0123_${'a'.repeat(44)}`],
    ['other scheme', `xx_abcdef0123_${'a'.repeat(43)}`],
    ['trailing newline', `ct_abcdef0123_${'a'.repeat(43)}\n`],
  ])('has no prefix when malformed: %s', (_, token) => {
    expect(tokenPrefixOf(token)).toBeUndefined();
  });

  it('matches its own hash and no other string', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(tokenMatchesHash(a, hashToken(a))).toBe(true);
        expect(tokenMatchesHash(b, hashToken(a))).toBe(a === b);
      }),
    );
  });

  it.each([['not hex'], [''], ['ab'], ['0'.repeat(66)]])('never matches a malformed stored hash %j', (stored) => {
    expect(tokenMatchesHash('anything', stored)).toBe(false);
  });
});
