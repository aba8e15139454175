// The least any durable ingest can do per webhook, as a floor for the ingest benchmark: node:http
// without a framework, the raw body, HMAC-SHA256 compared in constant time, JSON.parse, ONE
// prepared INSERT keyed by the order (a duplicate stores nothing), 200. SQLite WAL with
// synchronous=NORMAL (a commit survives kill -9, not a power cut): the cheapest durability there is.
// No ID chain, no offers, no template, no receipt: what the app must do before it answers (DESIGN.md,
// "stores the job in the outbox in the same transaction as the idempotency key") is on top of this.
// `node bench/servers/durable-floor-server.ts <secret>`
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { onTerminate, serveOnLoopback } from '../shared/child-server.ts';

const secret = process.argv[2];
if (!secret) {
  console.error('usage: durable-floor-server.ts <secret>');
  process.exit(2);
}
const maxBodyBytes = 2 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'clickthread-bench-floor-'));
const db = new Database(join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('create table jobs (key text primary key, order_id text not null, amount text not null, created_at text not null)');
const insert = db.prepare('insert into jobs (key, order_id, amount, created_at) values (?, ?, ?, ?) on conflict do nothing');

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxBodyBytes) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > maxBodyBytes) return answer(res, 413, '{"error":"too large"}');
    const raw = Buffer.concat(chunks);
    const header = req.headers['x-shopify-hmac-sha256'];
    const given = Buffer.from(typeof header === 'string' ? header : '', 'base64');
    const expected = createHmac('sha256', secret).update(raw).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return answer(res, 401, '{"error":"bad signature"}');
    let order: { id?: unknown; total_price?: unknown };
    try {
      order = JSON.parse(raw.toString('utf8')) as { id?: unknown; total_price?: unknown };
    } catch {
      return answer(res, 400, '{"error":"not JSON"}');
    }
    const id = String(order.id);
    insert.run(`${id}:sale`, id, String(order.total_price), new Date().toISOString());
    return answer(res, 200, '{"ok":true,"jobs":1}');
  });
});
onTerminate(async () => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
await serveOnLoopback(server);
