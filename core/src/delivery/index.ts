// @clickthread/core/delivery: the worker that drains the outbox, its transport (undici + SSRF
// guard), answer classification and the retry schedule.
export {
  createWorker,
  type Worker,
  type WorkerOptions,
  type BatchSummary,
  type SettledOutcome,
} from './worker.ts';
export { deliverPostback, type DeliverInput, type DeliveryResult, type DeliveryOutcome } from './deliver-postback.ts';
export { keptBodyBytes, type Transport, type TransportRequest, type TransportResult } from './transport.ts';
export { createUndiciTransport, type UndiciTransportOptions } from './undici-transport.ts';
export {
  checkAddress,
  checkTarget,
  checkTargetUrl,
  resolveAndCheck,
  systemResolver,
  type SsrfPolicy,
  type Resolver,
  type ResolvedAddress,
} from './ssrf-guard.ts';
export { redactRequest, redactUrl, isSecretParam, redactedValue, secretValuesOf, redactSecrets, type RedactedRequest } from './redact-url.ts';
export { defaultRetrySchedule, nextRetryDelay, scheduleProblems, type RetryDecisionInput } from './retry-schedule.ts';
export {
  classifyAnswer,
  parseRetryAfter,
  maxRetryAfterMs,
  type PostbackAnswer,
  type AnswerOutcome,
  type AnswerClassification,
} from './classify-answer.ts';
