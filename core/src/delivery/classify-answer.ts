import type { AnswerRules } from '../offers/network-presets.ts';

/**
 * What a network's answer to a postback means. Pure: the worker hands in what it received and the
 * time, and gets back whether the job is done, finally refused, or to be tried again.
 *
 * HTTP 200 does not mean success (TUNE answers 200 with "success=false; err_msg=…;"), so the
 * offer's answer rules are read before the status is believed. Duplicates count as delivered: the
 * network already has the conversion, and retrying would never change that.
 */

export interface PostbackAnswer {
  /** Null when no response arrived (see error). */
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly error?: 'timeout' | 'network' | 'reset';
}

export type AnswerOutcome = 'success' | 'duplicate' | 'rejected' | 'retry';

export interface AnswerClassification {
  readonly outcome: AnswerOutcome;
  /** One line for the postback log. */
  readonly reason: string;
  /** How long the network asked us to wait (Retry-After), capped at maxRetryAfterMs. */
  readonly retryAfterMs?: number;
}

export const maxRetryAfterMs = 24 * 60 * 60 * 1000;

// Patterns are matched against the start of the body only: networks answer in a line, and a huge
// body should not make a merchant's pattern expensive.
const maxBodyMatched = 64 * 1024;
const maxBodyQuoted = 200;

const errorReasons: Record<NonNullable<PostbackAnswer['error']>, string> = {
  timeout: 'timed out',
  network: 'network error',
  reset: 'connection reset',
};

function headerOf(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function bodyMatches(pattern: string | undefined, body: string): boolean {
  if (pattern === undefined || pattern === '') return false;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'i');
  } catch {
    // the offer schema refuses invalid patterns; one that slipped through still means its text
    return body.toLowerCase().includes(pattern.toLowerCase());
  }
  return regex.test(body);
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > maxBodyQuoted ? `${flat.slice(0, maxBodyQuoted)}…` : flat;
}

/** The network's own words: TUNE's `err_msg=Invalid Trans. ID #…;`, else the start of the body. */
function networkMessage(body: string): string {
  const errMsg = /err_msg=([^;\r\n]*)/i.exec(body)?.[1]?.trim();
  return errMsg ? quote(errMsg) : quote(body);
}

/** Retry-After as delay-seconds or an HTTP date (relative to now), capped; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, maxRetryAfterMs);
  // a bare number with a sign or a fraction is neither form; Date.parse would read it as a year
  if (!/[A-Za-z]/.test(text)) return undefined;
  // HTTP dates are UTC; asctime() carries no zone, and Date.parse would read it as local time
  const at = Date.parse(/\b(GMT|UTC)\b/i.test(text) ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now.getTime(), 0), maxRetryAfterMs);
}

export function classifyAnswer(rules: AnswerRules, answer: PostbackAnswer, now: Date): AnswerClassification {
  const { status } = answer;
  if (answer.error !== undefined) return { outcome: 'retry', reason: errorReasons[answer.error] };
  if (status === null) return { outcome: 'retry', reason: 'no response' };

  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) {
    const label = status === 408 ? 'request timeout' : status === 429 ? 'rate limited' : 'server error';
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(headerOf(answer.headers, 'retry-after'), now) : undefined;
    return { outcome: 'retry', reason: `HTTP ${status} (${label})`, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  if (status >= 300 && status <= 399) {
    // redirects are never followed: a postback target that moves is a configuration problem
    const location = headerOf(answer.headers, 'location');
    return { outcome: 'rejected', reason: `HTTP ${status}: redirect not followed (Location: ${location === undefined ? 'none' : quote(location)})` };
  }

  const body = answer.body.slice(0, maxBodyMatched);
  const is2xx = status >= 200 && status <= 299;
  if ((is2xx || (status >= 400 && status <= 499)) && bodyMatches(rules.duplicateBody, body)) {
    return { outcome: 'duplicate', reason: `HTTP ${status}: duplicate, already counted by the network: ${networkMessage(body)}` };
  }
  if (!is2xx) {
    if (status >= 400 && status <= 499) return { outcome: 'rejected', reason: `HTTP ${status}: ${networkMessage(body)}` };
    return { outcome: 'rejected', reason: `unexpected HTTP status ${status}` };
  }
  if (bodyMatches(rules.rejectBody, body)) return { outcome: 'rejected', reason: `HTTP ${status}: rejected by the network: ${networkMessage(body)}` };
  if (rules.successBody !== undefined && rules.successBody !== '' && !bodyMatches(rules.successBody, body)) {
    return { outcome: 'rejected', reason: `HTTP ${status}: answer does not match the success pattern: ${quote(body)}` };
  }
  return { outcome: 'success', reason: `HTTP ${status}` };
}
