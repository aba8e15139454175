import { ApiVersion } from '@shopify/shopify-api';
import { parseTrustProxy, type TrustProxy } from '@clickthread/admin';
import { ConfigError } from '@clickthread/core';
import { sqliteSyncEnvField, type SqliteSync } from '@clickthread/core/storage';
import { z } from 'zod';

/**
 * The Shopify app's settings, read once at start. The names are the ones the Shopify CLI sets when it
 * runs the app (`shopify app dev` exports SHOPIFY_API_KEY, SHOPIFY_API_SECRET, SCOPES,
 * SHOPIFY_APP_URL and PORT), so the same process runs under the CLI and standalone.
 */
export interface ShopifyConfig {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** The app's public origin, e.g. "https://clickthread.example" (no trailing slash). */
  readonly appUrl: URL;
  readonly scopes: readonly string[];
  readonly apiVersion: ApiVersion;
  /** Where Shopify's app proxy forwards `/apps/clickthread/*` (shopify.app.toml [app_proxy] url). */
  readonly proxyPath: string;
  /** `postgres://…` puts the Shopify sessions in PostgreSQL; unset keeps them in SQLite. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** SQLite durability of the store (CLICKTHREAD_SQLITE_SYNC, default full); ignored on PostgreSQL. */
  readonly sqliteSync: SqliteSync;
  readonly port: number;
  /** 0 turns the periodic reconciliation off (it can still be run on demand). */
  readonly reconcileIntervalMs: number;
  /** How far back the first reconciliation of a shop looks. */
  readonly reconcileLookbackMs: number;
  /** Whether settled postbacks are written back to the order as tags. */
  readonly writeBack: boolean;
  /**
   * The app is approved for protected customer data (and has read_customers): reconciliation asks
   * for the customer and their order count, which lets it report first orders and use the customer
   * map. Without the approval such a query fails whole, so it is off by default.
   */
  readonly protectedCustomerData: boolean;
  /** App proxy captures one shopper (shop + address) may make per minute. */
  readonly proxyCapturesPerMinute: number;
  /** Postbacks may go to loopback/private addresses (local testing only; main.ts logs it loudly). */
  readonly allowPrivateTargets: boolean;
  /**
   * The operator token for /api/v1 (CLICKTHREAD_ADMIN_TOKEN): sees every merchant. Unset: the
   * embedded admin's session tokens and API tokens still work.
   */
  readonly adminToken: string | undefined;
  /**
   * Express `trust proxy` (CLICKTHREAD_TRUST_PROXY, read as the bridge reads it): which hops in front
   * of the app may say who the client is. `req.ip` — the app proxy's per-shopper budget and the API's
   * per-address limit — is the address the last trusted hop saw. Shopify's app proxy is one hop.
   */
  readonly trustProxy: TrustProxy;
  readonly logLevel: LogLevel;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof logLevels)[number];

const apiVersions = Object.values(ApiVersion) as [ApiVersion, ...ApiVersion[]];

const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveNumberText = (what: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `must be a number of ${what}`)
    .transform(Number);

