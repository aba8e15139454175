import { describe, expect, it } from 'vitest';
import { ConfigError } from '@clickthread/core';
import { loadShopifyConfig } from './shopify-config.ts';

const valid = {
  SHOPIFY_API_KEY: 'client-id',
  SHOPIFY_API_SECRET: 'shpss_0123456789abcdef',
  SHOPIFY_APP_URL: 'https://clickthread.example.com',
};

function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadShopifyConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('loadShopifyConfig', () => {
  it('fills defaults', () => {
    const config = loadShopifyConfig(valid);
    expect(config).toMatchObject({
      apiKey: 'client-id',
      scopes: ['read_orders', 'write_orders', 'write_app_proxy'],
      apiVersion: '2026-07',
      proxyPath: '/proxy',
      databaseUrl: undefined,
      dataDir: './data',
      port: 3000,
      reconcileIntervalMs: 15 * 60_000,
      reconcileLookbackMs: 72 * 3_600_000,
      writeBack: true,
      proxyCapturesPerMinute: 120,
      allowPrivateTargets: false,
      trustProxy: false,
      logLevel: 'info',
    });
    expect(config.appUrl.host).toBe('clickthread.example.com');
  });

  it('reads what the Shopify CLI and the operator set', () => {
    const config = loadShopifyConfig({
      ...valid,
      SCOPES: 'read_orders, write_orders',
      SHOPIFY_API_VERSION: '2026-04',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      PORT: '8081',
      SHOPIFY_RECONCILE_INTERVAL_MINUTES: '0',
      SHOPIFY_WRITE_BACK: 'false',
    });
    expect(config).toMatchObject({ scopes: ['read_orders', 'write_orders'], apiVersion: '2026-04', port: 8081, reconcileIntervalMs: 0, writeBack: false, protectedCustomerData: false });
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/test');
  });

  it('reports every problem at once', () => {
    expect(
      problems({
        SHOPIFY_APP_URL: 'http://clickthread.example.com/app',
        SCOPES: 'read_products',
        SHOPIFY_API_VERSION: '2019-01',
        DATABASE_URL: 'mysql://x',
        PORT: '99999',
        SHOPIFY_WRITE_BACK: 'maybe',
      }),
    ).toEqual([
      "SHOPIFY_API_KEY: is required (the app's client id)",
      "SHOPIFY_API_SECRET: is required (the app's client secret)",
      'SHOPIFY_APP_URL: must be https (Shopify only calls https apps)',
      'SHOPIFY_APP_URL: must be an origin without path, query or fragment',
      'SCOPES: must include read_orders (or write_orders): reconciliation reads orders',
      expect.stringMatching(/^SHOPIFY_API_VERSION: must be one of 2024-10, .*unstable$/),
      'DATABASE_URL: must be a postgres:// URL (unset for SQLite)',
      'PORT: must be at most 65535',
      'SHOPIFY_WRITE_BACK: must be true or false',
    ]);
  });

  it('protected customer data needs read_customers in the scopes', () => {
    expect(problems({ ...valid, SHOPIFY_PROTECTED_CUSTOMER_DATA: 'true' })).toEqual([
      "SHOPIFY_PROTECTED_CUSTOMER_DATA: needs read_customers in SCOPES (and Shopify's approval for protected customer data)",
    ]);
    expect(problems({ ...valid, SHOPIFY_PROTECTED_CUSTOMER_DATA: 'maybe' })).toEqual(['SHOPIFY_PROTECTED_CUSTOMER_DATA: must be true or false']);
    const config = loadShopifyConfig({ ...valid, SHOPIFY_PROTECTED_CUSTOMER_DATA: 'true', SCOPES: 'read_orders,write_orders,read_customers' });
    expect(config.protectedCustomerData).toBe(true);
  });

  it('treats empty values as unset', () => {
    expect(problems({ ...valid, DATABASE_URL: '', PORT: '' })).toEqual([]);
  });

  it('reads the operator token (unset: undefined)', () => {
    const token = 'f'.repeat(64);
    expect(loadShopifyConfig({ ...valid, CLICKTHREAD_ADMIN_TOKEN: token }).adminToken).toBe(token);
    expect(loadShopifyConfig({ ...valid, CLICKTHREAD_ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
  });

  it.each([
    ['shorter than 32 characters', 'short-token', 'at least 32 characters'],
    ['with a space', `${'a'.repeat(20)} ${'b'.repeat(20)}`, 'without spaces'],
    ['shaped like an API token', `ct_${'a'.repeat(40)}`, 'must not start with ct_'],
    ['longer than 512 characters', 'a'.repeat(513), 'at most 512'],
  ])('refuses an operator token %s, without echoing it', (_what, token, fragment) => {
    const found = problems({ ...valid, CLICKTHREAD_ADMIN_TOKEN: token });
    expect(found).toEqual([expect.stringContaining(fragment)]);
    expect(found[0]).toMatch(/^CLICKTHREAD_ADMIN_TOKEN: /);
    expect(found.join('\n')).not.toContain(token);
  });

  it.each([
    ['1', 1],
    ['2', 2],
    ['true', true],
    ['false', false],
    ['10.0.0.0/8, loopback', '10.0.0.0/8,loopback'],
  ])('reads CLICKTHREAD_TRUST_PROXY=%j as the bridge does', (raw, expected) => {
    expect(loadShopifyConfig({ ...valid, CLICKTHREAD_TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it('reads the log level from CLICKTHREAD_LOG_LEVEL', () => {
    expect(loadShopifyConfig({ ...valid, CLICKTHREAD_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
  });

  it('refuses a trust proxy and a log level it cannot read, with the others', () => {
    expect(problems({ ...valid, CLICKTHREAD_TRUST_PROXY: 'the-load-balancer', CLICKTHREAD_LOG_LEVEL: 'loud' })).toEqual([
      expect.stringMatching(/^CLICKTHREAD_TRUST_PROXY: must be false, true, a hop count, .*"the-load-balancer"/),
      'CLICKTHREAD_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace',
    ]);
  });

  it('reads CLICKTHREAD_SQLITE_SYNC: full by default, normal when asked', () => {
    expect(loadShopifyConfig(valid).sqliteSync).toBe('full');
    expect(loadShopifyConfig({ ...valid, CLICKTHREAD_SQLITE_SYNC: 'normal' }).sqliteSync).toBe('normal');
  });

  it('refuses a bad CLICKTHREAD_SQLITE_SYNC, naming it, with the other problems', () => {
    expect(problems({ ...valid, CLICKTHREAD_SQLITE_SYNC: 'off', PORT: 'x' })).toEqual([
      'CLICKTHREAD_SQLITE_SYNC: must be one of full, normal (got "off")',
      'PORT: must be a TCP port number',
    ]);
  });
});
