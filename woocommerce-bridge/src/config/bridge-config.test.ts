import { randomBytes } from 'node:crypto';
import { ConfigError } from '@clickthread/core';
import { describe, expect, it } from 'vitest';
import { loadBridgeConfig } from './bridge-config.ts';

const key = randomBytes(32).toString('base64');
const noFile = () => {
  throw new Error('no key file expected');
};

const privateStoresWith = (env: Record<string, string>): boolean => loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, ...env }, { devKeyFile: noFile }).allowPrivateStores;

describe('loadBridgeConfig', () => {
  it('has working defaults for development', () => {
    const config = loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_DATA_DIR: '/tmp/ct' }, { devKeyFile: noFile });
    expect(config).toMatchObject({
      environment: 'development',
      port: 8080,
      publicUrl: 'http://localhost:8080',
      webhookMaxBytes: 2 * 1024 * 1024,
      reconcile: { intervalMs: 300_000, pageSize: 50 },
      linkGraceMs: 300_000,
      allowHttpStores: false,
      allowPrivateStores: false,
      trustProxy: false,
      secretKeySource: 'env',
    });
    expect(config.secretKey).toHaveLength(32);
  });

  it('reads every setting', () => {
    const config = loadBridgeConfig(
      {
        NODE_ENV: 'production',
        CLICKTHREAD_SECRET_KEY: key,
        CLICKTHREAD_WOO_PUBLIC_URL: 'https://bridge.example/base/',
        CLICKTHREAD_WOO_PORT: '443',
        CLICKTHREAD_WOO_WEBHOOK_MAX_BYTES: '65536',
        CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS: '60',
        CLICKTHREAD_WOO_RECONCILE_PAGE_SIZE: '100',
        CLICKTHREAD_WOO_LINK_GRACE_SECONDS: '0',
        CLICKTHREAD_WOO_CAPTURE_RATE_LIMIT: '30',
        CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
        CLICKTHREAD_TRUST_PROXY: '1',
      },
      { devKeyFile: noFile },
    );
    expect(config).toMatchObject({
      environment: 'production',
      publicUrl: 'https://bridge.example/base',
      port: 443,
      webhookMaxBytes: 65536,
      reconcile: { intervalMs: 60_000, pageSize: 100 },
      linkGraceMs: 0,
      capture: { rateLimitPerMinute: 30 },
      allowHttpStores: true,
      allowPrivateStores: true,
      trustProxy: 1,
    });
    expect(config.notices.join(' ')).toMatch(/ALLOW_HTTP_STORES/);
    expect(config.notices.join(' ')).not.toMatch(/TRUST_PROXY/);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadBridgeConfig({
        NODE_ENV: 'production',
        CLICKTHREAD_WOO_PORT: 'eighty',
        CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS: '1',
        CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'maybe',
        CLICKTHREAD_LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    for (const name of ['CLICKTHREAD_WOO_PORT', 'CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS', 'CLICKTHREAD_WOO_ALLOW_HTTP_STORES', 'CLICKTHREAD_LOG_LEVEL', 'CLICKTHREAD_SECRET_KEY', 'CLICKTHREAD_WOO_PUBLIC_URL']) {
      expect(issues).toContain(name);
    }
  });

  it.each([
    ['a short key', { CLICKTHREAD_SECRET_KEY: 'abc' }, 'CLICKTHREAD_SECRET_KEY'],
    ['a public URL with a query', { CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_WOO_PUBLIC_URL: 'https://b.example/?x=1' }, 'query'],
    ['an ftp public URL', { CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_WOO_PUBLIC_URL: 'ftp://b.example' }, 'http(s)'],
    ['plain http in production', { NODE_ENV: 'production', CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_WOO_PUBLIC_URL: 'http://b.example' }, 'https'],
    ['a body limit too small', { CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_WOO_WEBHOOK_MAX_BYTES: '10' }, 'WEBHOOK_MAX_BYTES'],
  ])('refuses %s', (_name, env, fragment) => {
    expect(() => loadBridgeConfig(env, { devKeyFile: noFile })).toThrow(fragment);
  });

  it('outside production, generates a key into the data dir once and says so', () => {
    const files = new Map<string, string>();
    const devKeyFile = (path: string) => {
      const existing = files.get(path);
      if (existing !== undefined) return { key: existing, created: false };
      const made = randomBytes(32).toString('base64');
      files.set(path, made);
      return { key: made, created: true };
    };
    const first = loadBridgeConfig({ CLICKTHREAD_DATA_DIR: '/tmp/ct-data' }, { devKeyFile });
    const second = loadBridgeConfig({ CLICKTHREAD_DATA_DIR: '/tmp/ct-data' }, { devKeyFile });
    expect(first.secretKeySource).toBe('generated');
    expect(second.secretKeySource).toBe('data-dir');
    expect(second.secretKey.equals(first.secretKey)).toBe(true);
    expect([...files.keys()]).toEqual(['/tmp/ct-data/secret-key']);
    expect(first.notices.join(' ')).toMatch(/CLICKTHREAD_SECRET_KEY is not set/);
  });

  it('reads the operator token; unset is no notice here (the CLI loads this config and serves no API)', () => {
    const token = 'a'.repeat(24) + '-0123456789';
    expect(loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_ADMIN_TOKEN: token }, { devKeyFile: noFile })).toMatchObject({ adminToken: token });
    const without = loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_ADMIN_TOKEN: '' }, { devKeyFile: noFile });
    expect(without.adminToken).toBeUndefined();
    expect(without.notices).toEqual([]);
  });

  it.each([
    ['shorter than 32 characters', 'short-token', 'at least 32 characters'],
    ['with a space', `${'a'.repeat(20)} ${'b'.repeat(20)}`, 'without spaces'],
    ['with non-ASCII characters', `${'a'.repeat(32)}é`, 'visible ASCII'],
    ['shaped like an API token', `ct_${'a'.repeat(40)}`, 'must not start with ct_'],
    ['longer than 512 characters', 'a'.repeat(513), 'at most 512'],
  ])('refuses an operator token %s, without echoing it', (_what, token, fragment) => {
    let error: unknown;
    try {
      loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_ADMIN_TOKEN: token }, { devKeyFile: noFile });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toContain('CLICKTHREAD_ADMIN_TOKEN');
    expect(issues).toContain(fragment);
    expect(issues).not.toContain(token);
  });

  it('warns in production when trust proxy is off: behind a proxy the per-IP capture limit is one limit for everyone', () => {
    const production = { NODE_ENV: 'production', CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_WOO_PUBLIC_URL: 'https://bridge.example' };
    expect(loadBridgeConfig(production, { devKeyFile: noFile }).notices).toEqual([expect.stringMatching(/^CLICKTHREAD_TRUST_PROXY is off: \/capture's per-IP limit \(120\/min\)/)]);
    expect(loadBridgeConfig({ ...production, CLICKTHREAD_TRUST_PROXY: 'loopback' }, { devKeyFile: noFile }).notices).toEqual([]);
    // outside production a bridge on a laptop has nothing in front
    expect(loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key }, { devKeyFile: noFile }).notices).toEqual([]);
  });

  it('refuses a trust proxy it cannot read, as the Shopify app does', () => {
    expect(() => loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_TRUST_PROXY: 'my-load-balancer' }, { devKeyFile: noFile })).toThrow(
      /CLICKTHREAD_TRUST_PROXY must be false, true, a hop count/,
    );
  });

  it('lets store URLs reach private addresses only with ALLOW_HTTP_STORES or ALLOW_PRIVATE_TARGETS', () => {
    expect(privateStoresWith({})).toBe(false);
    expect(privateStoresWith({ CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true' })).toBe(true);
    expect(privateStoresWith({ CLICKTHREAD_ALLOW_PRIVATE_TARGETS: 'true' })).toBe(true);
  });

  it('reads CLICKTHREAD_SQLITE_SYNC: full by default, normal when asked', () => {
    expect(loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key }, { devKeyFile: noFile }).sqliteSync).toBe('full');
    expect(loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_SQLITE_SYNC: '' }, { devKeyFile: noFile }).sqliteSync).toBe('full');
    expect(loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_SQLITE_SYNC: 'normal' }, { devKeyFile: noFile }).sqliteSync).toBe('normal');
  });

  it('refuses a bad CLICKTHREAD_SQLITE_SYNC, naming it, with the other problems', () => {
    let issues: readonly string[] = [];
    try {
      loadBridgeConfig({ CLICKTHREAD_SECRET_KEY: key, CLICKTHREAD_SQLITE_SYNC: 'off', CLICKTHREAD_WOO_PORT: 'x' }, { devKeyFile: noFile });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues = error.issues;
    }
    expect(issues).toContain('CLICKTHREAD_SQLITE_SYNC must be one of full, normal (got "off")');
    expect(issues).toContainEqual(expect.stringMatching(/^CLICKTHREAD_WOO_PORT /));
  });
});
