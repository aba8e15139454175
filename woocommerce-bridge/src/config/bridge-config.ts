import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseTrustProxy, type TrustProxy } from '@clickthread/admin';
import { ConfigError } from '@clickthread/core';
import { parseSqliteSync, type SqliteSync } from '@clickthread/core/storage';
import { z } from 'zod';
import { parseSecretKey, secretKeyBytes } from './secret-box.ts';

/**
 * The bridge's configuration, read once from the environment. Every problem is reported in one
 * ConfigError. The secrets key (AES-256-GCM for consumer and webhook secrets at rest) comes from
 * CLICKTHREAD_SECRET_KEY; outside production, when it is unset, a key is generated once into
 * `<data dir>/secret-key` (mode 0600) and reused, with a warning — losing that file makes stored
 * connections unreadable, so production refuses to start without the variable.
 */

export interface BridgeConfig {
  readonly environment: 'production' | 'development' | 'test';
  readonly dataDir: string;
  /** postgres://… selects PostgreSQL; otherwise SQLite at `<dataDir>/clickthread.db`. */
  readonly databaseUrl: string | undefined;
  /** SQLite durability (CLICKTHREAD_SQLITE_SYNC, default full); ignored on PostgreSQL. */
  readonly sqliteSync: SqliteSync;
  /** Run the delivery worker in this process (off when another process runs it). */
  readonly runWorker: boolean;
  /** Let postbacks reach loopback/private addresses (local testing only). */
  readonly allowPrivateTargets: boolean;
  readonly host: string;
  readonly port: number;
  /** Where Woo reaches the bridge, without a trailing slash; webhook delivery URLs start with it. */
  readonly publicUrl: string;
  readonly secretKey: Buffer;
  readonly secretKeySource: 'env' | 'generated' | 'data-dir';
  readonly webhookMaxBytes: number;
  readonly reconcile: { readonly intervalMs: number; readonly pageSize: number };
  /** How long a paid storefront order waits for its order-received link before it is resolved without. */
  readonly linkGraceMs: number;
  readonly capture: { readonly rateLimitPerMinute: number };
  readonly rest: { readonly timeoutMs: number };
  /** Accept http:// store URLs (local WordPress, tests); off by default. */
  readonly allowHttpStores: boolean;
  /**
   * Whether a store URL may resolve to a loopback or private address (a local WordPress, tests):
   * on with CLICKTHREAD_WOO_ALLOW_HTTP_STORES or CLICKTHREAD_ALLOW_PRIVATE_TARGETS. Otherwise the
   * bridge refuses to call such a store (a store URL is user input: no probing of internal hosts).
   * Link-local addresses (cloud metadata) are refused always.
   */
  readonly allowPrivateStores: boolean;
  /** Express `trust proxy` (CLICKTHREAD_TRUST_PROXY): false, a hop count, or a list of addresses/subnets. */
  readonly trustProxy: TrustProxy;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /**
   * The operator token for /api/v1 and /admin (CLICKTHREAD_ADMIN_TOKEN): sees every merchant and
   * issues the first agency and merchant tokens. Unset: only API tokens are accepted.
   */
  readonly adminToken: string | undefined;
  /** Things the operator should read at start (e.g. a generated dev key). */
  readonly notices: readonly string[];
}

const intIn = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max} (got "${v}")` });
        return z.NEVER;
      }
      return n;
    });

const flag = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return false;
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false (got "${v}")` });
      return z.NEVER;
    });

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  CLICKTHREAD_DATA_DIR: z.string().optional(),
  CLICKTHREAD_SECRET_KEY: z.string().optional(),
  CLICKTHREAD_WOO_HOST: z.string().optional(),
  CLICKTHREAD_WOO_PORT: intIn('CLICKTHREAD_WOO_PORT', 0, 65535, 8080),
  CLICKTHREAD_WOO_PUBLIC_URL: z.string().optional(),
  CLICKTHREAD_WOO_WEBHOOK_MAX_BYTES: intIn('CLICKTHREAD_WOO_WEBHOOK_MAX_BYTES', 1024, 64 * 1024 * 1024, 2 * 1024 * 1024),
  CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS: intIn('CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS', 10, 86_400, 300),
  CLICKTHREAD_WOO_RECONCILE_PAGE_SIZE: intIn('CLICKTHREAD_WOO_RECONCILE_PAGE_SIZE', 1, 100, 50),
  CLICKTHREAD_WOO_LINK_GRACE_SECONDS: intIn('CLICKTHREAD_WOO_LINK_GRACE_SECONDS', 0, 86_400, 300),
  CLICKTHREAD_WOO_CAPTURE_RATE_LIMIT: intIn('CLICKTHREAD_WOO_CAPTURE_RATE_LIMIT', 1, 100_000, 120),
  CLICKTHREAD_WOO_REST_TIMEOUT_MS: intIn('CLICKTHREAD_WOO_REST_TIMEOUT_MS', 100, 120_000, 15_000),
  CLICKTHREAD_WOO_ALLOW_HTTP_STORES: flag('CLICKTHREAD_WOO_ALLOW_HTTP_STORES'),
  CLICKTHREAD_ALLOW_PRIVATE_TARGETS: flag('CLICKTHREAD_ALLOW_PRIVATE_TARGETS'),
  CLICKTHREAD_WOO_WORKER: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '' || /^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: `CLICKTHREAD_WOO_WORKER must be true or false (got "${v}")` });
      return z.NEVER;
    }),
  DATABASE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^postgres(ql)?:\/\//i.test(v), 'DATABASE_URL must be a postgres:// URL (leave it unset for SQLite)'),
  CLICKTHREAD_SQLITE_SYNC: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const sync = parseSqliteSync(v);
      if (sync.ok) return sync.value;
      ctx.addIssue({ code: 'custom', message: sync.reason });
      return z.NEVER;
    }),
  CLICKTHREAD_TRUST_PROXY: z.string().optional(),
  CLICKTHREAD_LOG_LEVEL: z.string().optional(),
  CLICKTHREAD_ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const problem = adminTokenProblem(v);
      if (problem === undefined) return v;
      ctx.addIssue({ code: 'custom', message: `CLICKTHREAD_ADMIN_TOKEN ${problem}` });
      return z.NEVER;
    }),
});

