// Memory and ID lookup: `node bench/memory.ts`.
// - Idle RSS of each app in its own process after start (a bare node:http process beside it).
// - Looking a visitor's capture up by key (the ID chain's hot read) with CLICKTHREAD_BENCH_CAPTURES
//   captures stored in SQLite (default 10 M), through the Store port, beside a raw better-sqlite3
//   prepared statement on the same file.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { createStore } from '@clickthread/core/storage';
import { emitRow } from './shared/bench-report.ts';
import { fillCaptures, fixtureMerchant, visitorKeyOf } from './shared/captures-fixture.ts';
import { startChildServer } from './shared/child-server.ts';
import { percentile } from './shared/load.ts';

const idleMs = 3_000;
const mib = 2 ** 20;

/** RSS after idling; NaN (and a failed run) when the server does not start, so the other figures still come. */
async function idleRss(script: string, args: readonly string[] = []): Promise<number> {
  let server;
  try {
    server = await startChildServer<unknown>(script, args, { env: { NODE_ENV: 'production' } });
  } catch (error) {
    console.error(`memory: ${script} ${args.join(' ')} did not start:`, error);
    process.exitCode = 1;
    return Number.NaN;
  }
  try {
    await sleep(idleMs);
    return server.rssBytes();
  } finally {
    await server.stop();
  }
}

const bareRss = await idleRss('servers/bare-http-server.ts');
for (const [kind, label] of [
  ['shopify', 'Shopify app'],
  ['woo', 'WooCommerce bridge'],
] as const) {
  const rss = await idleRss('servers/ingest-app-server.ts', [kind]);
  if (Number.isNaN(rss)) continue;
  console.log(`${label}: idle RSS ${(rss / mib).toFixed(1)} MiB (bare node:http ${(bareRss / mib).toFixed(1)} MiB)`);
  emitRow({
    bench: 'memory',
    metric: `${label} idle RSS (own process, SQLite, ${idleMs / 1000} s after start)`,
    value: rss / mib,
    unit: 'MiB',
    ceiling: { label: 'bare node:http process', value: bareRss / mib },
  });
}

// The first start on a fresh clone builds the admin UI with Vite, in the same process (see
// admin-ui-state.ts), and 3 s later its RSS was 532 MiB, not the 178 of every later start: start it
// once unmeasured, so the figure is the one a running install has.
if (Number.isNaN(await idleRss('servers/composed-server.ts'))) console.error('memory: the first start (admin UI build) failed; measuring a second start anyway');
const wholeRss = await idleRss('servers/composed-server.ts');
console.log(`whole system (pnpm start): idle RSS ${(wholeRss / mib).toFixed(1)} MiB`);
if (!Number.isNaN(wholeRss)) emitRow({
  bench: 'memory',
  metric: `whole system idle RSS (pnpm start: bridge + Shopify app + worker, one process, ${idleMs / 1000} s after start)`,
  value: wholeRss / mib,
  unit: 'MiB',
  ceiling: { label: 'bare node:http process', value: bareRss / mib },
  note: 'every process here runs TypeScript through Node\'s type stripping, the bare one included',
});

// ID lookup with many stored captures
const count = Number(process.env['CLICKTHREAD_BENCH_CAPTURES'] ?? '10000000');
const lookups = Number(process.env['CLICKTHREAD_BENCH_LOOKUPS'] ?? '20000');
const dir = mkdtempSync(join(tmpdir(), 'clickthread-bench-captures-'));
try {
  const path = join(dir, 'clickthread.db');
  const setup = createStore({ sqlitePath: path });
  await setup.migrate();
  await setup.close();
  const filling = performance.now();
  fillCaptures(path, count);
  const fillSeconds = (performance.now() - filling) / 1000;
  console.log(`${count.toLocaleString('en-US')} captures stored in ${fillSeconds.toFixed(1)} s (${(statSync(path).size / mib).toFixed(0)} MiB)`);

  // the same pseudo-random keys for both, half of them present, half absent (a visitor never seen)
  let seed = 12345;
  const nextRandom = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  const keys = Array.from({ length: lookups }, (_, i) => (i % 2 === 0 ? visitorKeyOf(nextRandom() % count) : `vt_absent_${nextRandom()}`));

  const timeEach = async (lookup: (key: string) => unknown): Promise<Float64Array> => {
    const times = new Float64Array(keys.length);
    for (const [i, key] of keys.entries()) {
      const started = performance.now();
      await lookup(key);
      times[i] = (performance.now() - started) * 1000;
    }
    return times.toSorted();
  };

  const raw = new Database(path, { readonly: true });
  const statement = raw.prepare('select * from captures where merchant_id = ? and kind = ? and key = ?');
  const store = createStore({ sqlitePath: path });
  try {
    // warm both paths on other keys, so neither pays for the first page reads of the index alone
    for (let i = 0; i < 2_000; i += 1) {
      const key = visitorKeyOf(nextRandom() % count);
      statement.get(fixtureMerchant, 'visitor', key);
      await store.getCapture(fixtureMerchant, 'visitor', key);
    }
    const found = await store.getCapture(fixtureMerchant, 'visitor', visitorKeyOf(count - 1));
    if (found?.transactionId !== `tx${String(count - 1).padStart(12, '0')}`) throw new Error('the fixture capture was not found through the store');
    const viaStore = await timeEach((key) => store.getCapture(fixtureMerchant, 'visitor', key));
    const viaRaw = await timeEach((key) => statement.get(fixtureMerchant, 'visitor', key));
    const scale = count >= 1_000_000 ? `${count / 1_000_000} M` : count.toLocaleString('en-US');
    console.log(
      `lookup by key with ${scale} captures: store p50 ${percentile(viaStore, 50).toFixed(1)} µs p99 ${percentile(viaStore, 99).toFixed(1)} µs; ` +
        `raw statement p50 ${percentile(viaRaw, 50).toFixed(1)} µs p99 ${percentile(viaRaw, 99).toFixed(1)} µs`,
    );
    for (const p of [50, 99] as const) {
      emitRow({
        bench: 'ID lookup (captures by key, SQLite)',
        metric: `p${p} with ${scale} captures stored (${lookups.toLocaleString('en-US')} lookups, half misses)`,
        value: percentile(viaStore, p),
        unit: 'µs',
        ceiling: { label: 'raw better-sqlite3 statement', value: percentile(viaRaw, p) },
        ...(p === 99 ? { note: `fixture written in ${fillSeconds.toFixed(0)} s, ${(statSync(path).size / mib).toFixed(0)} MiB` } : {}),
      });
    }
  } finally {
    raw.close();
    await store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
