import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { isSecretParam, redactRequest, redactSecrets, redactUrl, secretValuesOf } from './redact-url.ts';

describe('redactUrl', () => {
  it.each([
    [
      'https://net.go2cloud.org/aff_lsr?offer_id=12&transaction_id=abc%2B1&amount=12.50&security_token=s3cr%3Dt',
      'https://net.go2cloud.org/aff_lsr?offer_id=12&transaction_id=abc%2B1&amount=12.50&security_token=[redacted]',
    ],
    ['https://ef.example/?nid=1&transaction_id=x&verification_token=v', 'https://ef.example/?nid=1&transaction_id=x&verification_token=[redacted]'],
    ['https://a.example/postback?clickid=1&secure=abc&sum=2', 'https://a.example/postback?clickid=1&secure=[redacted]&sum=2'],
    ['https://s.example/track/conv?click_id=1&token=t&goal_id=2', 'https://s.example/track/conv?click_id=1&token=[redacted]&goal_id=2'],
    ['https://x.example/p?key=1&api_key=2&password=3&sig=4&signature=5', 'https://x.example/p?key=[redacted]&api_key=[redacted]&password=[redacted]&sig=[redacted]&signature=[redacted]'],
    ['https://x.example/p?Security_Token=1&API-KEY=2&partner_secret=3', 'https://x.example/p?Security_Token=[redacted]&API-KEY=[redacted]&partner_secret=[redacted]'],
    ['https://x.example/p?%74oken=1', 'https://x.example/p?%74oken=[redacted]'],
    ['https://user:pw@x.example/p?a=1', 'https://[redacted]@x.example/p?a=1'],
    ['https://x.example/p?a=1#token=abc', 'https://x.example/p?a=1#token=[redacted]'],
    ['https://x.example/p', 'https://x.example/p'],
    ['https://x.example/p?flag&token=', 'https://x.example/p?flag&token=[redacted]'],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it.each(['transaction_id', 'amount', 'adv_sub', 'offer_id', 'keyword', 'monkey', 'tokenizer'])('%s is not a secret', (name) => {
    expect(isSecretParam(name)).toBe(false);
  });
});

describe('secrets echoed in an answer', () => {
  const url = 'https://net.example/aff_lsr?transaction_id=abc123&security_token=s3cr%3Dt%2Bkey&amount=1&api_key=KEY-123456#sig=frag-secret';

  it('finds each secret value raw and decoded, longest first, and secret headers', () => {
    const found = secretValuesOf(url, { 'X-Api-Key': 'hdr-secret', Authorization: 'Bearer tok-9999', 'Content-Type': 'text/plain' });
    expect(found.map((v) => v.length)).toEqual(found.map((v) => v.length).toSorted((a, b) => b - a));
    expect(found.toSorted()).toEqual([
      'Bearer tok-9999',
      's3cr%3Dt%2Bkey',
      'frag-secret',
      'KEY-123456',
      'hdr-secret',
      's3cr=t+key',
      'tok-9999',
    ].toSorted());
    expect(secretValuesOf('https://net.example/p?transaction_id=abc&amount=2')).toEqual([]);
  });

  it.each([
    ['got security_token=s3cr%3Dt%2Bkey and api_key=KEY-123456', 'got security_token=[redacted] and api_key=[redacted]'],
    ['{"token":"s3cr=t+key","tx":"abc123"}', '{"token":"[redacted]","tx":"abc123"}'],
    ['success=true;', 'success=true;'],
    // the answer was cut at 1 KB inside the echoed secret
    ['…&security_token=s3cr%3D', '…&security_token=[redacted]'],
  ])('%s', (body, expected) => {
    expect(redactSecrets(body, secretValuesOf(url))).toBe(expected);
  });

  it('leaves values too short to be secrets alone', () => {
    expect(secretValuesOf('https://x.example/p?token=12&key=abc')).toEqual([]);
  });
});

describe('redactRequest', () => {
  const publicName = fc.constantFrom('transaction_id', 'amount', 'adv_sub', 'offer_id', 'goal');
  const secretName = fc.constantFrom('security_token', 'token', 'api_key', 'Secret', 'sig', 'verification_token');
  // secret values in capitals only, everything else in lower case: a secret can only show up where it was
  const secretValue = fc.stringMatching(/^[A-Z]{4,12}$/);
  const publicValue = fc.stringMatching(/^[a-z0-9.]{0,8}$/);
  const pair = fc.oneof(
    fc.tuple(publicName, publicValue).map(([n, v]) => ({ text: `${n}=${v}`, secret: undefined })),
    fc.tuple(secretName, secretValue).map(([n, v]) => ({ text: `${n}=${v}`, secret: v })),
    fc.constant({ text: 'flag', secret: undefined }),
  );

  it('hides every secret value of the query and fragment, and lists each one', () => {
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), fc.array(pair, { maxLength: 3 }), (query, fragment) => {
        const url = `https://net.example/aff_lsr?${query.map((p) => p.text).join('&')}${fragment.length > 0 ? `#${fragment.map((p) => p.text).join('&')}` : ''}`;
        const shown = redactRequest(url);
        const expected = [...query, ...fragment].flatMap((p) => (p.secret === undefined ? [] : [p.secret]));
        for (const secret of expected) expect(shown.url).not.toContain(secret);
        expect(new Set(shown.secrets)).toEqual(new Set(expected));
        // nothing else changed: the public pairs are there byte for byte
        const publicPairs = [...query, ...fragment].filter((p) => p.secret === undefined).map((p) => p.text);
        for (const text of publicPairs) expect(shown.url).toContain(text);
        expect(redactUrl(url)).toBe(shown.url);
      }),
    );
  });

  it('takes secrets from headers too, the credential of an Authorization alone as well', () => {
    const shown = redactRequest('https://net.example/p?transaction_id=1', { authorization: 'Bearer tok-9999', 'x-api-key': 'hdr-secret', accept: 'text/plain' });
    expect(shown.url).toBe('https://net.example/p?transaction_id=1');
    expect(shown.secrets).toEqual(['Bearer tok-9999', 'hdr-secret', 'tok-9999']);
  });
});
