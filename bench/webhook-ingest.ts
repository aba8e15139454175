// Webhook ingest: signed Shopify orders/paid and Woo order.updated webhooks through the REAL apps
// (verify, parse, resolve, dedupe, enqueue in SQLite, 200), each request a distinct order, beside a
// bare node:http server on the same machine through the same load generator, and beside an
// "inline" design that fires the postback inside the request. `node bench/webhook-ingest.ts`
// Each server runs in its own process; the load generator runs here. Each app runs twice, with
// CLICKTHREAD_SQLITE_SYNC=full (the default: a webhook is answered once its job's WAL is fsynced)
// and normal (answered once committed; survives kill -9, not a power cut).
import { createStore, defaultSqliteSync, sqliteSyncModes, type SqliteSync } from '@clickthread/core/storage';
import { emitRow } from './shared/bench-report.ts';
import { measureCommitLatency } from './shared/commit-latency.ts';
import { startChildServer, type ChildServer } from './shared/child-server.ts';
import { pacedLatency, saturate, type RequestMaker, type SaturationResult } from './shared/load.ts';
import { readLoopDelay } from './shared/server-loop-delay.ts';
import { benchShop, shopifyOrderPaidTemplate, signShopify, signWoo, wooOrderUpdatedTemplate } from './fixtures/webhook-requests.ts';
import type { IngestServerInfo } from './servers/ingest-app-server.ts';

const connections = Number(process.env['BENCH_CONNECTIONS'] ?? '32');
const seconds = Number(process.env['BENCH_SECONDS'] ?? '8');
const latencySeconds = Number(process.env['BENCH_LATENCY_SECONDS'] ?? '5');
const warmupSeconds = 2;
const trackerDelayMs = 200;
const minRatio = 0.6;
const maxP99Ms = 5;

const shopifyBody = shopifyOrderPaidTemplate();
const wooBody = wooOrderUpdatedTemplate();
/** Order ids far from anything else, distinct per request across every phase of one app. */
const orderIdOf = (sequence: number): string => String(5_000_000_000 + sequence);

function shopifyRequests(secret: string): RequestMaker {
  return (sequence) => {
    const id = orderIdOf(sequence);
    const body = shopifyBody(id, `tx${id}`);
    return { body, headers: signShopify(body, secret, benchShop, id) };
  };
}

function wooRequests(secret: string, source: string, webhookId: number): RequestMaker {
  return (sequence) => {
    const id = orderIdOf(sequence);
    const body = wooBody(id, `tx${id}`);
    return { body, headers: signWoo(body, secret, source, webhookId) };
  };
}

interface BareInfo {
  readonly url: string;
}

/** The bench servers that check a Shopify signature without an app behind them share this secret. */
const contextSecret = 'shpss_bench_secret_0123456789abcdef';
const contextRequests = shopifyRequests(contextSecret);

/** A saturation run with the CPU it cost: the server's (all its threads) and this load generator's, per answered request (µs). */
interface Costed extends SaturationResult {
  readonly serverCpuUs: number;
  /** The server's main thread alone: its event loop, where every request's JavaScript and SQLite statements run. */
  readonly serverMainCpuUs: number;
  readonly generatorCpuUs: number;
}

async function costed(server: ChildServer<unknown>, run: () => Promise<SaturationResult>): Promise<Costed> {
  const serverBefore = server.cpuSeconds();
  const mainBefore = server.mainThreadCpuSeconds();
  const generatorBefore = process.cpuUsage();
  const result = await run();
  const generator = process.cpuUsage(generatorBefore);
  const requests = Math.max(result.completed, 1);
  return {
    ...result,
    serverCpuUs: ((server.cpuSeconds() - serverBefore) * 1e6) / requests,
    serverMainCpuUs: ((server.mainThreadCpuSeconds() - mainBefore) * 1e6) / requests,
    generatorCpuUs: (generator.user + generator.system) / requests,
  };
}

