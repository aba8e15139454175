import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPostgresStore, dropPostgresSchema, type Store } from '@clickthread/core/storage';
import { buildJobDraft } from '@clickthread/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';

/**
 * PostgreSQL with two worker processes draining one outbox: no job is ever sent twice at the same
 * time (nor twice at all, when no worker dies). The tracker here counts, per order, how many
 * requests are open at once; it answers each after a pause, so overlapping claims would show.
 */

const pgUrl = process.env['CLICKTHREAD_TEST_DATABASE_URL'] ?? '';
const skip = pgUrl === '' ? 'CLICKTHREAD_TEST_DATABASE_URL is not set: PostgreSQL fault test skipped' : undefined;
if (skip) console.warn(skip);

interface ConcurrencyTracker {
  readonly url: string;
  /** Requests per order id, in arrival order. */
  readonly sends: Map<string, number>;
  /** The most requests for one order that were open at the same time. */
  maxOpenPerOrder(): number;
  close(): Promise<void>;
}

async function startConcurrencyTracker(delayMs: number): Promise<ConcurrencyTracker> {
  const open = new Map<string, number>();
  const sends = new Map<string, number>();
  let maxOpen = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const order = new URL(req.url ?? '/', 'http://tracker.invalid').searchParams.get('order') ?? '?';
    sends.set(order, (sends.get(order) ?? 0) + 1);
    const now = (open.get(order) ?? 0) + 1;
    open.set(order, now);
    maxOpen = Math.max(maxOpen, now);
    setTimeout(() => {
      open.set(order, (open.get(order) ?? 1) - 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('success=true;');
    }, delayMs);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sends,
    maxOpenPerOrder: () => maxOpen,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

const schema = `ct_faults_${randomBytes(6).toString('hex')}`;
let store: Store | undefined;
let tracker: ConcurrencyTracker | undefined;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  if (skip) return;
  store = createPostgresStore({ connectionString: pgUrl, schema, poolSize: 4 });
  await store.migrate();
  tracker = await startConcurrencyTracker(25);
});
afterAll(async () => {
  for (const worker of workers) await worker.kill('SIGKILL');
  await tracker?.close();
  await store?.close();
  if (skip) return;
  await dropPostgresSchema(pgUrl, schema);
});

describe('PostgreSQL, two worker processes on one outbox', () => {
  it.skipIf(skip !== undefined)(`never send one job twice at the same time${skip ? ` (${skip})` : ''}`, { timeout: 60_000 }, async () => {
    if (!store || !tracker) throw new Error('setup did not run');
    const count = 300;
    const trackerUrl = tracker.url;
    for (const n of [1, 2]) {
      workers.push(
        await startWorkerProcess({
          postgres: { url: pgUrl, schema },
          workerId: `pg-worker-${n}`,
          leaseMs: 30_000,
          timeoutMs: 5_000,
          batchSize: 20,
          concurrency: 8,
          pollIntervalMs: 20,
        }),
      );
    }
    // both workers run (polling every 20 ms) before the jobs arrive: a worker that started first
    // could otherwise drain all of them while the second process is still starting
    await store.enqueue({
      jobs: Array.from({ length: count }, (_, i) =>
        buildJobDraft({
          orderId: `pg-order-${i}`,
          transactionId: `pg-tx-${i}`,
          offerId: 'pg-offer',
          allowHttp: true,
          url: `${trackerUrl}/pb?transaction_id=pg-tx-${i}&order=pg-order-${i}`,
        }),
      ),
      now: new Date(),
    });
    // who holds jobs while they run: both workers must take part, or this proved nothing about two
    const holders = new Set<string>();
    const deadline = performance.now() + 45_000;
    while ((await store.countJobs()).succeeded < count) {
      if (performance.now() > deadline) throw new Error(`only ${(await store.countJobs()).succeeded} of ${count} jobs delivered`);
      for (const job of await store.listJobs({ status: 'in_flight', limit: 100 })) if (job.lockedBy) holders.add(job.lockedBy);
      await sleep(20);
    }
    for (const worker of workers.splice(0)) expect((await worker.kill('SIGTERM')).code).toBe(0);

    expect(tracker.maxOpenPerOrder()).toBe(1);
    expect(tracker.sends.size).toBe(count);
    expect([...tracker.sends.values()].every((n) => n === 1)).toBe(true);
    expect([...holders].toSorted()).toEqual(['pg-worker-1', 'pg-worker-2']);
    const jobs = await store.listJobs({ limit: count });
    expect(jobs.every((j) => j.status === 'succeeded' && j.attempts === 1)).toBe(true);
  });
});
