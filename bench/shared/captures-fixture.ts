import Database from 'better-sqlite3';

/**
 * Fills the captures table of a migrated SQLite file with `count` visitor captures for one merchant,
 * fast: one INSERT … WITH RECURSIVE inside one transaction, on a loading connection without a
 * journal or fsync (this is fixture data, not the store's write path). Keys look like visitor
 * tokens and arrive in scattered order (an odd multiplier is a bijection mod 2^32), so the primary
 * key index is built as it would be by real traffic, not appended in order.
 */

export const fixtureMerchant = 'bench-merchant';

export function visitorKeyOf(n: number): string {
  const scrambled = Number((BigInt(n) * 2654435761n) % 4294967296n);
  return `vt_${scrambled.toString(16).padStart(8, '0')}${n.toString(16).padStart(8, '0')}`;
}

export function fillCaptures(path: string, count: number, batch = 2_500_000): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1000000');
    db.pragma('temp_store = MEMORY');
    const insert = db.prepare(`
      WITH RECURSIVE seq(n) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
      INSERT INTO captures (merchant_id, kind, key, transaction_id, param, extras, captured_at, domain)
      SELECT ?, 'visitor',
             'vt_' || printf('%08x', (n * 2654435761) % 4294967296) || printf('%08x', n),
             'tx' || printf('%012d', n), 'transaction_id', '{}',
             '2026-01-01T00:00:00.000Z', 'shop.example'
      FROM seq ORDER BY 3`);
    // n is bound as a JS number, which SQLite would take as REAL: cast, or n × 2654435761 loses
    // exactness past 2^53 (from n ≈ 3.4 M) and the keys stop matching visitorKeyOf.
    // Batches keep the recursive CTE's working set small; one transaction keeps it one commit.
    db.transaction(() => {
      for (let from = 0; from < count; from += batch) insert.run(from, Math.min(count, from + batch) - 1, fixtureMerchant);
    })();
  } finally {
    db.close();
  }
}
