import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PostbackJobDraft } from '../conversion/postback-job.ts';
import { parseOffer } from '../offers/offer-schema.ts';
import { ManualClock } from '../ports/clock.ts';
import { createMemoryLogger } from '../ports/logger.ts';
import { ConfigError } from '../shared/errors.ts';
import { createSqliteStore } from '../storage/sqlite-store.ts';
import { neverReportedOutcome, type PostbackJob, type Store } from '../storage/store.ts';
import { buildJobDraft, buildOfferInput } from '../testing/builders.ts';
import { startFakeTracker, type FakeTracker } from '../testing/fake-tracker.ts';
import type { Transport } from './transport.ts';
import { createUndiciTransport } from './undici-transport.ts';
import { createWorker, type SettledOutcome, type WorkerOptions } from './worker.ts';

let tracker: FakeTracker;
let dir: string;
let store: Store;
let clock: ManualClock;
let transport: Transport;
let logger: ReturnType<typeof createMemoryLogger>;
const start = new Date('2026-03-01T10:00:00.000Z');

beforeAll(async () => {
  tracker = await startFakeTracker();
});
afterAll(async () => {
  await tracker.close();
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-worker-'));
  store = createSqliteStore({ path: join(dir, 'ct.db') });
  await store.migrate();
  clock = new ManualClock(start);
  logger = createMemoryLogger();
  transport = createUndiciTransport({ ssrf: { allowPrivate: true } });
  for (const [id, network] of [['tune-main', 'tune'], ['ef', 'everflow']] as const) {
    const offer = parseOffer(buildOfferInput({ id, network, baseUrl: tracker.url }));
    if (!offer.ok) throw new Error(JSON.stringify(offer.reason));
    await store.saveOffer('m1', offer.value, start);
  }
});
afterEach(async () => {
  await transport.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  tracker.clear();
});

function workerWith(overrides: Partial<WorkerOptions> = {}) {
  return createWorker({
    store, transport, clock, logger, schedule: [60_000, 300_000], jitter: 0, batchSize: 10, concurrency: 4,
    timeoutMs: 2_000, workerId: 'w-test', ssrf: { allowPrivate: true }, ...overrides,
  });
}

/**
 * A job to the tracker's `path`, with a secret that must never reach the log. Its offer is the
 * Everflow one (status decides) unless overridden; TUNE tests use 'tune-main'.
 */
function jobTo(path: string, overrides: Partial<PostbackJobDraft> = {}): PostbackJobDraft {
  return buildJobDraft({
    offerId: 'ef',
    url: `${tracker.url}${path}?offer_id=12&transaction_id=102ab0e1c2&amount=12.50&adv_sub=1001&security_token=s3cret`,
    allowHttp: true,
    ...overrides,
  });
}

async function enqueue(...drafts: PostbackJobDraft[]): Promise<PostbackJob[]> {
  await store.enqueue({ jobs: drafts, now: clock.now() });
  return (await store.listJobs({})).toReversed();
}

async function onlyJob(): Promise<PostbackJob> {
  const [job] = await store.listJobs({});
  if (!job) throw new Error('no job');
  return job;
}

