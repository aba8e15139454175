import { Kysely, PostgresDialect, sql } from 'kysely';
import { schemaChangeLockKey } from './run-migrations.ts';
import { Client, Pool } from 'pg';
import { ConfigError } from '../shared/errors.ts';
import type { Database } from './database.ts';
import { createKyselyStore } from './kysely-store.ts';
import type { Store } from './store.ts';

/**
 * PostgreSQL, for deployments with several web processes and workers sharing one database.
 * Workers claim with FOR UPDATE SKIP LOCKED (kysely-store.ts), so they never send the same job at
 * once. `schema` puts every table (and Kysely's migration tables) in a schema of its own, which is
 * how the contract tests give each run a fresh database without colliding.
 */

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** Defaults to "public". */
  readonly schema?: string;
  readonly poolSize?: number;
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export function createPostgresStore(options: PostgresStoreOptions): Store {
  const schema = options.schema ?? 'public';
  if (!schemaPattern.test(schema)) throw new ConfigError([`PostgreSQL schema "${schema}" must match ${schemaPattern.source}`]);
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    // Unqualified table names resolve in our schema on every pooled connection. No parallel query:
    // our statements are small OLTP reads and writes, and a parallel worker re-resolves the
    // search_path by name, which fails when another schema is dropped meanwhile (seen with
    // Kysely's migrator listing tables while concurrent test runs drop their schemas).
    options: `-c max_parallel_workers_per_gather=0${schema === 'public' ? '' : ` -c search_path=${schema}`}`,
  });
  // an idle client losing its connection must not crash the process; the next query reports it
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return createKyselyStore({
    db,
    dialect: 'postgres',
    migrationTableSchema: schema,
    // the worker's claims and settles do not wait for their WAL flush: a server crash can only
    // lose the last few, which makes those jobs be sent again; enqueues keep synchronous commits
    relaxed: (run) =>
      db.transaction().execute(async (trx) => {
        await sql`set local synchronous_commit = off`.execute(trx);
        return run(trx);
      }),
    beforeMigrate: async () => {
      if (schema === 'public') return;
      // concurrent first starts may race on CREATE SCHEMA IF NOT EXISTS; the loser's duplicate is harmless
      await pool.query(`create schema if not exists "${schema}"`).catch(async (error: unknown) => {
        const exists = await pool.query('select 1 from pg_namespace where nspname = $1', [schema]);
        if (exists.rowCount === 0) throw error;
      });
    },
  });
}

/** Drops a schema made for a test or benchmark run, with everything in it. */
export async function dropPostgresSchema(connectionString: string, schema: string): Promise<void> {
  if (!schemaPattern.test(schema) || schema === 'public') throw new ConfigError([`refusing to drop PostgreSQL schema "${schema}"`]);
  const client = new Client({ connectionString });
  await client.connect();
  try {
    // never while a migrator lists the database's tables (see run-migrations.ts)
    await client.query('select pg_advisory_lock($1)', [schemaChangeLockKey]);
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
