import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseOffer } from '../offers/offer-schema.ts';
import { createSqliteStore } from '../storage/sqlite-store.ts';
import type { Store } from '../storage/store.ts';
import { buildJobDraft, buildOfferInput } from '../testing/builders.ts';
import { startFakeTracker, type FakeTracker } from '../testing/fake-tracker.ts';

/** The CLI as users run it: `node core/bin/clickthread.js …` in a child process, on a temp SQLite file. */

const bin = resolve(import.meta.dirname, '../../bin/clickthread.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let dataDir: string;
let tracker: FakeTracker;

function run(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env['PATH'] ?? '', CLICKTHREAD_DATA_DIR: dataDir, CLICKTHREAD_LOG_LEVEL: 'warn', ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        done({ code, stdout, stderr });
      },
    );
  });
}

function writeJson(name: string, data: unknown): string {
  const path = join(dataDir, name);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data, null, 2));
  return path;
}

/** Opens the CLI's database from the test (another process, as the apps would). */
async function withDb<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = createSqliteStore({ path: join(dataDir, 'clickthread.db') });
  try {
    await store.migrate();
    return await work(store);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  tracker = await startFakeTracker();
});
afterAll(async () => {
  await tracker.close();
});
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'ct-cli-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
  tracker.clear();
});

// each test spawns the CLI several times (~0.5 s each on a busy machine)
describe('clickthread CLI', { timeout: 60_000 }, () => {
  it('reports every configuration problem at once (exit 2)', async () => {
    const r = await run(['log'], { DATABASE_URL: 'mysql://db/x', CLICKTHREAD_ALLOW_PRIVATE_TARGETS: 'maybe' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(r.stderr).toContain('CLICKTHREAD_ALLOW_PRIVATE_TARGETS: must be 1/0, true/false, yes/no or on/off');
  });

  it('offers add / list / export, for the default merchant created on first use', async () => {
    const file = writeJson('offer.json', buildOfferInput({ id: 'tune-main', baseUrl: 'https://net.go2cloud.org' }));
    expect(await run(['offers', 'add', file])).toMatchObject({ code: 0, stdout: 'saved offer "tune-main" (tune) for merchant "default"\n' });
    const again = await run(['offers', 'add', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('offer "tune-main" already exists for merchant "default" (use --replace to overwrite it)');
    expect((await run(['offers', 'add', file, '--replace'])).code).toBe(0);
    const list = await run(['offers', 'list']);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+NETWORK\s+ENABLED\s+EVENTS\s+STORES\s+NAME$/);
    expect(list.stdout).toMatch(/tune-main\s+tune\s+yes\s+sale\s+all\s+TUNE main offer/);
    const exported = await run(['offers', 'export']);
    expect(JSON.parse(exported.stdout)).toMatchObject({ offers: [{ id: 'tune-main', network: 'tune' }] });
    const unknown = await run(['offers', 'list', '--merchant', 'nobody']);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('merchant "nobody" does not exist') });
  });

  it('offers add names the file, the JSON path and the problem, every problem at once', async () => {
    const file = writeJson('bad.json', { ...buildOfferInput(), network: 'nope', attribution: { windowDays: 0 }, surprise: 1 });
    const r = await run(['offers', 'add', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: network: `);
    expect(r.stderr).toContain(`${file}: attribution.windowDays: `);
    expect(r.stderr).toMatch(/bad\.json: \(offer\): .*surprise/);
    expect((await run(['offers', 'list', '--json'])).stdout.trim()).toBe('[]');
  });

  it('offers import is all or nothing, and shows progress', async () => {
    const bad = writeJson('bad.json', [buildOfferInput({ id: 'a' }), { ...buildOfferInput({ id: 'b' }), postbacks: { sale: { url: 'ftp://x' } } }, buildOfferInput({ id: 'a' })]);
    const r = await run(['offers', 'import', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('2 problems, nothing imported:');
    expect(r.stderr).toContain(`${bad}: [1].postbacks.sale.url: `);
    expect(r.stderr).toContain(`${bad}: [2].id: duplicate offer id "a" (also at [0])`);
    expect((await run(['offers', 'list', '--json'])).stdout.trim()).toBe('[]');

    const notJson = writeJson('broken.json', '{"offers": [');
    expect(await run(['offers', 'import', notJson])).toMatchObject({ code: 1, stderr: expect.stringContaining(`${notJson}: not valid JSON: `) });
    expect(await run(['offers', 'import', join(dataDir, 'missing.json')])).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot read the file (ENOENT)') });

    const many = writeJson('many.json', { offers: Array.from({ length: 25 }, (_, i) => buildOfferInput({ id: `offer-${i}` })) });
    const ok = await run(['offers', 'import', many]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('imported 25 offers for merchant "default"\n');
    expect(ok.stderr).toContain('importing offers: 3/25');
    expect(ok.stderr).toContain('importing offers: 25/25');
    expect(JSON.parse((await run(['offers', 'list', '--json'])).stdout)).toHaveLength(25);
    const clash = await run(['offers', 'import', many]);
    expect(clash).toMatchObject({ code: 1, stderr: expect.stringContaining('already exist for merchant "default", nothing imported (use --replace)') });
    expect((await run(['offers', 'import', many, '--replace'])).code).toBe(0);

    // what export writes, import takes back
    const out = join(dataDir, 'export.json');
    await run(['offers', 'export', '--out', out]);
    const other = mkdtempSync(join(tmpdir(), 'ct-cli-'));
    try {
      expect((await run(['offers', 'import', out], { CLICKTHREAD_DATA_DIR: other })).code).toBe(0);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    expect(JSON.parse(readFileSync(out, 'utf8')).offers).toHaveLength(25);
  });

  it('test-fire renders the sample order, sends it now and prints the request and the classified answer', async () => {
    tracker.behave('/aff_lsr', { kind: 'tune' });
    await run(['offers', 'add', writeJson('o.json', buildOfferInput({ id: 'tune-main', baseUrl: tracker.url, enabled: false }))]);
    const r = await run(['test-fire', 'tune-main', '--order', 'sample', '--transaction-id', 'abc+1', '--order-id', 'T-1'], { CLICKTHREAD_ALLOW_PRIVATE_TARGETS: '1' });
    expect(r.stderr).toContain('CLICKTHREAD_ALLOW_PRIVATE_TARGETS is on');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`request:  GET ${tracker.url}/aff_lsr?offer_id=12&transaction_id=abc%2B1&amount=49.90&adv_sub=T-1&security_token=[redacted]`);
    expect(r.stdout).toMatch(/answer: {3}HTTP 200 in \d+ ms/);
    expect(r.stdout).toContain('body:     success=true;');
    expect(r.stdout).toContain('outcome:  success: HTTP 200');
    expect(tracker.requests[0]?.query).toMatchObject({ transaction_id: 'abc+1', adv_sub: 'T-1', security_token: 's3cret' });
  });

  it('test-fire exits 1 with the reason when the network refuses or the guard blocks', async () => {
    tracker.behave('/aff_lsr', { kind: 'tune', answer: 'invalid' });
    await run(['offers', 'add', writeJson('o.json', buildOfferInput({ id: 'tune-main', baseUrl: tracker.url }))]);
    const refused = await run(['test-fire', 'tune-main'], { CLICKTHREAD_ALLOW_PRIVATE_TARGETS: '1' });
    expect(refused).toMatchObject({ code: 1, stdout: expect.stringMatching(/outcome: {2}rejected: .*Invalid Trans\. ID/) });
    const blocked = await run(['test-fire', 'tune-main']);
    expect(blocked).toMatchObject({ code: 1, stdout: expect.stringContaining('outcome:  blocked: refused by the SSRF guard: target 127.0.0.1 is a loopback address') });
    expect(tracker.requests).toHaveLength(1);
    const spaced = await run(['test-fire', 'tune-main', '--transaction-id', 'a b']);
    expect(spaced).toMatchObject({ code: 1, stderr: expect.stringContaining('the sale postback was not rendered\nmanual: ID refused (contains whitespace') });
    const bad = await run(['test-fire', 'tune-main', '--event', 'refund', '--amount', '1,00', '--order', '1234']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--order: "1234" is not supported');
    expect(bad.stderr).toContain('--amount: amount "1,00" is not a decimal number with a dot');
    expect(await run(['test-fire', 'nope'])).toMatchObject({ code: 1, stderr: expect.stringContaining('offer "nope" not found for merchant "default"') });
  });

  it('log, dead-letters and replay (one id, or by filter with progress)', async () => {
    const now = new Date();
    const ids = await withDb(async (store) => {
      await store.enqueue({
        jobs: [
          ...Array.from({ length: 12 }, (_, i) => buildJobDraft({ orderId: `o${i}`, offerId: i < 10 ? 'x' : 'y', url: 'https://net.example/pb?transaction_id=t&security_token=s3cret' })),
          buildJobDraft({ orderId: 'ok', offerId: 'x' }),
        ],
        now,
      });
      const claimed = await store.claimDueJobs({ workerId: 'w', now, limit: 100, leaseUntil: new Date(now.getTime() + 60_000) });
      await store.settleJobs(
        claimed.map((j) => ({
          jobId: j.id, workerId: 'w', now,
          next: { status: j.orderId === 'ok' ? ('succeeded' as const) : ('dead' as const) },
          outcome: j.orderId === 'ok' ? 'success' : 'dead: HTTP 503 (server error) (gave up after 7 attempts)',
          attempt: {
            jobId: j.id, attempt: 1, startedAt: now, latencyMs: 40, requestUrl: 'https://net.example/pb?transaction_id=t&security_token=[redacted]',
            status: 503, responseHeaders: {}, responseBody: 'maintenance', outcome: 'retry', errorClass: 'http_5xx', detail: 'HTTP 503 (server error)',
          },
        })),
      );
      return claimed.map((j) => j.id);
    });

    const log = await run(['log', '--offer', 'x']);
    expect(log.code).toBe(0);
    expect(log.stdout.split('\n').filter((l) => /^\d+ /.test(l))).toHaveLength(11);
    const dead = await run(['dead-letters', '--offer', 'y']);
    expect(dead.stdout.split('\n').filter((l) => /\s+dead\s+/.test(l))).toHaveLength(2);
    const one = await run(['log', '--job', ids[0] ?? '']);
    expect(one.stdout).toContain('#1 ');
    expect(one.stdout).toContain('https://net.example/pb?transaction_id=t&security_token=[redacted]');
    expect(one.stdout).toContain('body: maintenance');
    const json = await run(['log', '--json', '--limit', '2']);
    expect(json.stdout).not.toContain('s3cret');
    expect(JSON.parse(json.stdout)).toHaveLength(2);
    expect(await run(['log', '--status', 'weird', '--from', 'yesterday'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--status: "weird" must be one of[\s\S]*--from: "yesterday" is not an ISO-8601 date/),
    });

    expect(await run(['replay', ids[0] ?? ''])).toMatchObject({ code: 0, stdout: expect.stringContaining(`replayed job ${ids[0]}`) });
    expect(await run(['replay', ids[0] ?? ''])).toMatchObject({ code: 1, stderr: expect.stringContaining('is pending: only dead or failed jobs are replayed') });
    expect(await run(['replay'])).toMatchObject({ code: 1, stderr: expect.stringContaining('give a job id, or filters') });
    expect((await run(['replay', '--offer', 'x', '--dry-run'])).stdout).toMatch(/^would replay 9 jobs: /);
    const many = await run(['replay', '--offer', 'x', '--from', now.toISOString().slice(0, 10)]);
    expect(many.code).toBe(0);
    expect(many.stdout).toBe('replayed 9 jobs\n');
    expect(many.stderr).toContain('replaying: 9/9');
    expect(await withDb((s) => s.countJobs())).toEqual({ pending: 10, in_flight: 0, succeeded: 1, failed: 0, dead: 2 });
  });

  it('write-backs lists what waits for another try and what was given up', async () => {
    const now = new Date('2026-03-01T10:00:00.000Z');
    await withDb(async (store) => {
      await store.enqueue({ jobs: [buildJobDraft({ orderId: 'w1' }), buildJobDraft({ orderId: 'w2', storeId: 's2' })], now });
      const jobs = await store.listJobs({});
      const sent = { status: 'succeeded', outcome: 'success', reason: 'success=true;' } as const;
      for (const job of jobs) {
        await store.deferWriteBack({ jobId: job.id, storeId: job.storeId, platform: 'woocommerce', step: 'meta', outcome: sent, attempts: 2, dueAt: new Date(now.getTime() + 300_000), error: 'order meta not written: WooCommerce answered HTTP 503', now });
      }
      const gone = jobs.find((j) => j.orderId === 'w2');
      if (gone) await store.abandonWriteBack({ jobId: gone.id, error: 'order note not added: order 2 not found (404)', now });
    });
    const all = await run(['write-backs']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/JOB\s+STORE\s+PLATFORM\s+STATUS\s+TRIES\s+STEP\s+NEXT TRY\s+LAST ERROR/);
    expect(all.stdout).toMatch(/s1\s+woocommerce\s+pending\s+2\s+meta\s+2026-03-01 10:05:00\s+order meta not written/);
    const dead = await run(['write-backs', '--dead', '--json']);
    expect(JSON.parse(dead.stdout)).toMatchObject([{ storeId: 's2', status: 'dead', lastError: 'order note not added: order 2 not found (404)' }]);
    expect(await run(['write-backs', '--store', 'nope'])).toMatchObject({ code: 0, stderr: expect.stringContaining('no write-back is waiting or given up') });
    expect(await run(['write-backs', '--limit', 'lots'])).toMatchObject({ code: 1, stderr: expect.stringContaining('--limit') });
  });

  it('worker --once sends what is due and exits', async () => {
    tracker.behave('/pb', { kind: 'everflow' });
    await withDb((store) =>
      store.enqueue({ jobs: ['a', 'b', 'c'].map((orderId) => buildJobDraft({ orderId, allowHttp: true, url: `${tracker.url}/pb?order=${orderId}` })), now: new Date() }),
    );
    const r = await run(['worker', '--once', '--concurrency', '2'], { CLICKTHREAD_ALLOW_PRIVATE_TARGETS: 'true', CLICKTHREAD_LOG_LEVEL: 'info' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"sent":3');
    expect(tracker.requests.map((q) => q.query['order']).toSorted()).toEqual(['a', 'b', 'c']);
    expect(await withDb((s) => s.countJobs())).toMatchObject({ succeeded: 3 });
  });

  it('parses offers exactly as the schema does', () => {
    // guard for the fixtures above: the builder's offer is valid
    expect(parseOffer(buildOfferInput()).ok).toBe(true);
  });
});