/** Said at start (not by the CLI, which serves no API) when there is no operator token. */
export const noAdminTokenNotice =
  'CLICKTHREAD_ADMIN_TOKEN is not set: /api/v1 and /admin accept only agency and merchant API tokens (and the Shopify app\'s session tokens), and no agency token can be issued without an operator token';

/** Why an operator token is unusable, or undefined. Never echoes the value: it is a secret. */
export function adminTokenProblem(token: string): string | undefined {
  if (token.length < 32) return `must be at least 32 characters (got ${token.length}; e.g. \`openssl rand -hex 32\`)`;
  if (token.length > 512) return 'must be at most 512 characters';
  // it travels as `Authorization: Bearer <token>`: one run of visible ASCII
  if (!/^[\x21-\x7e]+$/.test(token)) return 'must be visible ASCII characters without spaces';
  // ct_… is the shape of API tokens; an operator token of that shape would be looked up as one
  if (token.startsWith('ct_')) return 'must not start with ct_ (the prefix of API tokens)';
  return undefined;
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

function parsePublicUrl(raw: string | undefined, fallback: string | undefined, issues: string[]): string {
  const value = raw?.trim() || fallback;
  if (value === undefined) {
    issues.push('CLICKTHREAD_WOO_PUBLIC_URL is required in production (the https URL Woo delivers webhooks to)');
    return '';
  }
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') issues.push('CLICKTHREAD_WOO_PUBLIC_URL must be an http(s) URL');
    if (url.search !== '' || url.hash !== '' || url.username !== '') issues.push('CLICKTHREAD_WOO_PUBLIC_URL must not have credentials, a query or a fragment');
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    issues.push(`CLICKTHREAD_WOO_PUBLIC_URL is not a URL (got "${value}")`);
    return '';
  }
}

export interface LoadConfigOptions {
  /** Reads or creates the dev key file; replaced in tests. */
  readonly devKeyFile?: (path: string) => { key: string; created: boolean };
}

