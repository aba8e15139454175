import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildJobDraft } from '@clickthread/core/testing';
import { startApiHarness, t0, type ApiHarness } from '../testing/api-harness.ts';

/**
 * The postback log, dead letters and replay, unattributed orders and the overview, over jobs the
 * real worker delivered to the loopback tracker (one succeeds, one is refused, one goes dead).
 */

const dayMs = 24 * 60 * 60 * 1000;

describe('postback log, dead letters, overview', () => {
  let h: ApiHarness;
  const base = '/api/v1/merchants/shop-a1';
  const get = (path: string, query: Record<string, string> = {}) => request(h.url).get(`${base}${path}`).query(query).set('authorization', `Bearer ${h.tokens.merchantA1}`);
  const post = (path: string, body: object = {}) => request(h.url).post(`${base}${path}`).set('authorization', `Bearer ${h.tokens.merchantA1}`).send(body);

  beforeEach(async () => {
    h = await startApiHarness();
    await h.store.saveOffer('shop-a1', h.offer(), t0);
    await h.store.saveOffer('shop-a1', h.offer({ id: 'other' }), t0);
    await h.store.upsertStore({ id: 's1', merchantId: 'shop-a1', platform: 'shopify', domain: 'a1.myshopify.com', status: 'active', settings: {}, secrets: null, now: t0 });
    h.tracker.behave('/down', { kind: 'reply', status: 503 });
    const draft = (orderId: string, path: string, overrides: Parameters<typeof buildJobDraft>[0] = {}) =>
      buildJobDraft({ merchantId: 'shop-a1', storeId: 's1', orderId, orderNumber: `#${orderId}`, url: `${h.tracker.url}${path}?transaction_id=t${orderId}&security_token=s3cret`, allowHttp: true, ...overrides });
    // two days ago: one success; yesterday: a TUNE refusal; today: one that goes dead; and another merchant's job
    await h.store.enqueue({ jobs: [draft('1001', '/aff_lsr', { idSource: 'note_attribute' })], now: new Date(t0.getTime() - 2 * dayMs) });
    h.tracker.behave('/refuse', { kind: 'tune', answer: 'invalid' });
    await h.store.enqueue({ jobs: [draft('1002', '/refuse', { idSource: 'landing_site', offerId: 'other' })], now: new Date(t0.getTime() - dayMs) });
    await h.store.enqueue({ jobs: [draft('1003', '/down', { idSource: 'cart_token' })], now: t0 });
    await h.store.enqueue({ jobs: [buildJobDraft({ merchantId: 'shop-b1', storeId: 'sb', orderId: '9', url: `${h.tracker.url}/aff_lsr`, allowHttp: true })], now: t0 });
    await h.store.enqueue({ jobs: [], unattributed: { storeId: 's1', orderId: '1004', orderNumber: '#1004', reason: 'no transaction ID found', at: t0 }, now: t0 });
    await h.worker.runOnce();
    h.clock.advance(2000);
    await h.worker.runOnce();
  });
  afterEach(async () => {
    await h.close();
  });

  it('lists postbacks newest first with redacted URLs, ID sources and attempts; never another merchant\'s', async () => {
    const res = await get('/postbacks');
    expect(res.status).toBe(200);
    const rows = res.body.postbacks as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r['orderId'], r['status'], r['idSource'], r['attempts']])).toEqual([
      ['1003', 'dead', 'cart_token', 2],
      ['1002', 'failed', 'landing_site', 1],
      ['1001', 'succeeded', 'note_attribute', 1],
    ]);
    expect(rows[0]?.['url']).toBe(`${h.tracker.url}/down?transaction_id=t1003&security_token=[redacted]`);
    expect(JSON.stringify(res.body)).not.toContain('s3cret');
    expect(res.body.next).toBeNull();
  });

  it.each([
    [{ status: 'dead' }, ['1003']],
    [{ status: 'succeeded' }, ['1001']],
    [{ offer: 'other' }, ['1002']],
    [{ order: '1001' }, ['1001']],
    [{ from: '2026-03-09' }, ['1003', '1002']],
    [{ to: '2026-03-09' }, ['1002', '1001']],
    [{ from: '2026-03-09T00:00:00Z', to: '2026-03-09T23:59:59Z' }, ['1002']],
    [{ store: 'nope' }, []],
  ])('filters by %j', async (query, orders) => {
    const res = await get('/postbacks', query);
    expect(res.status).toBe(200);
    expect(res.body.postbacks.map((r: { orderId: string }) => r.orderId)).toEqual(orders);
  });

  it('pages with limit and before', async () => {
    const first = await get('/postbacks', { limit: '2' });
    expect(first.body.postbacks).toHaveLength(2);
    const second = await get('/postbacks', { limit: '2', before: first.body.next });
    expect(second.body.postbacks.map((r: { orderId: string }) => r.orderId)).toEqual(['1001']);
  });

  it.each([
    ['query.status', { status: 'lost' }],
    ['query.from', { from: 'yesterday' }],
    ['query.to', { to: '2026-13-45' }],
    ['query.limit', { limit: '0' }],
    ['query.limit', { limit: 'many' }],
    ['query.before', { before: 'x1' }],
    ['query.offer', { offer: 'Not An Id' }],
    ['query', { stauts: 'dead' }],
  ])('refuses a bad filter: 400 naming %s', async (path, query) => {
    const res = await get('/postbacks', query);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', issues: [expect.objectContaining({ path })] });
  });

  it('shows one postback with every attempt: redacted request, answer, latency, error class', async () => {
    const [dead] = (await get('/postbacks', { status: 'dead' })).body.postbacks;
    const res = await get(`/postbacks/${dead.id}`);
    expect(res.status).toBe(200);
    expect(res.body.postback.id).toBe(dead.id);
    expect(res.body.attempts).toHaveLength(2);
    expect(res.body.attempts[0]).toMatchObject({ attempt: 1, status: 503, outcome: 'retry', errorClass: 'http_5xx', requestUrl: expect.stringContaining('security_token=[redacted]') });
    expect(res.body.attempts[1]).toMatchObject({ attempt: 2, status: 503 });
  });

  it.each([
    ['params.jobId', '/postbacks/abc'],
    ['params.jobId', '/postbacks/abc/replay'],
  ])('names %s when malformed', async (path, url) => {
    const res = url.endsWith('replay') ? await post(url) : await get(url);
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe(path);
  });

  it("answers 404 for another merchant's postback id under this merchant", async () => {
    const [other] = await h.store.listJobs({ merchantId: 'shop-b1' });
    expect((await get(`/postbacks/${other?.id}`)).status).toBe(404);
    expect((await post(`/postbacks/${other?.id}/replay`)).status).toBe(404);
    expect((await get('/postbacks/999999')).status).toBe(404);
  });

  it('lists dead letters and replays one; the worker then delivers it', async () => {
    const dead = await get('/dead-letters');
    expect(dead.body.postbacks.map((r: { orderId: string }) => r.orderId)).toEqual(['1003']);
    const id = dead.body.postbacks[0].id as string;
    h.tracker.behave('/down', { kind: 'tune' });
    const replay = await post(`/postbacks/${id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ replayed: 1, postback: { id, status: 'pending' } });
    await h.worker.runOnce();
    expect((await get(`/postbacks/${id}`)).body.postback.status).toBe('succeeded');
    const again = await post(`/postbacks/${id}/replay`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_replayable');
  });

  it('replays dead letters by filter, and failed ones when asked', async () => {
    expect((await post('/dead-letters/replay', { offer: 'other' })).body).toEqual({ replayed: 0 });
    expect((await post('/dead-letters/replay', { from: '2026-03-10' })).body).toEqual({ replayed: 1 });
    expect((await post('/dead-letters/replay', { status: 'failed', offer: 'other' })).body).toEqual({ replayed: 1 });
    const statuses = (await get('/postbacks')).body.postbacks.map((r: { status: string }) => r.status);
    expect(statuses).toEqual(['pending', 'pending', 'succeeded']);
    // shop-b1's jobs are never touched
    expect((await h.store.countJobs({ merchantId: 'shop-b1' })).succeeded).toBe(1);
  });

  it.each([
    ['body.status', { status: 'succeeded' }],
    ['body.from', { from: 'last week' }],
    ['body', { ids: ['1'] }],
  ])('refuses a bad replay filter: 400 naming %s', async (path, body) => {
    const res = await post('/dead-letters/replay', body);
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe(path);
  });

  it('lists unattributed orders with why', async () => {
    const res = await get('/unattributed');
    expect(res.body.orders).toEqual([{ storeId: 's1', orderId: '1004', orderNumber: '#1004', reason: 'no transaction ID found', at: t0.toISOString() }]);
  });

  it("lists write-backs the stores did not take, waiting or given up; never another merchant's", async () => {
    await h.store.upsertStore({ id: 'sb', merchantId: 'shop-b1', platform: 'woocommerce', domain: 'b1.example', status: 'active', settings: {}, secrets: null, now: t0 });
    const jobs = await h.store.listJobs({});
    const byOrder = (orderId: string) => jobs.find((j) => j.orderId === orderId)?.id ?? '';
    const sent = { status: 'succeeded', outcome: 'success', reason: 'success=true;' } as const;
    const later = new Date(t0.getTime() + 300_000);
    await h.store.deferWriteBack({ jobId: byOrder('1001'), storeId: 's1', platform: 'shopify', step: null, outcome: sent, attempts: 2, dueAt: later, error: 'GraphQL Admin API 502 Bad Gateway', now: t0 });
    await h.store.deferWriteBack({ jobId: byOrder('1003'), storeId: 's1', platform: 'shopify', step: null, outcome: sent, attempts: 1, dueAt: t0, error: 'x', now: t0 });
    await h.store.abandonWriteBack({ jobId: byOrder('1003'), error: 'tagsAdd id: Order does not exist', now: new Date(t0.getTime() + 1_000) });
    await h.store.deferWriteBack({ jobId: byOrder('9'), storeId: 'sb', platform: 'woocommerce', step: 'meta', outcome: sent, attempts: 1, dueAt: later, error: 'HTTP 503', now: t0 });

    const all = await get('/write-backs');
    expect(all.status).toBe(200);
    expect(all.body.writeBacks).toEqual([
      { postbackId: byOrder('1003'), storeId: 's1', platform: 'shopify', status: 'dead', outcome: sent, attempts: 1, step: null, nextTryAt: null, lastError: 'tagsAdd id: Order does not exist', updatedAt: new Date(t0.getTime() + 1_000).toISOString() },
      { postbackId: byOrder('1001'), storeId: 's1', platform: 'shopify', status: 'pending', outcome: sent, attempts: 2, step: null, nextTryAt: later.toISOString(), lastError: 'GraphQL Admin API 502 Bad Gateway', updatedAt: t0.toISOString() },
    ]);
    expect((await get('/write-backs', { status: 'dead' })).body.writeBacks.map((w: { postbackId: string }) => w.postbackId)).toEqual([byOrder('1003')]);
    expect((await get('/write-backs', { store: 'sb' })).body.writeBacks).toEqual([]);
    expect((await get('/write-backs', { status: 'lost' })).status).toBe(400);
  });

  it('sums up the window: reported, success rate, dead letters, unattributed, a series per day', async () => {
    const res = await get('/overview', { days: '3' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      days: 3,
      conversionsReported: 1,
      failed: 1,
      pending: 0,
      deadLetters: 1,
      successRate: 1 / 3,
      unattributed: { count: 1, byReason: [{ reason: 'no transaction ID found', count: 1 }] },
    });
    // counted by the Store per day and status, so there is no cap to report
    expect(res.body).not.toHaveProperty('truncated');
    expect(res.body.series).toEqual([
      { date: '2026-03-08', succeeded: 1, failed: 0, dead: 0, pending: 0 },
      { date: '2026-03-09', succeeded: 0, failed: 1, dead: 0, pending: 0 },
      { date: '2026-03-10', succeeded: 0, failed: 0, dead: 1, pending: 0 },
    ]);
    const narrow = await get('/overview', { days: '1' });
    expect(narrow.body.conversionsReported).toBe(0);
    expect(narrow.body.series).toHaveLength(1);
  });

  it('counts every job of the window from the per-day aggregate, never by reading the jobs', async () => {
    // more jobs than the old scan's 50,000 would be slow to build here: what matters is that no job is read
    const listJobs = vi.spyOn(h.store, 'listJobs');
    const countJobsByDay = vi.spyOn(h.store, 'countJobsByDay');
    await h.store.enqueue({
      jobs: Array.from({ length: 300 }, (_, i) => buildJobDraft({ merchantId: 'shop-a1', storeId: 's1', orderId: `bulk-${i}`, url: `${h.tracker.url}/later`, allowHttp: true })),
      now: h.clock.now(),
    });
    const res = await get('/overview', { days: '3' });
    expect(res.status).toBe(200);
    expect(listJobs).not.toHaveBeenCalled();
    expect(countJobsByDay).toHaveBeenCalledTimes(1);
    expect(countJobsByDay.mock.calls[0]?.[0]).toEqual({ merchantId: 'shop-a1', from: new Date('2026-03-08T00:00:00.000Z'), to: new Date('2026-03-11T00:00:00.000Z') });
    expect(res.body).toMatchObject({ pending: 300, conversionsReported: 1, failed: 1 });
    expect(res.body.series.at(-1)).toEqual({ date: '2026-03-10', succeeded: 0, failed: 0, dead: 1, pending: 300 });
  });

  it.each([['0'], ['91'], ['two']])('refuses days=%s naming query.days', async (days) => {
    const res = await get('/overview', { days });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe('query.days');
  });
});
