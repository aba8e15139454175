import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../shared/errors.ts';
import { isPostgresUrl } from '../storage/create-store.ts';
import { sqliteSyncEnvField, type SqliteSync } from '../storage/sqlite-store.ts';

/**
 * The CLI's configuration, from the environment, validated once: every problem in one error.
 *   DATABASE_URL                      postgres://… selects PostgreSQL; unset means SQLite
 *   CLICKTHREAD_DATA_DIR              where the SQLite file lives (default ./data)
 *   CLICKTHREAD_SQLITE_SYNC           SQLite durability, full (default) or normal
 *   CLICKTHREAD_ALLOW_PRIVATE_TARGETS 1/true lets postbacks reach loopback/private addresses (local testing only)
 *   CLICKTHREAD_LOG_LEVEL             pino level for the worker (default info)
 */

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['', '0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), 'must be 1/0, true/false, yes/no or on/off')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .refine((v) => v === undefined || v === '' || isPostgresUrl(v), 'must be a postgres:// or postgresql:// URL (leave it unset for the embedded SQLite database)'),
  CLICKTHREAD_DATA_DIR: z.string().trim().min(1, 'must not be empty when set').optional(),
  CLICKTHREAD_SQLITE_SYNC: sqliteSyncEnvField,
  CLICKTHREAD_ALLOW_PRIVATE_TARGETS: flag.optional(),
  CLICKTHREAD_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
});

export interface CliConfig {
  readonly databaseUrl: string | undefined;
  readonly sqlitePath: string;
  readonly sqliteSync: SqliteSync;
  readonly allowPrivateTargets: boolean;
  readonly logLevel: string;
}

export function loadCliConfig(env: Readonly<Record<string, string | undefined>>): CliConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL === '' ? undefined : e.DATABASE_URL,
    sqlitePath: join(e.CLICKTHREAD_DATA_DIR ?? 'data', 'clickthread.db'),
    sqliteSync: e.CLICKTHREAD_SQLITE_SYNC,
    allowPrivateTargets: e.CLICKTHREAD_ALLOW_PRIVATE_TARGETS ?? false,
    logLevel: e.CLICKTHREAD_LOG_LEVEL ?? 'info',
  };
}
