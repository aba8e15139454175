import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../testing/api-harness.ts';

/** Offers through the real router: CRUD, enable/disable, import/export, audit, preview, test-fire. */

describe('offer routes', () => {
  let h: ApiHarness;
  const base = '/api/v1/merchants/shop-a1';
  const api = () => request(h.url);
  const auth = () => `Bearer ${h.tokens.agencyA}`;

  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('creates, reads, replaces, disables, enables and deletes an offer, auditing each change', async () => {
    const offer = h.offer();
    const created = await api().post(`${base}/offers`).set('authorization', auth()).send(offer);
    expect(created.status).toBe(201);
    expect(created.body.offer).toEqual(offer);

    expect((await api().get(`${base}/offers`).set('authorization', auth())).body).toEqual({ offers: [offer] });
    expect((await api().get(`${base}/offers/tune-main`).set('authorization', auth())).body).toEqual({ offer });

    const renamed = { ...offer, name: 'Renamed' };
    const put = await api().put(`${base}/offers/tune-main`).set('authorization', auth()).send(renamed);
    expect(put.status).toBe(200);
    expect(put.body.offer.name).toBe('Renamed');

    h.clock.advance(60_000);
    const disabled = await api().post(`${base}/offers/tune-main/disable`).set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(disabled.status).toBe(200);
    expect(disabled.body.offer.enabled).toBe(false);
    expect((await api().post(`${base}/offers/tune-main/disable`).set('authorization', auth())).body.offer.enabled).toBe(false);
    expect((await api().post(`${base}/offers/tune-main/enable`).set('authorization', auth())).body.offer.enabled).toBe(true);

    expect((await api().delete(`${base}/offers/tune-main`).set('authorization', auth())).status).toBe(204);
    expect((await api().get(`${base}/offers/tune-main`).set('authorization', auth())).status).toBe(404);

    const audit = await api().get(`${base}/offers/tune-main/audit`).set('authorization', auth());
    expect(audit.status).toBe(200);
    const entries = audit.body.entries as Array<{ action: string; actor: string; at: string; before: unknown; after: unknown }>;
    const agencyActor = `token:${h.tokens.agencyA.slice(3, 13)}`;
    const merchantActor = `token:${h.tokens.merchantA1.slice(3, 13)}`;
    // newest first; the repeated disable changed nothing and left no entry
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['delete', agencyActor],
      ['enable', agencyActor],
      ['disable', merchantActor],
      ['update', agencyActor],
      ['create', agencyActor],
    ]);
    expect(entries[2]?.at).toBe('2026-03-10T12:01:00.000Z');
    expect(entries[3]?.before).toMatchObject({ name: 'TUNE main offer' });
    expect(entries[3]?.after).toMatchObject({ name: 'Renamed' });
    expect(entries[0]?.after).toBeNull();
    expect(entries[4]?.before).toBeNull();
    expect((await api().get(`${base}/audit`).query({ limit: '2' }).set('authorization', auth())).body.entries).toHaveLength(2);
  });

  it('refuses to create an offer twice (409) and to replace a missing one (404)', async () => {
    const offer = h.offer();
    expect((await api().post(`${base}/offers`).set('authorization', auth()).send(offer)).status).toBe(201);
    const again = await api().post(`${base}/offers`).set('authorization', auth()).send(offer);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    expect((await api().put(`${base}/offers/nope`).set('authorization', auth()).send({ ...offer, id: 'nope' })).status).toBe(404);
  });

  it.each([
    ['no id', 'id', (o: Record<string, unknown>) => ({ ...o, id: undefined })],
    ['a bad id', 'id', (o: Record<string, unknown>) => ({ ...o, id: 'Has Spaces' })],
    ['an unknown network', 'network', (o: Record<string, unknown>) => ({ ...o, network: 'nope' })],
    ['an unknown field', '(offer)', (o: Record<string, unknown>) => ({ ...o, colour: 'red' })],
    ['no postbacks', 'postbacks', (o: Record<string, unknown>) => ({ ...o, postbacks: {} })],
    ['an http URL without allowHttp', 'postbacks.sale.url', (o: Record<string, unknown>) => ({ ...o, allowHttp: false })],
    ['an unknown macro', 'postbacks.sale.url', (o: Record<string, unknown>) => ({ ...o, postbacks: { sale: { url: 'https://t.example/p?x={nope}' } } })],
    ['a window of 0 days', 'attribution.windowDays', (o: Record<string, unknown>) => ({ ...o, attribution: { windowDays: 0 } })],
    ['a bad answer pattern', 'answer.successBody', (o: Record<string, unknown>) => ({ ...o, answer: { successBody: '(' } })],
  ])('refuses an offer with %s: 400 naming %s', async (_, path, mutate) => {
    const res = await api().post(`${base}/offers`).set('authorization', auth()).send(mutate({ ...h.offer() }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_offer');
    expect(res.body.error.issues).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
    expect(await h.store.listOffers('shop-a1')).toEqual([]);
  });

  it('refuses a PUT whose body names another offer', async () => {
    await h.store.saveOffer('shop-a1', h.offer(), h.clock.now());
    const res = await api().put(`${base}/offers/tune-main`).set('authorization', auth()).send({ ...h.offer(), id: 'other' });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: 'id', message: 'must be the offer id in the URL (tune-main)' }]);
  });

  it.each([
    ['params.offerId', `${base}/offers/Bad%20Id`],
    ['params.merchantId', '/api/v1/merchants/-bad/offers'],
  ])('names %s when a path parameter is malformed', async (path, url) => {
    const res = await api().get(url).set('authorization', auth());
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual([path]);
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await api().post(`${base}/offers`).set('authorization', auth()).set('content-type', 'application/json').send('{"id": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('exports offers and imports them back (array or {offers}); a dry run saves nothing', async () => {
    const one = h.offer();
    const two = h.offer({ id: 'everflow-1', name: 'Everflow', network: 'everflow' });
    const dry = await api().post(`${base}/import/offers`).query({ dryRun: 'true' }).set('authorization', auth()).send([one, two]);
    expect(dry.body).toEqual({ dryRun: true, created: ['tune-main', 'everflow-1'], updated: [], unchanged: [] });
    expect(await h.store.listOffers('shop-a1')).toEqual([]);

    const imported = await api().post(`${base}/import/offers`).set('authorization', auth()).send({ offers: [one, two] });
    expect(imported.status).toBe(200);
    expect(imported.body).toEqual({ dryRun: false, created: ['tune-main', 'everflow-1'], updated: [], unchanged: [] });

    const exported = await api().get(`${base}/export/offers`).set('authorization', auth());
    expect(exported.body.offers.map((o: { id: string }) => o.id).toSorted()).toEqual(['everflow-1', 'tune-main']);

    const single = await api().post(`${base}/import/offers`).set('authorization', auth()).send(two);
    expect(single.body).toEqual({ dryRun: false, created: [], updated: [], unchanged: ['everflow-1'] });

    const again = await api().post(`${base}/import/offers`).set('authorization', auth()).send({ offers: [{ ...one, name: 'Changed' }, two] });
    expect(again.body).toEqual({ dryRun: false, created: [], updated: ['tune-main'], unchanged: ['everflow-1'] });
    const audit = await h.access.listAudit({ merchantId: 'shop-a1' });
    expect(audit.map((e) => [e.offerId, e.action])).toEqual([['tune-main', 'import'], ['everflow-1', 'import'], ['tune-main', 'import']]);
  });

  it.each([
    ['a bad offer in the list', { offers: [{}, { network: 'tune' }] }, ['offers.0.id', 'offers.1.id']],
    ['the same id twice', { offers: [{ id: 'x' }, { id: 'x' }] }, ['offers.0.name']],
    ['offers that are not a list', { offers: 'all of them' }, ['offers']],
    ['a single offer that is invalid', { id: 'solo' }, ['name', 'postbacks']],
    ['a bare array with a bad offer', [{ id: 'ok-id' }], ['0.name']],
  ])('refuses an import with %s and saves nothing', async (_, body, paths) => {
    await h.store.saveOffer('shop-a1', h.offer(), h.clock.now());
    const res = await api().post(`${base}/import/offers`).set('authorization', auth()).send(body);
    expect(res.status).toBe(400);
    const issuePaths = res.body.error.issues.map((i: { path: string }) => i.path);
    for (const p of paths) expect(issuePaths).toContain(p);
    expect(await h.store.listOffers('shop-a1')).toEqual([h.offer()]);
  });

  it('reports a duplicated id within one import', async () => {
    const offer = h.offer();
    const res = await api().post(`${base}/import/offers`).set('authorization', auth()).send([offer, offer]);
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: '1.id', message: 'offer tune-main appears twice in the import' }]);
  });

  it('refuses import query typos by name', async () => {
    const res = await api().post(`${base}/import/offers`).query({ dryrun: 'true' }).set('authorization', auth()).send([]);
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe('query');
  });
});

