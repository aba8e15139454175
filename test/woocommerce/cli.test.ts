import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger, ManualClock } from '@clickthread/core';
import { createSqliteStore } from '@clickthread/core/storage';
import { runCli } from '@clickthread/woocommerce-bridge/cli';
import { startFakeWoo, wooOrderAt, type FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** The bridge's CLI (`connections add|list|remove`, `reconcile`) against a fake WooCommerce. */

let dir: string;
let woo: FakeWoo;
let clock: ManualClock;
let env: Record<string, string>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-woo-cli-'));
  clock = new ManualClock('2026-11-21T18:26:00.000Z');
  woo = await startFakeWoo({ clock });
  env = {
    NODE_ENV: 'test',
    CLICKTHREAD_DATA_DIR: dir,
    CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('base64'),
    CLICKTHREAD_WOO_PUBLIC_URL: 'http://127.0.0.1:9/bridge',
    CLICKTHREAD_WOO_ALLOW_HTTP_STORES: 'true',
    CLICKTHREAD_WOO_REST_TIMEOUT_MS: '3000',
  };
});
afterEach(async () => {
  await woo.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l), clock, logger: createMemoryLogger() });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('clickthread-woo CLI', () => {
  it('adds, lists, reconciles and removes a connection', async () => {
    const add = await cli('connections', 'add', '--merchant', 'm1', '--merchant-name', 'Shop One', '--url', woo.url, '--key', woo.consumerKey, '--secret', woo.consumerSecret, '--meta-key', '_tid');
    expect(add.err).toBe('');
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/^connected: wc_[0-9a-f]{20} \(127\.0\.0\.1:\d+\) for merchant m1$/m);
    expect(add.out).toMatch(/order\.created +#1 created/);
    expect(add.out).not.toContain(woo.consumerSecret);
    expect(woo.webhooks()).toHaveLength(4);
    expect(woo.webhooks()[0]?.delivery_url).toMatch(/^http:\/\/127\.0\.0\.1:9\/bridge\/webhooks\/woocommerce\/wc_/);

    const again = await cli('connections', 'add', '--merchant', 'm1', '--url', woo.url, '--key', woo.consumerKey, '--secret', woo.consumerSecret);
    expect(again.out).toMatch(/already connected, checked/);
    expect(woo.webhooks()).toHaveLength(4);

    const list = await cli('connections', 'list', '--json');
    const [summary] = JSON.parse(list.out) as Array<{ id: string; storeUrl: string; merchantId: string }>;
    expect(summary).toMatchObject({ storeUrl: woo.url, merchantId: 'm1' });
    expect(list.out).not.toContain(woo.consumerSecret);

    await woo.addOrder(wooOrderAt(clock.now(), { id: 70, status: 'processing' }));
    const reconcile = await cli('reconcile');
    expect(reconcile.code).toBe(0);
    expect(reconcile.out).toContain(`${summary!.id}: page 1/1, 1 order(s)`);
    expect(reconcile.out).toMatch(/: ok — 1 order\(s\)/);

    const remove = await cli('connections', 'remove', summary!.id);
    expect(remove.out).toBe(`removed ${summary!.id} (4 webhook(s) deleted in WooCommerce)`);
    expect(woo.webhooks()).toEqual([]);

    const store = createSqliteStore({ path: join(dir, 'clickthread.db') });
    try {
      expect(await store.listStores()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.each<[string, string[], number, RegExp]>([
    ['a missing secret', ['connections', 'add', '--merchant', 'm1', '--url', 'https://x.example', '--key', 'ck'], 2, /consumer secret is required/],
    ['an unknown merchant', ['connections', 'add', '--merchant', 'nobody', '--url', 'URL', '--key', 'KEY', '--secret', 'SECRET'], 1, /no merchant with id nobody/],
    ['a wrong secret', ['connections', 'add', '--merchant', 'm1', '--merchant-name', 'x', '--url', 'URL', '--key', 'KEY', '--secret', 'cs_wrong'], 1, /refused the consumer key/],
    ['reconcile with nothing connected', ['reconcile'], 1, /no active WooCommerce connection/],
    ['an unknown command', ['connections', 'frobnicate'], 2, /unknown command/],
  ])('fails clearly on %s', async (_name, argv, code, message) => {
    const args = argv.map((a) => (a === 'URL' ? woo.url : a === 'KEY' ? woo.consumerKey : a === 'SECRET' ? woo.consumerSecret : a));
    const result = await cli(...args);
    expect(result.code).toBe(code);
    expect(result.err).toMatch(message);
  });

  it('reports every configuration problem at once', async () => {
    env = { NODE_ENV: 'production', CLICKTHREAD_DATA_DIR: dir };
    const result = await cli('connections', 'list');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/CLICKTHREAD_SECRET_KEY is required/);
    expect(result.err).toMatch(/CLICKTHREAD_WOO_PUBLIC_URL is required/);
  });
});
