import type { PostbackJobDraft } from '../conversion/postback-job.ts';
import type { AnswerRules } from '../offers/network-presets.ts';
import type { Clock } from '../ports/clock.ts';
import type { AttemptRecord } from '../storage/store.ts';
import { classifyAnswer, type AnswerClassification } from './classify-answer.ts';
import { redactRequest, redactSecrets } from './redact-url.ts';
import { checkAddress, type SsrfPolicy } from './ssrf-guard.ts';
import type { Transport, TransportResult } from './transport.ts';

/**
 * One attempt at one postback: send, classify, describe. Shared by the worker and the CLI's
 * test-fire, so what a merchant tries by hand is exactly what the worker does.
 */

export type DeliveryOutcome = 'success' | 'duplicate' | 'rejected' | 'retry' | 'blocked' | 'error';

export interface DeliveryResult {
  readonly outcome: DeliveryOutcome;
  /** One line for the log: why this outcome. */
  readonly reason: string;
  readonly retryAfterMs?: number;
  /** What the postback log keeps (URL redacted). */
  readonly attempt: AttemptRecord;
}

/** Response headers worth keeping in the postback log. */
const keptHeaders = ['content-type', 'content-length', 'retry-after', 'location', 'date', 'server', 'x-request-id', 'cf-ray'];

function pickHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of keptHeaders) {
    const value = headers[name];
    if (value !== undefined) out[name] = value.slice(0, 500);
  }
  return out;
}

function errorClassOf(result: TransportResult, classification: AnswerClassification | undefined): string | null {
  if (result.kind === 'blocked') return 'ssrf';
  if (result.kind === 'failed') return result.error;
  if (!classification || classification.outcome === 'success' || classification.outcome === 'duplicate') return null;
  const s = result.status;
  if (s >= 300 && s <= 399) return 'redirect';
  if (s >= 500) return 'http_5xx';
  if (s >= 400) return `http_${s}`;
  return 'rejected_by_network';
}

/** For a redirect: would its target have been refused anyway? Only IP literals can be told without resolving. */
function redirectNote(location: string | undefined, from: string, policy: SsrfPolicy): string {
  if (location === undefined) return '';
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return '';
  }
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const checked = checkAddress(host, policy);
  return checked.ok || /not an IP address/.test(checked.reason) ? '' : `; its target would be refused: ${checked.reason}`;
}

export interface DeliverInput {
  readonly job: PostbackJobDraft;
  /** For the attempt record: the stored job's id ("" for a test-fire) and this attempt's number. */
  readonly jobId: string;
  readonly attemptNumber: number;
  readonly rules: AnswerRules;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly ssrf: SsrfPolicy;
}

export async function deliverPostback(input: DeliverInput): Promise<DeliveryResult> {
  const { job, clock } = input;
  const startedAt = clock.now();
  const started = performance.now();
  let result: TransportResult;
  try {
    result = await input.transport.send({
      method: job.method,
      url: job.url,
      headers: job.headers,
      signal: AbortSignal.timeout(input.timeoutMs),
      allowHttp: job.allowHttp,
    });
  } catch (error) {
    // a transport that throws has a bug; the job is retried on the schedule, not lost
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    result = { kind: 'failed', error: 'network', detail: `transport failed unexpectedly: ${detail}`.slice(0, 500) };
  }
  const latencyMs = Math.round(performance.now() - started);
  const now = clock.now();

  let outcome: DeliveryOutcome;
  let reason: string;
  let retryAfterMs: number | undefined;
  let classification: AnswerClassification | undefined;
  if (result.kind === 'blocked') {
    outcome = 'blocked';
    reason = `refused by the SSRF guard: ${result.reason}`;
  } else {
    classification =
      result.kind === 'failed'
        ? classifyAnswer(input.rules, { status: null, headers: {}, body: '', error: result.error }, now)
        : classifyAnswer(input.rules, { status: result.status, headers: result.headers, body: result.body }, now);
    outcome = classification.outcome;
    reason = result.kind === 'failed' ? `${classification.reason}: ${result.detail}` : classification.reason;
    retryAfterMs = classification.retryAfterMs;
    if (result.kind === 'answer' && result.status >= 300 && result.status <= 399) {
      reason += redirectNote(result.headers['location'], job.url, input.ssrf);
    }
  }

  // an answer may echo the request (the URL, its parameters, a Location back to it): the network's
  // token must not reach the postback log, the job's last outcome or the process log that way
  const { url: requestUrl, secrets } = redactRequest(job.url, job.headers);
  const hide = (text: string): string => (secrets.length === 0 ? text : redactSecrets(text, secrets));
  reason = hide(reason);
  const attempt: AttemptRecord = {
    jobId: input.jobId,
    attempt: input.attemptNumber,
    startedAt,
    latencyMs,
    requestUrl,
    status: result.kind === 'answer' ? result.status : null,
    responseHeaders: result.kind === 'answer' ? Object.fromEntries(Object.entries(pickHeaders(result.headers)).map(([k, v]) => [k, hide(v)])) : {},
    responseBody: result.kind === 'answer' ? hide(result.body) : '',
    outcome,
    errorClass: errorClassOf(result, classification),
    detail: reason,
  };
  return { outcome, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), attempt };
}