const envSchema = z.object({
  SHOPIFY_API_KEY: z.string({ message: 'is required (the app\'s client id)' }).trim().min(1, 'is required (the app\'s client id)'),
  SHOPIFY_API_SECRET: z
    .string({ message: 'is required (the app\'s client secret)' })
    .min(16, 'is too short to be a Shopify client secret'),
  SHOPIFY_APP_URL: z
    .string({ message: 'is required (the public https URL of the app)' })
    .transform((value, ctx) => {
      try {
        return new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a URL' });
        return z.NEVER;
      }
    })
    .refine((u) => u.protocol === 'https:' || u.hostname === 'localhost' || u.hostname === '127.0.0.1', 'must be https (Shopify only calls https apps)')
    .refine((u) => u.pathname === '/' && u.search === '' && u.hash === '', 'must be an origin without path, query or fragment'),
  SCOPES: z
    .string()
    .default('read_orders,write_orders,write_app_proxy')
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .refine((scopes) => scopes.every((s) => /^(unauthenticated_)?(read|write)_[a-z_]+$/.test(s)), 'must be a comma-separated list of Shopify access scopes')
    .refine((scopes) => scopes.includes('read_orders') || scopes.includes('write_orders'), 'must include read_orders (or write_orders): reconciliation reads orders'),
  SHOPIFY_API_VERSION: z.enum(apiVersions, { message: `must be one of ${apiVersions.join(', ')}` }).default(ApiVersion.July26),
  SHOPIFY_APP_PROXY_PATH: z
    .string()
    .regex(/^\/[a-z0-9/_-]*[a-z0-9_-]$/, 'must be a path such as /proxy')
    .default('/proxy'),
  DATABASE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL (unset for SQLite)'),
  CLICKTHREAD_DATA_DIR: z.string().min(1).default('./data'),
  CLICKTHREAD_SQLITE_SYNC: sqliteSyncEnvField,
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a TCP port number')
    .transform(Number)
    .refine((n) => n <= 65535, 'must be at most 65535')
    .default(3000),
  SHOPIFY_RECONCILE_INTERVAL_MINUTES: positiveNumberText('minutes').default(15),
  SHOPIFY_RECONCILE_LOOKBACK_HOURS: positiveNumberText('hours')
    .refine((h) => h > 0 && h <= 24 * 60, 'must be between 0 and 1440 hours (Shopify keeps 60 days of orders readable)')
    .default(72),
  SHOPIFY_WRITE_BACK: booleanText.default(true),
  SHOPIFY_PROTECTED_CUSTOMER_DATA: booleanText.default(false),
  SHOPIFY_PROXY_CAPTURES_PER_MINUTE: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= 1, 'must be at least 1')
    .default(120),
  CLICKTHREAD_ALLOW_PRIVATE_TARGETS: booleanText.default(false),
  CLICKTHREAD_ADMIN_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')
    .max(512, 'must be at most 512 characters')
    // it travels as `Authorization: Bearer <token>`: one run of visible ASCII
    .regex(/^[\x21-\x7e]+$/, 'must be visible ASCII characters without spaces')
    // ct_… is the shape of API tokens; an operator token of that shape would be looked up as one
    .refine((t) => !t.startsWith('ct_'), 'must not start with ct_ (the prefix of API tokens)')
    .optional(),
  CLICKTHREAD_TRUST_PROXY: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const parsed = parseTrustProxy(value);
      if (parsed.ok) return parsed.value;
      ctx.addIssue({ code: 'custom', message: parsed.reason });
      return z.NEVER;
    }),
  CLICKTHREAD_LOG_LEVEL: z.enum(logLevels, { message: `must be one of ${logLevels.join(', ')}` }).default('info'),
}).superRefine((e, ctx) => {
  // reported once every field reads: the customer is read through read_customers
  if (e.SHOPIFY_PROTECTED_CUSTOMER_DATA && !e.SCOPES.includes('read_customers') && !e.SCOPES.includes('write_customers')) {
    ctx.addIssue({ code: 'custom', path: ['SHOPIFY_PROTECTED_CUSTOMER_DATA'], message: 'needs read_customers in SCOPES (and Shopify\'s approval for protected customer data)' });
  }
});

/** Validates the environment; every problem is reported at once in one ConfigError. */
export function loadShopifyConfig(env: Readonly<Record<string, string | undefined>>): ShopifyConfig {
  const parsed = envSchema.safeParse(
    // empty strings mean "unset" for optional settings, as in most .env files
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(environment)'}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    apiKey: e.SHOPIFY_API_KEY,
    apiSecret: e.SHOPIFY_API_SECRET,
    appUrl: e.SHOPIFY_APP_URL,
    scopes: e.SCOPES,
    apiVersion: e.SHOPIFY_API_VERSION,
    proxyPath: e.SHOPIFY_APP_PROXY_PATH,
    databaseUrl: e.DATABASE_URL === '' ? undefined : e.DATABASE_URL,
    dataDir: e.CLICKTHREAD_DATA_DIR,
    sqliteSync: e.CLICKTHREAD_SQLITE_SYNC,
    port: e.PORT,
    reconcileIntervalMs: e.SHOPIFY_RECONCILE_INTERVAL_MINUTES * 60_000,
    reconcileLookbackMs: e.SHOPIFY_RECONCILE_LOOKBACK_HOURS * 3_600_000,
    writeBack: e.SHOPIFY_WRITE_BACK,
    protectedCustomerData: e.SHOPIFY_PROTECTED_CUSTOMER_DATA,
    proxyCapturesPerMinute: e.SHOPIFY_PROXY_CAPTURES_PER_MINUTE,
    allowPrivateTargets: e.CLICKTHREAD_ALLOW_PRIVATE_TARGETS,
    adminToken: e.CLICKTHREAD_ADMIN_TOKEN,
    trustProxy: e.CLICKTHREAD_TRUST_PROXY,
    logLevel: e.CLICKTHREAD_LOG_LEVEL,
  };
}