describe('presets and preview', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('lists the network presets with the sample order', async () => {
    const res = await request(h.url).get('/api/v1/presets').set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(res.status).toBe(200);
    const tune = res.body.presets.find((p: { id: string }) => p.id === 'tune');
    expect(tune.postbacks.sale).toContain('go2cloud.org/aff_lsr');
    expect(res.body.events).toEqual(['sale', 'lead', 'first_order', 'refund', 'cancel']);
    expect(res.body.sample.transaction_id).toBe('102a+f3 9c');
  });

  it('renders a valid draft with every value encoded on its own', async () => {
    const res = await request(h.url).post('/api/v1/preview').set('authorization', `Bearer ${h.tokens.merchantA1}`).send({ offer: h.offer() });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(true);
    expect(res.body.issues).toEqual([]);
    const [sale] = res.body.previews;
    expect(sale.event).toBe('sale');
    expect(sale.url).toBe(`${h.tracker.url}/aff_lsr?offer_id=12&transaction_id=102a%2Bf3%209c&amount=49.90&adv_sub=1001&security_token=s3cret`);
    expect(sale.substitutions).toContainEqual({ macro: 'transaction_id', raw: '102a+f3 9c', encoded: '102a%2Bf3%209c' });
  });

  it('still previews the templates of a draft with other problems, and names the problems', async () => {
    const draft = { id: 'x', network: 'tune', postbacks: { sale: { url: 'https://t.example/p?id={transaction_id}' }, refund: { url: 'https://t.example/r?id={oops}' } } };
    const res = await request(h.url).post('/api/v1/preview').set('authorization', `Bearer ${h.tokens.merchantA1}`).send({ offer: draft, sample: { transaction_id: 'a&b' } });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    
    expect(res.body.previews[0]).toMatchObject({ event: 'sale', ok: true, url: 'https://t.example/p?id=a%26b' });
    expect(res.body.previews[1]).toMatchObject({ event: 'refund', ok: false, problems: [expect.stringContaining('unknown macro {oops}')] });
  });

  it.each([
    ['no offer', 'body.offer', {}],
    ['an offer that is not an object', 'body.offer', { offer: 'x' }],
    ['a sample value that is not a string', 'body.sample.amount', { offer: {}, sample: { amount: 5 } }],
    ['an unknown field', 'body', { offer: {}, extra: true }],
  ])('refuses %s: 400 naming %s', async (_, path, body) => {
    const res = await request(h.url).post('/api/v1/preview').set('authorization', `Bearer ${h.tokens.merchantA1}`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
  });
});

