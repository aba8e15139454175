import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { networkPresets, type AnswerRules } from '../offers/network-presets.ts';
import { classifyAnswer, maxRetryAfterMs, parseRetryAfter, type AnswerClassification, type PostbackAnswer } from './classify-answer.ts';

const now = new Date('2026-03-01T12:00:00Z');
const tune = networkPresets.tune.answer;
const plain: AnswerRules = {};

function answer(overrides: Partial<PostbackAnswer> = {}): PostbackAnswer {
  return { status: 200, headers: {}, body: '', ...overrides };
}

describe('classifyAnswer', () => {
  it.each<[string, AnswerRules, PostbackAnswer, AnswerClassification]>([
    // success
    ['plain 200', plain, answer(), { outcome: 'success', reason: 'HTTP 200' }],
    ['plain 204', plain, answer({ status: 204 }), { outcome: 'success', reason: 'HTTP 204' }],
    ['TUNE success', tune, answer({ body: 'success=true;' }), { outcome: 'success', reason: 'HTTP 200' }],
    ['success pattern is case-insensitive', tune, answer({ body: 'SUCCESS=TRUE;' }), { outcome: 'success', reason: 'HTTP 200' }],
    // duplicate: final, delivered
    [
      'TUNE duplicate (also says success=false)',
      tune,
      answer({ body: 'success=false; err_msg=Duplicate conversion;' }),
      { outcome: 'duplicate', reason: 'HTTP 200: duplicate, already counted by the network: Duplicate conversion' },
    ],
    ['duplicate on 409', { duplicateBody: 'already' }, answer({ status: 409, body: 'conversion already recorded' }), { outcome: 'duplicate', reason: 'HTTP 409: duplicate, already counted by the network: conversion already recorded' }],
    // rejected by the body
    [
      'TUNE invalid ID',
      tune,
      answer({ body: 'success=false; err_msg=Invalid Trans. ID #102a+f3;' }),
      { outcome: 'rejected', reason: 'HTTP 200: rejected by the network: Invalid Trans. ID #102a+f3' },
    ],
    [
      'TUNE bad token',
      tune,
      answer({ body: 'success=false; err_msg=Invalid advertiser security token;' }),
      { outcome: 'rejected', reason: 'HTTP 200: rejected by the network: Invalid advertiser security token' },
    ],
    ['reject without err_msg quotes the body', { rejectBody: 'error' }, answer({ body: '  ERROR:\n  bad   click ' }), { outcome: 'rejected', reason: 'HTTP 200: rejected by the network: ERROR: bad click' }],
    ['2xx not matching the success pattern', tune, answer({ body: '<html>maintenance</html>' }), { outcome: 'rejected', reason: 'HTTP 200: answer does not match the success pattern: <html>maintenance</html>' }],
    ['empty body with a success pattern', tune, answer({ body: '' }), { outcome: 'rejected', reason: 'HTTP 200: answer does not match the success pattern: (empty body)' }],
    // redirects are never followed
    [
      '302 with Location',
      plain,
      answer({ status: 302, headers: { Location: 'https://elsewhere.example/pb' } }),
      { outcome: 'rejected', reason: 'HTTP 302: redirect not followed (Location: https://elsewhere.example/pb)' },
    ],
    ['301 without Location', plain, answer({ status: 301 }), { outcome: 'rejected', reason: 'HTTP 301: redirect not followed (Location: none)' }],
    // retried
    ['timeout', plain, answer({ status: null, error: 'timeout' }), { outcome: 'retry', reason: 'timed out' }],
    ['network error', plain, answer({ status: null, error: 'network' }), { outcome: 'retry', reason: 'network error' }],
    ['reset', plain, answer({ status: null, error: 'reset' }), { outcome: 'retry', reason: 'connection reset' }],
    ['no status', plain, answer({ status: null }), { outcome: 'retry', reason: 'no response' }],
    ['408', plain, answer({ status: 408 }), { outcome: 'retry', reason: 'HTTP 408 (request timeout)' }],
    ['429 without Retry-After', plain, answer({ status: 429 }), { outcome: 'retry', reason: 'HTTP 429 (rate limited)' }],
    ['429 with seconds', plain, answer({ status: 429, headers: { 'retry-after': '120' } }), { outcome: 'retry', reason: 'HTTP 429 (rate limited)', retryAfterMs: 120_000 }],
    ['503 with an HTTP date', plain, answer({ status: 503, headers: { 'Retry-After': 'Sun, 01 Mar 2026 12:05:00 GMT' } }), { outcome: 'retry', reason: 'HTTP 503 (server error)', retryAfterMs: 300_000 }],
    ['503 with a past date', plain, answer({ status: 503, headers: { 'Retry-After': 'Sun, 01 Mar 2026 11:00:00 GMT' } }), { outcome: 'retry', reason: 'HTTP 503 (server error)', retryAfterMs: 0 }],
    ['503 asking for a week: capped at 24 h', plain, answer({ status: 503, headers: { 'Retry-After': '604800' } }), { outcome: 'retry', reason: 'HTTP 503 (server error)', retryAfterMs: maxRetryAfterMs }],
    ['503 with garbage Retry-After', plain, answer({ status: 503, headers: { 'Retry-After': 'soon-ish' } }), { outcome: 'retry', reason: 'HTTP 503 (server error)' }],
    ['500 ignores Retry-After', plain, answer({ status: 500, headers: { 'Retry-After': '60' } }), { outcome: 'retry', reason: 'HTTP 500 (server error)' }],
    ['502 even when the body says duplicate', tune, answer({ status: 502, body: 'Duplicate' }), { outcome: 'retry', reason: 'HTTP 502 (server error)' }],
    // other 4xx: final
    ['400', plain, answer({ status: 400, body: 'missing click_id' }), { outcome: 'rejected', reason: 'HTTP 400: missing click_id' }],
    ['403 with err_msg', plain, answer({ status: 403, body: 'success=false; err_msg=IP address not whitelisted;' }), { outcome: 'rejected', reason: 'HTTP 403: IP address not whitelisted' }],
    ['404 empty', plain, answer({ status: 404 }), { outcome: 'rejected', reason: 'HTTP 404: (empty body)' }],
    ['4xx that matches the success pattern is still rejected', tune, answer({ status: 401, body: 'success=true' }), { outcome: 'rejected', reason: 'HTTP 401: success=true' }],
    ['nonsense status', plain, answer({ status: 666 }), { outcome: 'rejected', reason: 'unexpected HTTP status 666' }],
  ])('%s', (_name, rules, received, expected) => {
    expect(classifyAnswer(rules, received, now)).toEqual(expected);
  });

  it('quotes at most 200 characters of the body', () => {
    const result = classifyAnswer(plain, answer({ status: 400, body: 'x'.repeat(5000) }), now);
    expect(result.reason).toBe(`HTTP 400: ${'x'.repeat(200)}…`);
  });

  it('reads an invalid pattern as plain text instead of throwing', () => {
    expect(classifyAnswer({ rejectBody: 'bad(' }, answer({ body: 'this is BAD( input' }), now)).toMatchObject({ outcome: 'rejected' });
    expect(classifyAnswer({ rejectBody: 'bad(' }, answer({ body: 'fine' }), now)).toMatchObject({ outcome: 'success' });
  });

  it('never throws and always gives a reason', () => {
    const status = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 999 }));
    const headers = fc.dictionary(fc.constantFrom('Retry-After', 'retry-after', 'Location', 'x'), fc.string({ maxLength: 40 }));
    const rules = fc.record({ successBody: fc.string({ maxLength: 8 }), duplicateBody: fc.string({ maxLength: 8 }), rejectBody: fc.string({ maxLength: 8 }) }, { requiredKeys: [] });
    fc.assert(
      fc.property(rules, status, headers, fc.string({ maxLength: 100 }), (r, s, h, body) => {
        const result = classifyAnswer(r, { status: s, headers: h, body }, now);
        expect(result.reason.length).toBeGreaterThan(0);
        const wait = result.retryAfterMs ?? 0;
        expect(wait).toBeGreaterThanOrEqual(0);
        expect(wait).toBeLessThanOrEqual(maxRetryAfterMs);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['0', 0],
    [' 30 ', 30_000],
    ['86401', maxRetryAfterMs],
    ['-5', undefined],
    ['1.5', undefined],
    ['2026', 2_026_000], // seconds, never a year
    ['Sun, 01 Mar 2026 12:00:30 GMT', 30_000],
    ['Sunday, 01-Mar-26 12:00:30 GMT', 30_000], // RFC 850, still allowed by RFC 9110
    ['Sun Mar  1 12:00:30 2026', 30_000], // asctime: no zone, UTC by the spec whatever the machine's zone
    ['Fri, 31 Dec 9999 23:59:59 GMT', maxRetryAfterMs],
    ['tomorrow', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
