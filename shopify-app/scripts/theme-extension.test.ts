import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { themeCheckRun } from '@shopify/theme-check-node';
import { captureScriptByteLimit, parseCaptureScriptConfig } from '@clickthread/core/storefront';
import { extensionDir, writeExtensionAsset, type ExtensionAsset } from './build-extension.ts';

/**
 * Shopify's own checker over the theme app extension, offline, with its theme-app-extension config
 * (the extension's .theme-check.yml). It runs on a copy with the asset built by the same script the
 * CLI runs (shopify.web.toml predev), so the source tree is left alone.
 */

let dir: string;
let asset: ExtensionAsset;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clickthread-extension-'));
  cpSync(extensionDir, dir, { recursive: true });
  asset = writeExtensionAsset(dir);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const block = () => readFileSync(join(dir, 'blocks', 'app-embed.liquid'), 'utf8');
const schema = () => JSON.parse(/\{%\s*schema\s*%\}([\s\S]*?)\{%\s*endschema\s*%\}/.exec(block())?.[1] ?? 'null') as Record<string, unknown>;

describe('theme app extension clickthread-capture', () => {
  it('passes Shopify theme check (theme-app-extension config) with zero offenses', async () => {
    const run = await themeCheckRun(dir, undefined, () => undefined);
    expect(run.offenses.map((o) => `${o.check} ${o.uri}: ${o.message}`)).toEqual([]);
  }, 60_000);

  it('theme check does report a broken extension (the run is not vacuous)', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'clickthread-extension-broken-'));
    try {
      cpSync(dir, broken, { recursive: true });
      writeFileSync(join(broken, 'blocks', 'app-embed.liquid'), block().replace('"javascript": "clickthread.js"', '"javascript": "missing.js"'));
      const run = await themeCheckRun(broken, undefined, () => undefined);
      expect(run.offenses.map((o) => o.check)).toContain('AssetSizeAppBlockJavaScript');
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  }, 60_000);

  it('is an app embed in the head that loads the capture script built from core', () => {
    expect(schema()).toMatchObject({ target: 'head', javascript: 'clickthread.js' });
    expect(readFileSync(asset.path, 'utf8').length).toBeGreaterThan(100);
    expect(statSync(asset.path).size).toBe(asset.bytes);
    expect(asset.bytes).toBeLessThanOrEqual(captureScriptByteLimit);
    console.log(`capture script: ${asset.bytes} bytes, ${asset.gzipBytes} gzipped`);
  });

  it('renders the script configuration element with the settings the script reads', () => {
    const liquid = block();
    expect(liquid).toContain('<script type="application/json" id="clickthread-config">');
    const ids = (schema()['settings'] as Array<{ id: string }>).map((s) => s.id);
    expect(ids).toEqual(['params', 'extra_params', 'window_days', 'model', 'sibling_domains', 'app_proxy_prefix', 'app_proxy_subpath']);
    // the element's JSON with the default settings, as Liquid renders it, is a valid script config
    const rendered = {
      platform: 'shopify',
      params: ['transaction_id', 'click_id', 'clickid', 'cid', 'subid', 'aff_click_id', '_ef_transaction_id'],
      extraParams: ['aff_sub', 'aff_sub2', 'sub1', 'sub2'],
      windowDays: 30,
      model: 'last_click',
      siblingDomains: [],
      endpoint: '/apps/clickthread/capture',
      consent: 'shopify',
      attribute: '_clickthread',
    };
    for (const key of Object.keys(rendered)) expect(liquid).toContain(`"${key}":`);
    expect(parseCaptureScriptConfig(rendered).ok).toBe(true);
  });
});