describe('test-fire', () => {
  let h: ApiHarness;
  const url = '/api/v1/merchants/shop-a1/offers/tune-main/test-fire';
  beforeEach(async () => {
    h = await startApiHarness();
    await h.store.saveOffer('shop-a1', h.offer(), h.clock.now());
  });
  afterEach(async () => {
    await h.close();
  });

  it('sends the rendered postback now and answers with the redacted request and the classified answer', async () => {
    const res = await request(h.url).post(url).set('authorization', `Bearer ${h.tokens.merchantA1}`).send({ values: { transaction_id: 'abc+1' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      request: { method: 'GET', url: `${h.tracker.url}/aff_lsr?offer_id=12&transaction_id=abc%2B1&amount=49.90&adv_sub=1001&security_token=[redacted]` },
      response: { status: 200, body: 'success=true;' },
      outcome: 'success',
    });
    const [received] = h.tracker.requestsTo('/aff_lsr');
    expect(received?.query['transaction_id']).toBe('abc+1');
    expect(received?.query['security_token']).toBe('s3cret');
    expect(JSON.stringify(h.logger.entries)).not.toContain('s3cret');
  });

  it('classifies a TUNE refusal that came with HTTP 200', async () => {
    h.tracker.behave('/aff_lsr', { kind: 'tune', answer: 'invalid' });
    const res = await request(h.url).post(url).set('authorization', `Bearer ${h.tokens.merchantA1}`).send({});
    expect(res.body.outcome).toBe('rejected');
    expect(res.body.response.status).toBe(200);
  });

  it('reports a target the SSRF guard refuses', async () => {
    await h.store.saveOffer('shop-a1', h.offer({ id: 'meta', baseUrl: 'http://169.254.169.254' }), h.clock.now());
    const res = await request(h.url).post('/api/v1/merchants/shop-a1/offers/meta/test-fire').set('authorization', `Bearer ${h.tokens.merchantA1}`).send({});
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('blocked');
    expect(res.body.response).toBeNull();
  });

  it('queues a test postback through the outbox, delivered by the worker into the log', async () => {
    const res = await request(h.url).post(url).set('authorization', `Bearer ${h.tokens.merchantA1}`).send({ via: 'outbox' });
    expect(res.status).toBe(202);
    expect(res.body.postback).toMatchObject({ status: 'pending', idSource: 'manual', test: true, offerId: 'tune-main' });
    await h.worker.runOnce();
    const log = await request(h.url).get('/api/v1/merchants/shop-a1/postbacks').set('authorization', `Bearer ${h.tokens.merchantA1}`);
    expect(log.body.postbacks[0]).toMatchObject({ id: res.body.postback.id, status: 'succeeded', lastOutcome: expect.stringContaining('success') });
  });

  it('refuses a store that is not the merchant\'s (404) and stores nothing under it', async () => {
    const t = h.clock.now();
    await h.store.upsertStore({ id: 'store-a1', merchantId: 'shop-a1', platform: 'woocommerce', domain: 'a1.example', status: 'active', settings: {}, secrets: null, now: t });
    await h.store.upsertStore({ id: 'store-b1', merchantId: 'shop-b1', platform: 'woocommerce', domain: 'b1.example', status: 'active', settings: {}, secrets: null, now: t });
    for (const storeId of ['store-b1', 'no-such-store']) {
      for (const via of ['direct', 'outbox']) {
        const res = await request(h.url).post(url).set('authorization', `Bearer ${h.tokens.merchantA1}`).send({ storeId, via });
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
    }
    expect(await h.store.listJobs({ storeId: 'store-b1' })).toEqual([]);
    expect(h.tracker.requests).toEqual([]);

    const own = await request(h.url).post(url).set('authorization', `Bearer ${h.tokens.merchantA1}`).send({ storeId: 'store-a1', via: 'outbox' });
    expect(own.status).toBe(202);
    expect(own.body.postback).toMatchObject({ storeId: 'store-a1' });
  });

  it('answers 501 without a transport', async () => {
    await h.close();
    h = await startApiHarness({ router: { transport: undefined } });
    await h.store.saveOffer('shop-a1', h.offer(), h.clock.now());
    const res = await request(h.url).post(url).set('authorization', `Bearer ${h.tokens.merchantA1}`).send({});
    expect(res.status).toBe(501);
    expect(res.body.error.code).toBe('test_fire_unavailable');
  });

  it.each([
    ['an event the offer has no postback for', 'body.event', { event: 'refund' }],
    ['an unknown event', 'body.event', { event: 'purchase' }],
    ['a bad macro name', 'body.values.Bad Name', { values: { 'Bad Name': 'x' } }],
    ['an unknown mode', 'body.via', { via: 'carrier-pigeon' }],
  ])('refuses %s: 400 naming %s', async (_, path, body) => {
    const res = await request(h.url).post(url).set('authorization', `Bearer ${h.tokens.merchantA1}`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(h.tracker.requests).toEqual([]);
  });
});
