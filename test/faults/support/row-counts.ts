import type { Store } from '@clickthread/core/storage';
// The Store port has no "count everything"; the fault suite reads the tables behind it to prove
// that a rejected request stored nothing at all (not just no job).
import { storeDatabaseOf } from '@clickthread/core/storage';

const tables = [
  'merchants',
  'stores',
  'merchant_domains',
  'offers',
  'captures',
  'order_links',
  'jobs',
  'attempts',
  'webhook_receipts',
  'unattributed_orders',
] as const;

export type RowCounts = Record<(typeof tables)[number], number>;

export async function rowCounts(store: Store): Promise<RowCounts> {
  const database = storeDatabaseOf(store);
  if (!database) throw new Error('rowCounts needs a Kysely-backed store');
  const counts: Partial<RowCounts> = {};
  for (const table of tables) {
    const row = await database.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts as RowCounts;
}