describe('delivery worker against a loopback tracker', () => {
  it('TUNE success: sends once, stores a success attempt with the token redacted, calls onSettled', async () => {
    tracker.behave('/tune', { kind: 'tune' });
    await enqueue(jobTo('/tune', { offerId: 'tune-main' }));
    const settled: Array<[string, SettledOutcome]> = [];
    const summary = await workerWith({ onSettled: (job, outcome) => void settled.push([job.id, outcome]) }).runOnce();
    expect(summary).toMatchObject({ claimed: 1, succeeded: 1 });
    const job = await onlyJob();
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, lastOutcome: 'success', lastError: null, lockedBy: null });
    const [attempt] = await store.listAttempts(job.id);
    expect(attempt).toMatchObject({
      attempt: 1, status: 200, outcome: 'success', errorClass: null, responseBody: 'success=true;', startedAt: start,
      requestUrl: `${tracker.url}/tune?offer_id=12&transaction_id=102ab0e1c2&amount=12.50&adv_sub=1001&security_token=[redacted]`,
    });
    expect(attempt?.responseHeaders['content-type']).toMatch(/text\/plain/);
    expect(tracker.requests.map((r) => r.query['security_token'])).toEqual(['s3cret']);
    expect(settled).toEqual([[job.id, expect.objectContaining({ status: 'succeeded', outcome: 'success', final: true })]]);
    expect(JSON.stringify(logger.entries)).not.toContain('s3cret');
  });

  it('TUNE duplicate: delivered (final), logged as duplicate', async () => {
    tracker.behave('/dup', { kind: 'tune', answer: 'duplicate' });
    await enqueue(jobTo('/dup', { offerId: 'tune-main' }));
    expect(await workerWith().runOnce()).toMatchObject({ duplicates: 1 });
    expect(await onlyJob()).toMatchObject({ status: 'succeeded', lastOutcome: expect.stringMatching(/^duplicate: .*Duplicate conversion/) });
  });

  it('TUNE success=false: rejected, final, never retried', async () => {
    tracker.behave('/bad', { kind: 'tune', answer: 'invalid' });
    await enqueue(jobTo('/bad', { offerId: 'tune-main' }));
    const worker = workerWith();
    expect(await worker.runOnce()).toMatchObject({ rejected: 1 });
    expect(await onlyJob()).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/Invalid Trans\. ID/) });
    clock.advance(10 * 86_400_000);
    expect((await worker.runOnce()).claimed).toBe(0);
    expect(tracker.requests).toHaveLength(1);
  });

  it('Everflow: a plain 200 is a success', async () => {
    tracker.behave('/ef', { kind: 'everflow' });
    await enqueue(jobTo('/ef', { offerId: 'ef' }));
    expect(await workerWith().runOnce()).toMatchObject({ succeeded: 1 });
  });

  it('500 then 200: retried on the schedule with the same order ID', async () => {
    tracker.behave('/flaky', { kind: 'flaky' });
    await enqueue(jobTo('/flaky'));
    const worker = workerWith();
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    expect(await onlyJob()).toMatchObject({ status: 'pending', nextAttemptAt: new Date(start.getTime() + 60_000), lastOutcome: 'retry: HTTP 500 (server error)' });
    clock.advance(59_999);
    expect((await worker.runOnce()).claimed).toBe(0);
    clock.advance(1);
    expect(await worker.runOnce()).toMatchObject({ succeeded: 1 });
    const job = await onlyJob();
    expect((await store.listAttempts(job.id)).map((a) => [a.attempt, a.outcome, a.status, a.errorClass])).toEqual([
      [1, 'retry', 500, 'http_5xx'],
      [2, 'success', 200, null],
    ]);
    expect(tracker.requests.map((r) => [r.query['adv_sub'], r.query['transaction_id']])).toEqual([['1001', '102ab0e1c2'], ['1001', '102ab0e1c2']]);
  });

  it('no answer before the timeout: retried, recorded as a timeout', async () => {
    tracker.behave('/hang', { kind: 'timeout' });
    await enqueue(jobTo('/hang'));
    expect(await workerWith({ timeoutMs: 200 }).runOnce()).toMatchObject({ retried: 1 });
    const [attempt] = await store.listAttempts((await onlyJob()).id);
    expect(attempt).toMatchObject({ outcome: 'retry', status: null, errorClass: 'timeout', detail: expect.stringMatching(/^timed out/) });
    expect(attempt?.latencyMs).toBeGreaterThanOrEqual(150);
  });

  it('a slow answer within the timeout is a success', async () => {
    tracker.behave('/slow', { kind: 'slow', delayMs: 120, after: { kind: 'tune' } });
    await enqueue(jobTo('/slow'));
    expect(await workerWith().runOnce()).toMatchObject({ succeeded: 1 });
    expect((await store.listAttempts((await onlyJob()).id))[0]?.latencyMs).toBeGreaterThanOrEqual(100);
  });

  it('a connection reset is retried', async () => {
    tracker.behave('/reset', { kind: 'reset' });
    await enqueue(jobTo('/reset'));
    expect(await workerWith().runOnce()).toMatchObject({ retried: 1 });
    expect((await store.listAttempts((await onlyJob()).id))[0]).toMatchObject({ errorClass: 'reset', outcome: 'retry' });
  });

  it('a redirect is not followed: refused, with the reason naming the private target', async () => {
    tracker.behave('/moved', { kind: 'redirect' });
    await enqueue(jobTo('/moved'));
    expect(await workerWith().runOnce()).toMatchObject({ rejected: 1 });
    const job = await onlyJob();
    expect(job.status).toBe('failed');
    expect(job.lastError).toMatch(/redirect not followed \(Location: http:\/\/169\.254\.169\.254\/latest\/meta-data\/\).*would be refused: 169\.254\.169\.254 is a link-local address/);
    expect((await store.listAttempts(job.id))[0]).toMatchObject({ status: 302, errorClass: 'redirect', responseHeaders: { location: 'http://169.254.169.254/latest/meta-data/' } });
    expect(tracker.requests).toHaveLength(1);
  });

  it('429 with Retry-After: waits at least as long as asked', async () => {
    tracker.behave('/busy', { kind: 'retryAfter', seconds: 600 });
    await enqueue(jobTo('/busy'));
    const worker = workerWith();
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    expect((await onlyJob()).nextAttemptAt).toEqual(new Date(start.getTime() + 600_000));
    clock.advance(300_000);
    expect((await worker.runOnce()).claimed).toBe(0);
    clock.advance(300_000);
    expect(await worker.runOnce()).toMatchObject({ succeeded: 1 });
  });

  it('dead-letters after the schedule; a replay gets a fresh schedule and delivers', async () => {
    tracker.behave('/down', { kind: 'reply', status: 503, body: 'maintenance' });
    await enqueue(jobTo('/down'));
    const settled: SettledOutcome[] = [];
    const worker = workerWith({ onSettled: (_job, o) => void settled.push(o) });
    await worker.runOnce();
    clock.advance(60_000);
    await worker.runOnce();
    clock.advance(300_000);
    expect(await worker.runOnce()).toMatchObject({ dead: 1 });
    let job = await onlyJob();
    expect(job).toMatchObject({ status: 'dead', attempts: 3, lastError: 'HTTP 503 (server error) (gave up after 3 attempts)' });
    expect(settled.map((o) => [o.outcome, o.final])).toEqual([['retry', false], ['retry', false], ['dead', true]]);
    clock.advance(10 * 86_400_000);
    expect((await worker.runOnce()).claimed).toBe(0);

    tracker.behave('/down', { kind: 'tune' });
    expect(await worker.replay({ ids: [job.id] })).toBe(1);
    expect(await worker.runOnce()).toMatchObject({ succeeded: 1 });
    job = await onlyJob();
    expect(job).toMatchObject({ status: 'succeeded', attempts: 4, scheduleAttempts: 1 });
    expect(tracker.requests).toHaveLength(4);
  });

  it('a replayed job that fails again goes through the whole schedule again', async () => {
    tracker.behave('/down', { kind: 'reply', status: 500 });
    await enqueue(jobTo('/down'));
    const worker = workerWith({ schedule: [1_000] });
    await worker.runOnce();
    clock.advance(1_000);
    expect(await worker.runOnce()).toMatchObject({ dead: 1 });
    expect(await worker.replay({ filter: { offerId: 'ef' } })).toBe(1);
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
  });

  it('a reversal waits for its conversion: sent only after the sale succeeded, even when the sale retries', async () => {
    tracker.behave('/flaky', { kind: 'flaky' });
    tracker.behave('/refund', { kind: 'everflow' });
    const sale = jobTo('/flaky');
    await enqueue(sale, jobTo('/refund', { event: 'refund', eventKey: 'refund:1', dependsOn: sale.idempotencyKey }));
    const worker = workerWith();
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    clock.advance(60_000);
    expect(await worker.drain()).toMatchObject({ claimed: 2, succeeded: 2 });
    expect(tracker.requests.map((r) => r.path)).toEqual(['/flaky', '/flaky', '/refund']);
    expect((await store.listJobs({})).map((j) => [j.eventKey, j.status])).toEqual([['refund:1', 'succeeded'], ['sale', 'succeeded']]);
  });

  it('a reversal whose sale was refused is never sent; replaying the sale brings it back, and it goes out after the sale', async () => {
    tracker.behave('/bad', { kind: 'tune', answer: 'invalid' });
    tracker.behave('/refund', { kind: 'everflow' });
    const sale = jobTo('/bad', { offerId: 'tune-main' });
    const [saleJob] = await enqueue(sale, jobTo('/refund', { event: 'refund', eventKey: 'refund:1', dependsOn: sale.idempotencyKey }));
    const worker = workerWith();
    expect(await worker.drain()).toMatchObject({ claimed: 1, rejected: 1 });
    clock.advance(1_000);
    expect(await worker.drain()).toMatchObject({ claimed: 0 });
    const [refund] = await store.listJobs({ status: 'failed', offerId: 'ef' });
    expect(refund).toMatchObject({ eventKey: 'refund:1', lastOutcome: neverReportedOutcome, attempts: 0 });
    expect(tracker.requestsTo('/refund')).toEqual([]);

    tracker.behave('/bad', { kind: 'tune' });
    expect(await worker.replay({ ids: [saleJob?.id ?? ''] })).toBe(2);
    expect(await worker.drain()).toMatchObject({ succeeded: 2 });
    expect(tracker.requests.map((r) => r.path)).toEqual(['/bad', '/bad', '/refund']);
  });

  it.each([
    ['a body that echoes the request', { kind: 'reply', status: 400, body: 'bad request: security_token=s3cret&adv_sub=1001 not accepted' } as const],
    ['a redirect back to the request', { kind: 'redirect', location: '/elsewhere?security_token=s3cret' } as const],
  ])('%s: the token never reaches the postback log, the job or the process log', async (_label, behaviour) => {
    tracker.behave('/echo', behaviour);
    await enqueue(jobTo('/echo'));
    await workerWith().runOnce();
    const job = await onlyJob();
    const [attempt] = await store.listAttempts(job.id);
    // the job keeps its URL, to be sent again; nothing read from the answer keeps the token
    expect(JSON.stringify([job.lastOutcome, job.lastError, attempt, logger.entries])).not.toContain('s3cret');
    expect(JSON.stringify(attempt)).toContain('[redacted]');
  });

  it('SSRF guard on (the default): a loopback target is refused, final, and nothing is sent', async () => {
    const guarded = createUndiciTransport({ ssrf: { allowPrivate: false } });
    try {
      await enqueue(jobTo('/tune'));
      expect(await workerWith({ transport: guarded, ssrf: { allowPrivate: false } }).runOnce()).toMatchObject({ blocked: 1 });
      const job = await onlyJob();
      expect(job).toMatchObject({ status: 'failed', lastError: 'refused by the SSRF guard: target 127.0.0.1 is a loopback address' });
      expect((await store.listAttempts(job.id))[0]).toMatchObject({ outcome: 'blocked', errorClass: 'ssrf', status: null });
      expect(tracker.requests).toEqual([]);
    } finally {
      await guarded.close();
    }
  });

  it('plain http is refused unless the offer allowed it', async () => {
    await enqueue(jobTo('/tune', { allowHttp: false }));
    expect(await workerWith().runOnce()).toMatchObject({ blocked: 1 });
    expect((await onlyJob()).lastError).toMatch(/plain http is not allowed/);
    expect(tracker.requests).toEqual([]);
  });

  it('POSTs when the job says so', async () => {
    await enqueue(jobTo('/p', { method: 'POST' }));
    await workerWith().runOnce();
    expect(tracker.requests[0]?.method).toBe('POST');
  });

  it('a job whose offer is gone is still sent, judged by status alone', async () => {
    tracker.behave('/tune', { kind: 'tune', answer: 'invalid' });
    await enqueue(jobTo('/tune', { offerId: 'deleted-offer' }));
    expect(await workerWith().runOnce()).toMatchObject({ succeeded: 1 });
    expect(logger.entries.some((e) => e.level === 'warn' && /offer not found/.test(e.msg ?? ''))).toBe(true);
  });

  it('reads the answer rules at send time: a fixed offer applies to jobs already queued', async () => {
    tracker.behave('/custom', { kind: 'reply', body: 'STATUS: ALREADY-TRACKED' });
    await enqueue(jobTo('/custom', { offerId: 'custom' }));
    const custom = parseOffer(buildOfferInput({ id: 'custom', network: 'custom', baseUrl: tracker.url, answer: { duplicateBody: 'already-tracked' } }));
    if (!custom.ok) throw new Error('invalid offer');
    await store.saveOffer('m1', custom.value, start);
    expect(await workerWith().runOnce()).toMatchObject({ duplicates: 1 });
  });

  it('sends with bounded concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const counting: Transport = {
      async send(request) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        try {
          return await transport.send(request);
        } finally {
          inFlight -= 1;
        }
      },
      close: () => transport.close(),
    };
    tracker.behave('/slow', { kind: 'slow', delayMs: 40 });
    await enqueue(...Array.from({ length: 10 }, (_, i) => jobTo('/slow', { orderId: `o${i}` })));
    expect(await workerWith({ transport: counting, concurrency: 3 }).runOnce()).toMatchObject({ claimed: 10, succeeded: 10 });
    expect(peak).toBe(3);
  });

  it('an attempt whose lease was lost meanwhile is recorded, and the job left to its new holder', async () => {
    tracker.behave('/slow', { kind: 'slow', delayMs: 200 });
    await enqueue(jobTo('/slow'));
    const worker = workerWith({ leaseMs: 5_000, timeoutMs: 2_000 });
    const running = worker.runOnce();
    await tracker.waitForRequests(1);
    clock.advance(5_000);
    const [stolen] = await store.claimDueJobs({ workerId: 'other', now: clock.now(), limit: 1, leaseUntil: new Date(clock.now().getTime() + 60_000) });
    expect(stolen).toBeDefined();
    expect(await running).toMatchObject({ lostLease: 1, succeeded: 0 });
    const job = await onlyJob();
    expect(job).toMatchObject({ status: 'in_flight', lockedBy: 'other' });
    expect(await store.listAttempts(job.id)).toHaveLength(1);
  });

  it('a failing onSettled hook is logged and changes nothing', async () => {
    await enqueue(jobTo('/tune'));
    await workerWith({ onSettled: () => Promise.reject(new Error('Shopify said no')) }).runOnce();
    expect((await onlyJob()).status).toBe('succeeded');
    expect(logger.entries.find((e) => e.msg === 'onSettled hook failed')?.obj).toMatchObject({ err: expect.any(Error) });
  });

  it('start() polls, wake() sends at once, stop() finishes the batch in flight', async () => {
    tracker.behave('/slow', { kind: 'slow', delayMs: 150 });
    const worker = workerWith({ pollIntervalMs: 60_000 });
    worker.start();
    await enqueue(jobTo('/slow'));
    worker.wake();
    await tracker.waitForRequests(1);
    await worker.stop();
    // stop() waited for the answer and stored it
    expect(await onlyJob()).toMatchObject({ status: 'succeeded' });
    expect(logger.entries.map((e) => e.msg)).toEqual(expect.arrayContaining(['delivery worker started', 'delivery worker stopped']));
  });

  it('drain() claims batch after batch until nothing is due', async () => {
    await enqueue(...Array.from({ length: 25 }, (_, i) => jobTo('/ok', { orderId: `o${i}` })));
    expect(await workerWith({ batchSize: 10, concurrency: 3 }).drain()).toMatchObject({ claimed: 25, succeeded: 25 });
    expect(new Set(tracker.requests.map((r) => r.query['adv_sub'])).size).toBe(1);
    expect(tracker.requests).toHaveLength(25);
  });

  it('stop() releases claimed jobs that were not sent yet: due again at once, their claim uncounted', async () => {
    tracker.behave('/slow', { kind: 'slow', delayMs: 200 });
    await enqueue(...Array.from({ length: 5 }, (_, i) => jobTo('/slow', { orderId: `o${i}` })));
    const worker = workerWith({ batchSize: 5, concurrency: 1, pollIntervalMs: 60_000 });
    worker.start();
    await tracker.waitForRequests(1);
    await worker.stop();
    expect(await store.countJobs()).toMatchObject({ succeeded: 1, pending: 4, in_flight: 0 });
    expect((await store.listJobs({ status: 'pending' })).map((j) => j.attempts)).toEqual([0, 0, 0, 0]);
    expect(tracker.requests).toHaveLength(1);
    expect(logger.entries.find((e) => /released claimed postbacks/.test(e.msg ?? ''))?.obj).toMatchObject({ released: 4 });
  });

  it('a wake() during a drain is not lost: the job enqueued meanwhile goes out without waiting for the poll', async () => {
    tracker.behave('/slow', { kind: 'slow', delayMs: 150 });
    await enqueue(jobTo('/slow', { orderId: 'first' }));
    const worker = workerWith({ pollIntervalMs: 60_000 });
    worker.start();
    await tracker.waitForRequests(1);
    // the drain is busy with the first job: this one misses its claim
    await enqueue(jobTo('/ok', { orderId: 'second' }));
    worker.wake();
    await tracker.waitForRequests(2, 3_000);
    await worker.stop();
    expect(await store.countJobs()).toMatchObject({ succeeded: 2 });
  });

  it('says loudly at start when private targets are allowed', async () => {
    const worker = workerWith({ ssrf: { allowPrivate: true } });
    worker.start();
    await worker.stop();
    expect(logger.entries.find((e) => e.level === 'warn' && /SSRF GUARD RELAXED/.test(e.msg ?? ''))).toBeDefined();
  });

  it.each([
    [{ batchSize: 0 }, /batchSize must be a positive whole number/],
    [{ concurrency: 1.5 }, /concurrency must be a positive whole number/],
    [{ schedule: [] }, /retry schedule is empty/],
    [{ timeoutMs: 10_000, leaseMs: 5_000 }, /leaseMs \(5000\) must be longer than timeoutMs/],
    [{ jitter: 2 }, /jitter must be between 0 and 1/],
  ])('refuses bad settings %o', (overrides, message) => {
    expect(() => workerWith(overrides)).toThrow(ConfigError);
    expect(() => workerWith(overrides)).toThrow(message);
  });
});
