import { describe, expect, it } from 'vitest';
import express from 'express';
import request from 'supertest';
import { createMemoryLogger } from '@clickthread/core';
import { adminUiBuildCommand, createAdminUiUnavailableRouter, prepareAdminUi } from './admin-ui-state.ts';

describe('prepareAdminUi', () => {
  it('never fails the start: a failed build is logged with its error and reported unavailable', async () => {
    const logger = createMemoryLogger();
    const failure = new Error('vite is not installed');
    const state = await prepareAdminUi({ logger, build: () => Promise.reject(failure) });
    expect(state).toEqual({ available: false });
    const entry = logger.entries.find((e) => e.level === 'error');
    expect(entry?.obj).toMatchObject({ err: failure, fix: adminUiBuildCommand, ms: expect.any(Number) });
  });

  it('reports the build directory and how long it took', async () => {
    const logger = createMemoryLogger();
    const state = await prepareAdminUi({ logger, build: () => Promise.resolve({ outDir: '/tmp/ui', built: true }) });
    expect(state).toEqual({ available: true, dir: '/tmp/ui' });
    expect(logger.entries.find((e) => e.msg === 'admin UI built')?.obj).toMatchObject({ dir: '/tmp/ui', built: true, ms: expect.any(Number) });
  });
});

describe('createAdminUiUnavailableRouter', () => {
  it.each([
    ['standalone', "frame-ancestors 'none'"],
    // embedded: the Shopify app's ensureInstalledOnShop in front sets frame-ancestors for the admin
    ['embedded', undefined],
  ] as const)('%s: 503 with the build command, framing %s', async (mode, csp) => {
    const app = express().use(createAdminUiUnavailableRouter({ mode }));
    const res = await request(app).get('/anything');
    expect(res.status).toBe(503);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toBe(csp);
    expect(res.text).toContain(adminUiBuildCommand);
  });
});