const cpuText = (run: Costed): string =>
  `CPU per request: server ${run.serverCpuUs.toFixed(0)} µs (main thread ${run.serverMainCpuUs.toFixed(0)}), load generator ${run.generatorCpuUs.toFixed(0)} µs`;

const started = performance.now();
const bare: ChildServer<BareInfo> = await startChildServer<BareInfo>('servers/bare-http-server.ts');
await saturate({ url: bare.info.url, path: '/webhooks/orders/paid', connections, seconds: warmupSeconds, makeRequest: contextRequests });
const bareMax = await costed(bare, () => saturate({ url: bare.info.url, path: '/webhooks/orders/paid', connections, seconds, makeRequest: contextRequests }));
console.log(`bare node:http: ${bareMax.rps.toFixed(0)} req/s with ${connections} connections (p50 ${bareMax.p50Ms} ms, p99 ${bareMax.p99Ms} ms); ${cpuText(bareMax)}`);

/** A context server (started with the shared secret) warmed up and saturated, then stopped. */
async function saturateContext(script: string, label: string): Promise<Costed> {
  const server = await startChildServer<BareInfo>(script, [contextSecret]);
  try {
    await saturate({ url: server.info.url, path: '/webhooks/orders/paid', connections, seconds: warmupSeconds, makeRequest: contextRequests });
    const max = await costed(server, () => saturate({ url: server.info.url, path: '/webhooks/orders/paid', connections, seconds, makeRequest: contextRequests }));
    console.log(`${label}: ${max.rps.toFixed(0)} req/s (p50 ${max.p50Ms} ms, p99 ${max.p99Ms} ms), ${max.non2xx} refused; ${cpuText(max)}`);
    return max;
  } finally {
    await server.stop();
  }
}

// The same requests through Express with the app's verification and parse but no storage: the
// ceiling of any design that checks each webhook before answering it.
const verifyOnly = await saturateContext('servers/verify-only-server.ts', 'Express + verify + parse, no storage');
emitRow({
  bench: 'webhook ingest (context: Shopify orders/paid without storage)',
  metric: `req/s saturated (${connections} conn, ${seconds} s): Express + raw body + HMAC + lossless JSON parse, 200`,
  value: verifyOnly.rps,
  unit: 'req/s',
  ceiling: { label: 'bare node:http', value: bareMax.rps },
  note:
    verifyOnly.non2xx === 0
      ? `the request path every checked webhook pays before storage and planning; server CPU ${verifyOnly.serverCpuUs.toFixed(0)} µs per request (bare ${bareMax.serverCpuUs.toFixed(0)})`
      : `CHECK: ${verifyOnly.non2xx} refused`,
});

// The floor: the least any durable design can do per webhook (node:http, HMAC, JSON.parse, one
// prepared INSERT, SQLite synchronous=NORMAL). Its ratio to the bare server is the most any
// design that stores each webhook before answering can reach on this machine; the app's rows are
// read against it too.
const floor = await saturateContext('servers/durable-floor-server.ts', 'durable floor (node:http + HMAC + JSON.parse + one INSERT)');
emitRow({
  bench: 'webhook ingest (context: the least a durable design can do)',
  metric: `req/s saturated (${connections} conn, ${seconds} s): node:http + raw body + HMAC + JSON.parse + one prepared SQLite INSERT (sync=normal), 200`,
  value: floor.rps,
  unit: 'req/s',
  ceiling: { label: 'bare node:http', value: bareMax.rps },
  note:
    floor.non2xx === 0
      ? `no framework, no ID chain, no offers, no template, no receipt: the most any design that stores each webhook before answering can reach here; server CPU ${floor.serverCpuUs.toFixed(0)} µs per request (bare ${bareMax.serverCpuUs.toFixed(0)})`
      : `CHECK: ${floor.non2xx} refused`,
});

