import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { createMemoryLogger, ManualClock, parseOffer, type Offer } from '@clickthread/core';
import { createAccessStore, issueApiToken, type AccessStore } from '@clickthread/core/access';
import { createUndiciTransport, createWorker, type Transport, type Worker } from '@clickthread/core/delivery';
import { createSqliteStore, type Store } from '@clickthread/core/storage';
import { buildOfferInput, startFakeTracker, type FakeTracker } from '@clickthread/core/testing';
import { createApiRouter, type ApiRouterOptions } from '../api/create-api-router.ts';

/**
 * A real API on 127.0.0.1 over a real SQLite store, with two agencies and their merchants, a
 * token for each kind of principal, a loopback tracker and a worker that delivers to it.
 *
 *   agency-a: merchants shop-a1, shop-a2     agency-b: merchant shop-b1
 */

export const operatorToken = 'operator-token-for-tests-0123456789abcdef';

export interface ApiHarness {
  readonly url: string;
  readonly store: Store;
  readonly access: AccessStore;
  readonly clock: ManualClock;
  readonly tracker: FakeTracker;
  readonly transport: Transport;
  readonly worker: Worker;
  readonly logger: ReturnType<typeof createMemoryLogger>;
  readonly tokens: { readonly operator: string; readonly agencyA: string; readonly agencyB: string; readonly merchantA1: string; readonly merchantB1: string };
  /** A TUNE offer whose sale postback goes to the tracker. */
  offer(overrides?: Parameters<typeof buildOfferInput>[0]): Offer;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly router?: Partial<ApiRouterOptions>;
  /** Adds routes beside the API (the UI, in the browser test). */
  readonly extend?: (app: Express) => void;
}

export const t0 = new Date('2026-03-10T12:00:00.000Z');

export async function startApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-admin-'));
  const store = createSqliteStore({ path: join(dir, 'clickthread.db') });
  await store.migrate();
  const access = createAccessStore(store);
  await access.migrate();
  const clock = new ManualClock(t0);
  const logger = createMemoryLogger();
  const tracker = await startFakeTracker();
  tracker.behave('/aff_lsr', { kind: 'tune' });
  const ssrf = { allowPrivate: true };
  const transport = createUndiciTransport({ ssrf });
  const worker = createWorker({ store, transport, clock, logger, schedule: [1000], jitter: 0, ssrf, timeoutMs: 2000, pollIntervalMs: 50 });

  await access.createAgency({ id: 'agency-a', name: 'Agency A', now: t0 });
  await access.createAgency({ id: 'agency-b', name: 'Agency B', now: t0 });
  await store.createMerchant({ id: 'shop-a1', name: 'Shop A1', agencyId: 'agency-a', now: t0 });
  await store.createMerchant({ id: 'shop-a2', name: 'Shop A2', agencyId: 'agency-a', now: t0 });
  await store.createMerchant({ id: 'shop-b1', name: 'Shop B1', agencyId: 'agency-b', now: t0 });
  const issue = async (scope: Parameters<typeof issueApiToken>[1]['scope']) => (await issueApiToken(access, { scope, label: 'test', now: t0 })).token;
  const tokens = {
    operator: operatorToken,
    agencyA: await issue({ kind: 'agency', agencyId: 'agency-a' }),
    agencyB: await issue({ kind: 'agency', agencyId: 'agency-b' }),
    merchantA1: await issue({ kind: 'merchant', merchantId: 'shop-a1' }),
    merchantB1: await issue({ kind: 'merchant', merchantId: 'shop-b1' }),
  };

  const app = express();
  app.use(
    '/api/v1',
    createApiRouter({ store, access, clock, logger, transport, ssrf, operatorToken, testFireTimeoutMs: 2000, wakeWorker: () => worker.wake(), ...options.router }),
  );
  options.extend?.(app);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    store,
    access,
    clock,
    tracker,
    transport,
    worker,
    logger,
    tokens,
    offer(overrides = {}) {
      const parsed = parseOffer(buildOfferInput({ baseUrl: tracker.url, ...overrides }));
      if (!parsed.ok) throw new Error(`test offer is invalid: ${JSON.stringify(parsed.reason)}`);
      return parsed.value;
    },
    async close() {
      await worker.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      await transport.close();
      await tracker.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
