import type { Agency, ApiTokenRecord, AuditEntry } from '@clickthread/core/access';
import { redactUrl } from '@clickthread/core/delivery';
import type { AttemptRecord, Merchant, PostbackJob, StoreConnection, UnattributedOrder, WriteBackTask } from '@clickthread/core/storage';

/**
 * The JSON the API answers with. Secrets never leave: token hashes, a store's sealed secrets,
 * network tokens in postback URLs and secret-looking headers are left out or redacted.
 */

export const redacted = '[redacted]';
const secretHeader = /authorization|cookie|token|secret|signature|api[-_]?key|password/i;
const secretSetting = /secret|token|password|consumer_?key|api[-_]?key/i;

export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, secretHeader.test(name) ? redacted : value]));
}

export const merchantView = (m: Merchant) => ({ id: m.id, name: m.name, agencyId: m.agencyId, createdAt: m.createdAt.toISOString() });

export const agencyView = (a: Agency) => ({ id: a.id, name: a.name, createdAt: a.createdAt.toISOString() });

export const tokenView = (t: ApiTokenRecord) => ({
  prefix: t.prefix,
  scope: t.scope,
  label: t.label,
  createdAt: t.createdAt.toISOString(),
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
});

function safeSettings(settings: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([key]) => !secretSetting.test(key)));
}

export const storeView = (s: StoreConnection) => ({
  id: s.id,
  merchantId: s.merchantId,
  platform: s.platform,
  domain: s.domain,
  status: s.status,
  settings: safeSettings(s.settings),
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

export const jobView = (j: PostbackJob) => ({
  id: j.id,
  storeId: j.storeId,
  orderId: j.orderId,
  orderNumber: j.orderNumber,
  offerId: j.offerId,
  event: j.event,
  eventKey: j.eventKey,
  method: j.method,
  url: redactUrl(j.url),
  headers: redactHeaders(j.headers),
  transactionId: j.transactionId,
  idSource: j.idSource,
  amount: j.amount,
  currency: j.currency,
  test: j.test,
  status: j.status,
  attempts: j.attempts,
  nextAttemptAt: j.nextAttemptAt.toISOString(),
  lastOutcome: j.lastOutcome,
  lastError: j.lastError,
  createdAt: j.createdAt.toISOString(),
  updatedAt: j.updatedAt.toISOString(),
});

export const attemptView = (a: AttemptRecord) => ({
  attempt: a.attempt,
  startedAt: a.startedAt.toISOString(),
  latencyMs: a.latencyMs,
  // recorded redacted by the worker; redacting again is harmless and guards older rows
  requestUrl: redactUrl(a.requestUrl),
  status: a.status,
  responseHeaders: redactHeaders(a.responseHeaders),
  responseBody: a.responseBody,
  outcome: a.outcome,
  errorClass: a.errorClass,
  detail: a.detail,
});

export const unattributedView = (u: UnattributedOrder) => ({
  storeId: u.storeId,
  orderId: u.orderId,
  orderNumber: u.orderNumber,
  reason: u.reason,
  at: u.at.toISOString(),
});

/** A write-back the store did not take: waiting for its next try, or given up with the reason. */
export const writeBackView = (t: WriteBackTask) => ({
  postbackId: t.jobId,
  storeId: t.storeId,
  platform: t.platform,
  status: t.status,
  outcome: t.outcome,
  attempts: t.attempts,
  step: t.step,
  nextTryAt: t.status === 'pending' ? t.dueAt.toISOString() : null,
  lastError: t.lastError,
  updatedAt: t.updatedAt.toISOString(),
});

export const auditView = (e: AuditEntry) => ({
  id: e.id,
  offerId: e.offerId,
  action: e.action,
  actor: e.actor,
  at: e.at.toISOString(),
  before: e.before,
  after: e.after,
});