interface AppFigures {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function benchApp(kind: 'shopify' | 'woo', sync: SqliteSync): Promise<AppFigures> {
  const label = `${kind === 'shopify' ? 'Shopify orders/paid' : 'Woo order.updated'}, SQLite sync=${sync}${sync === defaultSqliteSync ? ' (default)' : ''}`;
  const bench = `webhook ingest (${label})`;
  const server = await startChildServer<IngestServerInfo>('servers/ingest-app-server.ts', [kind], { env: { NODE_ENV: 'production', CLICKTHREAD_SQLITE_SYNC: sync } });
  try {
    const { url, path, secret } = server.info;
    const makeRequest = kind === 'shopify' ? shopifyRequests(secret) : wooRequests(secret, server.info.source ?? '', server.info.webhookId ?? 1);
    let sequence = 0;
    const warm = await saturate({ url, path, connections, seconds: warmupSeconds, makeRequest, firstSequence: sequence });
    sequence += warm.issued;
    const max = await costed(server, () => saturate({ url, path, connections, seconds, makeRequest, firstSequence: sequence }));
    sequence += max.issued;
    const rate = Math.max(1, Math.round(max.rps / 2));
    await readLoopDelay(url);
    const paced = await pacedLatency({ url, path, rate, seconds: latencySeconds, makeRequest, firstSequence: sequence });
    const stalls = await readLoopDelay(url);
    await readLoopDelay(bare.info.url);
    const bareAtRate = await pacedLatency({ url: bare.info.url, path, rate, seconds: latencySeconds, makeRequest });
    const bareStalls = await readLoopDelay(bare.info.url);

    // every accepted request must have stored its job, otherwise the rate is not ingest (requests still
    // in flight when a run stopped may have stored theirs without being counted as answered)
    const accepted = warm.completed + max.completed + paced.ok;
    const issued = warm.issued + max.issued + paced.sent;
    const check = createStore({ sqlitePath: server.info.dbPath });
    const counts = await check.countJobs();
    await check.close();
    const stored = counts.pending + counts.in_flight + counts.succeeded + counts.failed + counts.dead;
    const refused = warm.non2xx + max.non2xx + paced.failed + max.errors + max.timeouts;
    console.log(
      `${label}: ${max.rps.toFixed(0)} req/s saturated (${cpuText(max)}); at ${rate} req/s p50 ${paced.p50Ms.toFixed(2)} ms p99 ${paced.p99Ms.toFixed(2)} ms ` +
        `(bare at the same rate: p50 ${bareAtRate.p50Ms.toFixed(2)} p99 ${bareAtRate.p99Ms.toFixed(2)}; generator loop delay p99 ${paced.generatorDelayP99Ms.toFixed(1)} ms; server loop delay p99 ${stalls.p99Ms.toFixed(1)} max ${stalls.maxMs.toFixed(1)} ms, bare's ${bareStalls.p99Ms.toFixed(1)} / ${bareStalls.maxMs.toFixed(1)} ms); ${stored} jobs stored for ${accepted} answered 200 of ${issued} sent, ${refused} refused or failed`,
    );
    const complete = stored >= accepted && stored <= issued && refused === 0;
    const integrity = complete
      ? `every 200 stored its job (${stored} jobs, ${accepted} answered, ${issued} sent)`
      : `CHECK: ${stored} jobs for ${accepted} answered of ${issued} sent, ${refused} refused/failed`;
    emitRow({
      bench,
      metric: `req/s saturated (${connections} conn, ${seconds} s)`,
      value: max.rps,
      unit: 'req/s',
      ceiling: { label: 'bare node:http', value: bareMax.rps },
      target: `≥ ${minRatio}× bare`,
      met: max.rps >= minRatio * bareMax.rps && complete,
      note: `${integrity}; ${(max.rps / Math.max(floor.rps, 1)).toFixed(2)}× the durable floor (${floor.rps.toFixed(0)} req/s)`,
    });
    // the throughput ratio read as CPU: the server and the load generator share the two cores
    emitRow({
      bench,
      metric: 'server CPU per webhook at saturation (all threads)',
      value: max.serverCpuUs,
      unit: 'µs',
      ceiling: { label: 'bare node:http', value: bareMax.serverCpuUs },
      note: `main thread ${max.serverMainCpuUs.toFixed(0)} µs (bare ${bareMax.serverMainCpuUs.toFixed(0)}); durable floor ${floor.serverCpuUs.toFixed(0)} µs, Express + verify + parse ${verifyOnly.serverCpuUs.toFixed(0)} µs; load generator ${max.generatorCpuUs.toFixed(0)} µs per request (bare run ${bareMax.generatorCpuUs.toFixed(0)} µs)`,
    });
    emitRow({
      bench,
      metric: `p50 latency at ${rate} req/s (half max, open loop)`,
      value: paced.p50Ms,
      unit: 'ms',
      ceiling: { label: 'bare at same rate', value: bareAtRate.p50Ms },
    });
    emitRow({
      bench,
      metric: `p99 latency at ${rate} req/s (half max, open loop)`,
      value: paced.p99Ms,
      unit: 'ms',
      ceiling: { label: 'bare at same rate', value: bareAtRate.p99Ms },
      target: `< ${maxP99Ms} ms`,
      met: paced.p99Ms < maxP99Ms,
      note:
        `max ${paced.maxMs.toFixed(1)} ms; the server's own event-loop delay over the run p99 ${stalls.p99Ms.toFixed(1)} ms, max ${stalls.maxMs.toFixed(1)} ms ` +
        `(bare: ${bareStalls.p99Ms.toFixed(1)} / ${bareStalls.maxMs.toFixed(1)} ms), a stall queues the requests arriving during it; the load generator's own event-loop delay p99 ${paced.generatorDelayP99Ms.toFixed(1)} ms (bare run: ${bareAtRate.generatorDelayP99Ms.toFixed(1)} ms), a floor under any p99 read here`,
    });
    return { rps: max.rps, p50Ms: paced.p50Ms, p99Ms: paced.p99Ms };
  } finally {
    await server.stop();
  }
}

const figures = new Map<string, AppFigures>();
for (const kind of ['shopify', 'woo'] as const) {
  for (const sync of sqliteSyncModes) figures.set(`${kind}:${sync}`, await benchApp(kind, sync));
}
const shopify = figures.get(`shopify:${defaultSqliteSync}`) ?? { rps: 0, p50Ms: 0, p99Ms: 0 };
await bare.stop();

// The inline design: every webhook waits for the network's answer before it is acknowledged.
interface UrlInfo {
  readonly url: string;
}
const tracker = await startChildServer<UrlInfo>('servers/slow-tracker-server.ts', [String(trackerDelayMs)]);
const inline = await startChildServer<{ url: string; path: string }>('servers/inline-webhook-server.ts', [contextSecret, tracker.info.url]);
try {
  const max = await saturate({ url: inline.info.url, path: inline.info.path, connections, seconds, makeRequest: contextRequests });
  console.log(`inline design: ${max.rps.toFixed(1)} req/s with ${connections} connections, p50 ${max.p50Ms} ms, p99 ${max.p99Ms} ms (tracker answers in ${trackerDelayMs} ms)`);
  emitRow({
    bench: `webhook ingest (Shopify orders/paid, SQLite sync=${defaultSqliteSync})`,
    metric: `req/s saturated vs inline design (${connections} conn)`,
    value: shopify.rps,
    unit: 'req/s',
    ceiling: { label: `inline: Express + official validate + postback in request, tracker ${trackerDelayMs} ms`, value: max.rps },
    note: `inline p50 ${max.p50Ms} ms, p99 ${max.p99Ms} ms (closed loop)`,
  });
} finally {
  await inline.stop();
  await tracker.stop();
}
// what one durable commit costs on this disk explains most of the gap to the bare server
const commit = measureCommitLatency();
emitRow({
  bench: 'webhook ingest (context)',
  metric: 'SQLite WAL commit, synchronous=FULL (fsync)',
  value: commit.fullMs,
  unit: 'ms',
  ceiling: { label: 'synchronous=NORMAL', value: commit.normalMs },
  note: `≈ ${Math.round(1000 / commit.fullMs)} durable commits/s for one writer`,
});
console.log(`webhook ingest: ${((performance.now() - started) / 1000).toFixed(0)} s`);
