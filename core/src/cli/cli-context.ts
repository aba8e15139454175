import type { Clock } from '../ports/clock.ts';
import { createStore } from '../storage/create-store.ts';
import type { Store } from '../storage/store.ts';
import type { CliConfig } from './cli-config.ts';
import type { CliOutput } from './cli-output.ts';

/** What every command gets from the composition root (main.ts). */
export interface CliContext {
  readonly config: CliConfig;
  readonly output: CliOutput;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A failure the user can fix (bad input, unknown id): printed without a stack, exit code 1. */
export class CliFailure extends Error {
  readonly lines: readonly string[];
  constructor(lines: readonly string[]) {
    super(lines.join('\n'));
    this.name = 'CliFailure';
    this.lines = lines;
  }
}

/** Opens and migrates the configured store, runs `work`, and always closes it. */
export async function withStore<T>(ctx: CliContext, work: (store: Store) => Promise<T>): Promise<T> {
  const store = createStore({ databaseUrl: ctx.config.databaseUrl, sqlitePath: ctx.config.sqlitePath, sqliteSync: ctx.config.sqliteSync });
  try {
    await store.migrate();
    return await work(store);
  } finally {
    await store.close();
  }
}

export const defaultMerchantId = 'default';

/** The merchant offers belong to; "default" is created on first use, any other must exist. */
export async function merchantFor(ctx: CliContext, store: Store, merchantId: string): Promise<string> {
  if (merchantId === defaultMerchantId) {
    await store.createMerchant({ id: defaultMerchantId, name: 'Default merchant', now: ctx.clock.now() });
    return merchantId;
  }
  if (!(await store.getMerchant(merchantId))) throw new CliFailure([`merchant "${merchantId}" does not exist (merchants are created when a store is connected)`]);
  return merchantId;
}

/** Parses an ISO-8601 date or date-time option, naming the option on failure. */
export function parseTimeOption(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new CliFailure([`${name}: "${value}" is not an ISO-8601 date or time (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)`]);
  return at;
}

export function parseCountOption(name: string, value: string | undefined, fallback: number, max = 100_000): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new CliFailure([`${name}: "${value}" must be a whole number from 1 to ${max}`]);
  return Number(value);
}
