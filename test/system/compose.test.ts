import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, createMemoryLogger } from '@clickthread/core';
import { loadConfigs, startClickthread } from '../../scripts/compose.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ct-compose-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const shopifyEnv = {
  SHOPIFY_API_KEY: 'test-key',
  SHOPIFY_API_SECRET: 'shpss_0123456789abcdef0123456789abcdef',
  SHOPIFY_APP_URL: 'https://clickthread.example',
};

describe('the whole system (pnpm start)', () => {
  it('starts the bridge alone on a fresh clone and says why Shopify is off', async () => {
    const logger = createMemoryLogger();
    const running = await startClickthread({ env: { CLICKTHREAD_DATA_DIR: dataDir, CLICKTHREAD_WOO_PORT: '0', CLICKTHREAD_WOO_HOST: '127.0.0.1' }, overrides: { logger } });
    try {
      expect(running.shopify).toBeUndefined();
      const health = await fetch(`${running.bridgeUrl}/healthz`);
      expect(health.status).toBe(200);
      expect(logger.entries.some((e) => JSON.stringify(e.obj).includes('Shopify app not started'))).toBe(true);
    } finally {
      await running.stop();
    }
  });

  it('starts both apps on one store with one worker', async () => {
    const running = await startClickthread({
      env: { ...shopifyEnv, CLICKTHREAD_DATA_DIR: dataDir, CLICKTHREAD_WOO_PORT: '0', PORT: '0', CLICKTHREAD_WOO_HOST: '127.0.0.1' },
      overrides: { logger: createMemoryLogger() },
    });
    try {
      expect(running.shopifyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const unsigned = await fetch(`${running.shopifyUrl}/webhooks/orders/paid`, { method: 'POST', body: '{}' });
      expect(unsigned.status).toBe(401);
      expect((await fetch(`${running.bridgeUrl}/healthz`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  });

  it('reports every configuration problem of both apps in one error', () => {
    let thrown: unknown;
    try {
      loadConfigs({ ...shopifyEnv, SHOPIFY_APP_URL: 'not a url', PORT: 'eighty', CLICKTHREAD_WOO_PORT: '99999', CLICKTHREAD_DATA_DIR: dataDir });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const issues = (thrown as ConfigError).issues.join('\n');
    expect(issues).toContain('SHOPIFY_APP_URL');
    expect(issues).toContain('PORT');
    expect(issues).toContain('CLICKTHREAD_WOO_PORT');
  });

  it('says a problem with a setting both apps read once (the operator token)', () => {
    let thrown: unknown;
    try {
      loadConfigs({ ...shopifyEnv, CLICKTHREAD_DATA_DIR: dataDir, CLICKTHREAD_ADMIN_TOKEN: 'too-short' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const issues = (thrown as ConfigError).issues;
    expect(issues.filter((issue) => issue.includes('CLICKTHREAD_ADMIN_TOKEN'))).toEqual([expect.stringContaining('at least 32 characters')]);
    expect(issues.join('\n')).not.toContain('too-short');
  });

  it('starts with the admin UI unavailable when it cannot be built: /admin explains, the API answers', async () => {
    const logger = createMemoryLogger();
    const running = await startClickthread({
      env: { CLICKTHREAD_DATA_DIR: dataDir, CLICKTHREAD_WOO_PORT: '0', CLICKTHREAD_WOO_HOST: '127.0.0.1', CLICKTHREAD_ADMIN_TOKEN: 'o'.repeat(40) },
      overrides: { logger, adminUi: () => Promise.resolve({ available: false }) },
    });
    try {
      const page = await fetch(`${running.bridgeUrl}/admin/`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('pnpm --filter @clickthread/admin build');
      const me = await fetch(`${running.bridgeUrl}/api/v1/me`, { headers: { authorization: `Bearer ${'o'.repeat(40)}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ scope: { kind: 'operator' } });
      expect(logger.entries.find((e) => e.msg === 'clickthread started')?.obj).toMatchObject({ adminUi: false, operatorToken: true });
    } finally {
      await running.stop();
    }
  });

  it('checks the admin UI build at start and says how long it took', async () => {
    const logger = createMemoryLogger();
    const running = await startClickthread({ env: { CLICKTHREAD_DATA_DIR: dataDir, CLICKTHREAD_WOO_PORT: '0', CLICKTHREAD_WOO_HOST: '127.0.0.1' }, overrides: { logger } });
    try {
      const entry = logger.entries.find((e) => e.msg === 'admin UI is up to date' || e.msg === 'admin UI built');
      expect(entry?.obj).toMatchObject({ ms: expect.any(Number), dir: expect.stringMatching(/admin[/\\]dist$/) });
      // no operator token: the start says who can use the API
      expect(logger.entries.some((e) => JSON.stringify(e.obj).includes('CLICKTHREAD_ADMIN_TOKEN is not set'))).toBe(true);
      const refused = await fetch(`${running.bridgeUrl}/api/v1/me`);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: { code: 'unauthorized' } });
    } finally {
      await running.stop();
    }
  });
});
