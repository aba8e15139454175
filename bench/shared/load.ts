import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'undici';

/** One request of the load: each call should give a distinct order, so no work is skipped as a duplicate. */
export type RequestMaker = (sequence: number) => { readonly body: string; readonly headers: Record<string, string> };

export interface SaturationResult {
  /** Completed 2xx requests per second over the run. */
  readonly rps: number;
  readonly completed: number;
  /** Requests built and sent (some are still in flight when the run stops, so issued ≥ answered). */
  readonly issued: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly connections: number;
  readonly seconds: number;
  /** Latency percentiles of the closed loop (ms; autocannon's own histogram). */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * The maximum rate: autocannon, closed loop, `connections` keep-alive connections each sending its
 * next request as soon as the previous answer arrives, for `seconds`.
 */
export async function saturate(options: {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  makeRequest: RequestMaker;
  firstSequence?: number;
}): Promise<SaturationResult> {
  const first = options.firstSequence ?? 0;
  let sequence = first;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: options.path,
        setupRequest: (request) => {
          const next = options.makeRequest(sequence);
          sequence += 1;
          return { ...request, method: 'POST', path: options.path, body: next.body, headers: next.headers };
        },
      },
    ],
  });
  return {
    rps: result['2xx'] / options.seconds,
    completed: result['2xx'],
    issued: sequence - first,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    connections: options.connections,
    seconds: options.seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

export interface PacedResult {
  readonly rate: number;
  /** Requests sent, warm-up included (each a distinct order: the integrity check counts them). */
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Latencies of the timed part only (after the warm-up). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /**
   * The load generator's own event-loop delay, p99 (ms) over the timed part: a request due while
   * this process was stalled leaves late and is counted from its schedule, so this is the floor
   * under any p99 measured here (the machine's and the generator's jitter, not the server's).
   */
  readonly generatorDelayP99Ms: number;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/**
 * Latency at a fixed rate, open loop: requests leave on a schedule (every 1000/rate ms) whether or
 * not earlier ones have been answered, and each latency is measured from its scheduled time, so a
 * stalled server shows up in the figures instead of silently slowing the load (no coordinated
 * omission; autocannon's per-second rate limit sends bursts, which is why this is not autocannon).
 * Every request is built (and signed) before the clock starts, so the generator only sends; the
 * first `warmupSeconds` run at the same rate and are not counted: a cold pool opening its
 * connections while the schedule runs showed tens of ms of p99 against the bare server itself.
 */
export async function pacedLatency(options: {
  url: string;
  path: string;
  rate: number;
  seconds: number;
  makeRequest: RequestMaker;
  firstSequence?: number;
  warmupSeconds?: number;
}): Promise<PacedResult> {
  const pool = new Pool(options.url, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });
  const warm = Math.round(options.rate * (options.warmupSeconds ?? 1));
  const total = warm + Math.max(1, Math.round(options.rate * options.seconds));
  const first = options.firstSequence ?? 0;
  const requests = Array.from({ length: total }, (_, i) => options.makeRequest(first + i));
  const latencies = new Float64Array(total);
  let ok = 0;
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const start = performance.now() + 20;
  try {
    for (let i = 0; i < total; i += 1) {
      if (i === warm) loopDelay.enable();
      const due = start + (i * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait >= 1) await sleep(wait);
      const { body, headers } = requests[i] ?? options.makeRequest(first + i);
      // timers wake up to a millisecond early or late: a late request counts from its schedule (the
      // wait is the server's to answer for), an early one from when it left (never below zero)
      const from = Math.min(due, performance.now());
      pending.push(
        pool.request({ method: 'POST', path: options.path, headers, body }).then(
          async (answer) => {
            await answer.body.dump();
            latencies[i] = performance.now() - from;
            if (answer.statusCode >= 200 && answer.statusCode < 300) ok += 1;
            else failed += 1;
          },
          () => {
            latencies[i] = performance.now() - from;
            failed += 1;
          },
        ),
      );
    }
    await Promise.all(pending);
  } finally {
    loopDelay.disable();
    await pool.close();
  }
  const sorted = latencies.subarray(warm).toSorted();
  return {
    rate: options.rate,
    sent: total,
    ok,
    failed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    generatorDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
}
