import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminUiRouter, renderAdminIndex } from './admin-ui.ts';

/** Serving the built UI: the page with its mode written in, assets, redirects, framing headers. */

const builtIndex = '<!doctype html><html><head>\n<!--clickthread-head-->\n<title>Clickthread</title><script type="module" src="./assets/app.js"></script></head><body></body></html>';

describe('admin UI router', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ct-admin-ui-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), builtIndex);
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const appWith = (mode: 'standalone' | 'embedded') => express().use('/admin', createAdminUiRouter({ mode, dir, shopifyApiKey: 'key"<x>', apiBase: '/api/v1' }));

  it('serves the standalone page with its config, never framed, never cached', async () => {
    const res = await request(appWith('standalone')).get('/admin/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<script id="clickthread-admin-config" type="application/json">{"mode":"standalone","apiBase":"/api/v1"}</script>');
    expect(res.text).not.toContain('app-bridge');
    expect(res.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('puts App Bridge first in the head when embedded, with the API key escaped, and leaves framing to the Shopify app', async () => {
    const res = await request(appWith('embedded')).get('/admin/');
    expect(res.text.indexOf('app-bridge.js')).toBeLessThan(res.text.indexOf('./assets/app.js'));
    expect(res.text).toContain('<meta name="shopify-api-key" content="key&#34;&#60;x&#62;" />');
    expect(res.headers['x-frame-options']).toBeUndefined();
  });

  it('redirects /admin to /admin/ so relative asset URLs resolve', async () => {
    const res = await request(appWith('standalone')).get('/admin');
    expect(res.status).toBe(301);
    expect(res.headers['location']).toBe('/admin/');
  });

  it('serves hashed assets for a year and 404s missing ones', async () => {
    const asset = await request(appWith('standalone')).get('/admin/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await request(appWith('standalone')).get('/admin/assets/nope.js')).status).toBe(404);
  });

  it('says how to build the UI when it is not built', async () => {
    rmSync(join(dir, 'index.html'));
    const res = await request(appWith('standalone')).get('/admin/');
    expect(res.status).toBe(503);
    expect(res.text).toContain('pnpm --filter @clickthread/admin build');
  });

  it('escapes "<" in the config so it cannot close the script element', () => {
    const html = renderAdminIndex(builtIndex, { mode: 'standalone', apiBase: '/x</script><script>alert(1)//' });
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).toContain('\\u003c/script>');
  });
});