function devKeyFileOnDisk(path: string): { key: string; created: boolean } {
  try {
    return { key: readFileSync(path, 'utf8'), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(secretKeyBytes).toString('base64');
  mkdirSync(resolve(path, '..'), { recursive: true });
  try {
    // 'wx': if another process created it meanwhile, read theirs instead of overwriting
    writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { key, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { key: readFileSync(path, 'utf8'), created: false };
    throw error;
  }
}

export function loadBridgeConfig(env: Readonly<Record<string, string | undefined>>, options: LoadConfigOptions = {}): BridgeConfig {
  const parsed = envSchema.safeParse(env);
  const issues: string[] = parsed.success ? [] : parsed.error.issues.map((i) => i.message);
  const notices: string[] = [];

  const environment = env['NODE_ENV'] === 'production' ? 'production' : env['NODE_ENV'] === 'test' ? 'test' : 'development';
  const dataDir = resolve(env['CLICKTHREAD_DATA_DIR']?.trim() || './data');
  const port = parsed.success ? parsed.data.CLICKTHREAD_WOO_PORT : 8080;
  const publicUrl = parsePublicUrl(env['CLICKTHREAD_WOO_PUBLIC_URL'], environment === 'production' ? undefined : `http://localhost:${port}`, issues);

  const logLevel = (env['CLICKTHREAD_LOG_LEVEL']?.trim() || 'info') as BridgeConfig['logLevel'];
  if (!logLevels.includes(logLevel)) issues.push(`CLICKTHREAD_LOG_LEVEL must be one of ${logLevels.join(', ')} (got "${logLevel}")`);
  const trustProxy = parseTrustProxy(env['CLICKTHREAD_TRUST_PROXY']);
  if (!trustProxy.ok) issues.push(`CLICKTHREAD_TRUST_PROXY ${trustProxy.reason}`);
  else if (environment === 'production' && trustProxy.value === false) {
    // behind a reverse proxy every shopper would be the proxy's address: one capture budget for all storefronts
    notices.push(
      `CLICKTHREAD_TRUST_PROXY is off: /capture's per-IP limit (${parsed.success ? parsed.data.CLICKTHREAD_WOO_CAPTURE_RATE_LIMIT : 120}/min) counts the address that connects. Behind a reverse proxy or load balancer that is the proxy, shared by every shopper of every store: set CLICKTHREAD_TRUST_PROXY to the number of proxies in front (or their addresses).`,
    );
  }

  let secretKey: Buffer = Buffer.alloc(0);
  let secretKeySource: BridgeConfig['secretKeySource'] = 'env';
  const rawKey = env['CLICKTHREAD_SECRET_KEY'];
  if (rawKey !== undefined && rawKey.trim() !== '') {
    const key = parseSecretKey(rawKey);
    if (key.ok) secretKey = key.value;
    else issues.push(`CLICKTHREAD_SECRET_KEY ${key.reason}`);
  } else if (environment === 'production') {
    issues.push('CLICKTHREAD_SECRET_KEY is required in production (32 random bytes, e.g. `openssl rand -base64 32`): it encrypts store credentials at rest');
  } else if (issues.length === 0) {
    const path = join(dataDir, 'secret-key');
    const file = (options.devKeyFile ?? devKeyFileOnDisk)(path);
    const key = parseSecretKey(file.key);
    if (key.ok) {
      secretKey = key.value;
      secretKeySource = file.created ? 'generated' : 'data-dir';
      notices.push(
        `CLICKTHREAD_SECRET_KEY is not set: using ${file.created ? 'a new key generated into' : 'the development key in'} ${path}. ` +
          'Set CLICKTHREAD_SECRET_KEY in production; without this file stored store credentials cannot be read.',
      );
    } else {
      issues.push(`${path} ${key.reason}`);
    }
  }

  if (environment === 'production' && publicUrl.startsWith('http:')) issues.push('CLICKTHREAD_WOO_PUBLIC_URL must use https in production');
  if (environment === 'production' && parsed.success && parsed.data.CLICKTHREAD_WOO_ALLOW_HTTP_STORES) {
    notices.push(
      'CLICKTHREAD_WOO_ALLOW_HTTP_STORES is on: store credentials may travel over plain http (OAuth 1.0a signs requests but does not encrypt them), and store URLs may resolve to loopback and private addresses.',
    );
  }

  if (parsed.success && parsed.data.CLICKTHREAD_ALLOW_PRIVATE_TARGETS) {
    notices.push('CLICKTHREAD_ALLOW_PRIVATE_TARGETS is on: postbacks may reach loopback and private addresses (local testing only).');
  }

  if (issues.length > 0 || !parsed.success || !trustProxy.ok) throw new ConfigError(issues);

  return {
    environment,
    dataDir,
    databaseUrl: parsed.data.DATABASE_URL === undefined || parsed.data.DATABASE_URL === '' ? undefined : parsed.data.DATABASE_URL,
    sqliteSync: parsed.data.CLICKTHREAD_SQLITE_SYNC,
    runWorker: parsed.data.CLICKTHREAD_WOO_WORKER,
    allowPrivateTargets: parsed.data.CLICKTHREAD_ALLOW_PRIVATE_TARGETS,
    host: env['CLICKTHREAD_WOO_HOST']?.trim() || '0.0.0.0',
    port: parsed.data.CLICKTHREAD_WOO_PORT,
    publicUrl,
    secretKey,
    secretKeySource,
    webhookMaxBytes: parsed.data.CLICKTHREAD_WOO_WEBHOOK_MAX_BYTES,
    reconcile: { intervalMs: parsed.data.CLICKTHREAD_WOO_RECONCILE_INTERVAL_SECONDS * 1000, pageSize: parsed.data.CLICKTHREAD_WOO_RECONCILE_PAGE_SIZE },
    linkGraceMs: parsed.data.CLICKTHREAD_WOO_LINK_GRACE_SECONDS * 1000,
    capture: { rateLimitPerMinute: parsed.data.CLICKTHREAD_WOO_CAPTURE_RATE_LIMIT },
    rest: { timeoutMs: parsed.data.CLICKTHREAD_WOO_REST_TIMEOUT_MS },
    allowHttpStores: parsed.data.CLICKTHREAD_WOO_ALLOW_HTTP_STORES,
    allowPrivateStores: parsed.data.CLICKTHREAD_WOO_ALLOW_HTTP_STORES || parsed.data.CLICKTHREAD_ALLOW_PRIVATE_TARGETS,
    trustProxy: trustProxy.value,
    logLevel,
    adminToken: parsed.data.CLICKTHREAD_ADMIN_TOKEN,
    notices,
  };
}
