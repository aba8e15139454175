import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../ports/clock.ts';
import { createMemoryLogger } from '../ports/logger.ts';
import { createPostgresStore, dropPostgresSchema } from '../storage/postgres-store.ts';
import { createSqliteStore } from '../storage/sqlite-store.ts';
import type { Store } from '../storage/store.ts';
import { buildJobDraft } from '../testing/builders.ts';
import { startFakeTracker, type FakeTracker } from '../testing/fake-tracker.ts';
import { createUndiciTransport } from './undici-transport.ts';
import { createWorker } from './worker.ts';

/**
 * Several workers draining one outbox at once: every job is sent exactly once (PostgreSQL claims
 * with SKIP LOCKED; SQLite serializes claims with IMMEDIATE transactions).
 */

const pgUrl = process.env['CLICKTHREAD_TEST_DATABASE_URL'] ?? '';

interface Backend {
  readonly open: () => Store;
  readonly cleanup: () => Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'ct-multi-'));
  return { open: () => createSqliteStore({ path: join(dir, 'ct.db') }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

function postgresBackend(): Backend {
  const schema = `ct_test_${randomBytes(6).toString('hex')}`;
  return {
    open: () => createPostgresStore({ connectionString: pgUrl, schema, poolSize: 4 }),
    cleanup: () => dropPostgresSchema(pgUrl, schema),
  };
}

let tracker: FakeTracker;
beforeAll(async () => {
  tracker = await startFakeTracker();
  tracker.behave('/pb', { kind: 'slow', delayMs: 5 });
});
afterAll(async () => {
  await tracker.close();
});

describe.each([
  ['SQLite', sqliteBackend, undefined],
  ['PostgreSQL', postgresBackend, pgUrl === '' ? 'set CLICKTHREAD_TEST_DATABASE_URL to run it' : undefined],
] as const)('three workers on one %s outbox', (_name, backendOf, skip) => {
  it.skipIf(skip !== undefined)(`send every job exactly once${skip === undefined ? '' : ` (skipped: ${skip})`}`, async () => {
    tracker.clear();
    const backend = backendOf();
    const stores = [backend.open(), backend.open(), backend.open()];
    const transport = createUndiciTransport({ ssrf: { allowPrivate: true } });
    try {
      for (const s of stores) await s.migrate();
      const count = 90;
      await stores[0]?.enqueue({
        jobs: Array.from({ length: count }, (_, i) => buildJobDraft({ orderId: `o${i}`, allowHttp: true, url: `${tracker.url}/pb?adv_sub=o${i}`, offerId: 'none' })),
        now: systemClock.now(),
      });
      const workers = stores.map((store, i) =>
        createWorker({ store, transport, clock: systemClock, logger: createMemoryLogger(), workerId: `w${i}`, batchSize: 7, concurrency: 3, ssrf: { allowPrivate: true } }),
      );
      const drain = async (worker: (typeof workers)[number]) => {
        while ((await worker.runOnce()).claimed > 0);
      };
      await Promise.all(workers.map(drain));
      const sent = tracker.requests.map((r) => r.query['adv_sub']);
      expect(sent).toHaveLength(count);
      expect(new Set(sent).size).toBe(count);
      expect(await stores[0]?.countJobs()).toEqual({ pending: 0, in_flight: 0, succeeded: count, failed: 0, dead: 0 });
    } finally {
      await transport.close();
      for (const s of stores) await s.close();
      await backend.cleanup();
    }
  });
});
