import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * How long one small SQLite commit takes on this disk, in WAL mode, with `synchronous = FULL`
 * (an fsync per commit: what the store uses, so an answered webhook survives a power cut) and
 * `NORMAL` (no fsync per commit in WAL). On a serialized writer this bounds webhooks per second
 * for any design that commits once per webhook.
 */
export function measureCommitLatency(commits = 100): { fullMs: number; normalMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'clickthread-bench-commit-'));
  try {
    const run = (mode: 'FULL' | 'NORMAL'): number => {
      const db = new Database(join(dir, `${mode}.db`));
      try {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${mode}`);
        db.exec('create table t (k integer primary key, v text not null)');
        const insert = db.prepare('insert into t (v) values (?)');
        const started = performance.now();
        for (let i = 0; i < commits; i += 1) {
          db.exec('begin immediate');
          insert.run('x');
          db.exec('commit');
        }
        return (performance.now() - started) / commits;
      } finally {
        db.close();
      }
    };
    return { fullMs: run('FULL'), normalMs: run('NORMAL') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
