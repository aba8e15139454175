import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTracker, type FakeTracker } from './fake-tracker.ts';

let tracker: FakeTracker;
beforeEach(async () => {
  tracker = await startFakeTracker();
});
afterEach(async () => {
  await tracker.close();
});

async function get(path: string, init: { signal?: AbortSignal } = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${tracker.url}${path}`, { redirect: 'manual', ...init });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('fake tracker', () => {
  it('records method, path, raw target, decoded query and headers', async () => {
    await get('/aff_lsr?transaction_id=abc%2B1&amount=12.50');
    expect(tracker.requests).toHaveLength(1);
    expect(tracker.requests[0]).toMatchObject({
      method: 'GET',
      path: '/aff_lsr',
      target: '/aff_lsr?transaction_id=abc%2B1&amount=12.50',
      query: { transaction_id: 'abc+1', amount: '12.50' },
      pathIndex: 0,
    });
    expect(tracker.requests[0]?.headers['host']).toBe(`127.0.0.1:${tracker.port}`);
  });

  it.each([
    [{ kind: 'tune' } as const, 200, 'success=true;'],
    [{ kind: 'tune', answer: 'duplicate' } as const, 200, 'success=false; err_msg=Duplicate conversion;'],
    [{ kind: 'tune', answer: 'invalid' } as const, 200, 'success=false; err_msg=Invalid Trans. ID #102ab0e1c2;'],
    [{ kind: 'everflow' } as const, 200, '{"result":"ok"}'],
    [{ kind: 'reply', status: 404, body: 'nope' } as const, 404, 'nope'],
  ])('answers %o with %i %s', async (behaviour, status, body) => {
    tracker.behave('/p', behaviour);
    await expect(get('/p')).resolves.toMatchObject({ status, body });
  });

  it('flaky: 500 then 200, counted per path', async () => {
    tracker.behave('/flaky', { kind: 'flaky' });
    expect((await get('/flaky')).status).toBe(500);
    expect((await get('/flaky')).status).toBe(200);
    expect(tracker.requestsTo('/flaky').map((r) => r.pathIndex)).toEqual([0, 1]);
  });

  it('retryAfter: 429 with Retry-After, then 200', async () => {
    tracker.behave('/busy', { kind: 'retryAfter', seconds: 7 });
    const first = await get('/busy');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await get('/busy')).status).toBe(200);
  });

  it('redirect: 302 to the metadata address by default', async () => {
    tracker.behave('/r', { kind: 'redirect' });
    const res = await get('/r');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/');
  });

  it('sequence: the n-th request gets the n-th step, the last repeats', async () => {
    tracker.behave('/s', { kind: 'sequence', steps: [{ kind: 'reply', status: 503 }, { kind: 'tune' }] });
    expect((await get('/s')).status).toBe(503);
    expect((await get('/s')).body).toBe('success=true;');
    expect((await get('/s')).body).toBe('success=true;');
  });

  it('slow answers after the delay', async () => {
    tracker.behave('/slow', { kind: 'slow', delayMs: 50, after: { kind: 'tune' } });
    const started = performance.now();
    expect((await get('/slow')).body).toBe('success=true;');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('timeout never answers; the client gives up', async () => {
    tracker.behave('/t', { kind: 'timeout' });
    await expect(get('/t', { signal: AbortSignal.timeout(100) })).rejects.toThrow(/aborted|timeout/i);
    expect(tracker.requestsTo('/t')).toHaveLength(1);
  });

  it('reset destroys the connection', async () => {
    tracker.behave('/x', { kind: 'reset' });
    const error = await new Promise<Error>((resolve) => {
      request(`${tracker.url}/x`, (res) => res.resume()).on('error', resolve).end();
    });
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
  });

  it('waitForRequests resolves once enough requests arrived and rejects after its timeout', async () => {
    const waiting = tracker.waitForRequests(2);
    await get('/a');
    await get('/b');
    await expect(waiting).resolves.toHaveLength(2);
    await expect(tracker.waitForRequests(3, 20)).rejects.toThrow(/expected 3 requests/);
  });

  it('close() ends held connections', async () => {
    tracker.behave('/t', { kind: 'timeout' });
    const pending = get('/t').catch((error: unknown) => error);
    await tracker.waitForRequests(1);
    await tracker.close();
    expect(await pending).toBeInstanceOf(Error);
    tracker = await startFakeTracker(); // afterEach closes this one
  });
});
