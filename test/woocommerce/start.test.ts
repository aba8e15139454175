import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger } from '@clickthread/core';
import { startBridge } from '@clickthread/woocommerce-bridge';
import { afterEach, beforeEach, expect, it } from 'vitest';

/** The standalone service (what main.ts runs): SQLite in the data dir, HTTP, worker, reconciliation. */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ct-woo-start-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

it('starts on SQLite, answers /healthz, and stops cleanly', async () => {
  const logger = createMemoryLogger();
  const running = await startBridge({
    env: { NODE_ENV: 'test', CLICKTHREAD_DATA_DIR: dir, CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('hex'), CLICKTHREAD_WOO_HOST: '127.0.0.1', CLICKTHREAD_WOO_PORT: '0' },
    logger,
  });
  try {
    expect(running.worker).toBeDefined();
    const res = await fetch(`${running.address}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, service: 'woocommerce-bridge' });
    expect((await fetch(`${running.address}/nope`)).status).toBe(404);
  } finally {
    await running.stop();
  }
  expect(logger.entries.map((e) => e.msg)).toEqual(expect.arrayContaining(['woocommerce bridge started', 'woocommerce bridge stopped']));
});

it('generates a development key into the data dir when none is configured, and warns', async () => {
  const logger = createMemoryLogger();
  const running = await startBridge({ env: { NODE_ENV: 'development', CLICKTHREAD_DATA_DIR: dir, CLICKTHREAD_WOO_HOST: '127.0.0.1', CLICKTHREAD_WOO_PORT: '0', CLICKTHREAD_WOO_WORKER: 'false' }, logger });
  await running.stop();
  expect(running.config.secretKeySource).toBe('generated');
  expect(running.worker).toBeUndefined();
  expect(logger.entries.some((e) => e.level === 'warn' && JSON.stringify(e.obj).includes('CLICKTHREAD_SECRET_KEY is not set'))).toBe(true);
});
