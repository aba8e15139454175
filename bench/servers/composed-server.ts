// The whole system as `pnpm start` runs it (scripts/compose.ts: bridge, Shopify app, worker, one
// SQLite store), for the memory benchmark: `node bench/servers/composed-server.ts`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@clickthread/core';
import { startClickthread } from '../../scripts/compose.ts';
import { announceReady, onTerminate } from '../shared/child-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'clickthread-bench-start-'));
const running = await startClickthread({
  env: {
    NODE_ENV: 'production',
    CLICKTHREAD_DATA_DIR: dir,
    CLICKTHREAD_SECRET_KEY: randomBytes(32).toString('base64'),
    CLICKTHREAD_WOO_HOST: '127.0.0.1',
    CLICKTHREAD_WOO_PORT: '0',
    CLICKTHREAD_WOO_PUBLIC_URL: 'https://bridge.example',
    CLICKTHREAD_ADMIN_TOKEN: `ctop_${randomBytes(24).toString('hex')}`,
    SHOPIFY_API_KEY: 'bench-api-key',
    SHOPIFY_API_SECRET: 'shpss_bench_secret_0123456789abcdef',
    SHOPIFY_APP_URL: 'https://app.example',
    PORT: '0',
  },
  overrides: { logger: createLogger({ level: 'info' }) },
});
onTerminate(async () => {
  await running.stop();
  rmSync(dir, { recursive: true, force: true });
});
announceReady({ bridge: running.bridgeUrl, shopify: running.shopifyUrl });
